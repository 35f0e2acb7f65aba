import type { ValueEntry } from './types.js';

/**
 * A value as the parser read it (a text `VALUE` block, or a plain hit of a meta read batch): a value
 * entry whose `data` view of the chunk is made only when asked for (the default serializer decodes
 * straight from `buf[start, end)`, so a hit costs no Buffer object).
 */
export class Hit implements ValueEntry {
  #data: Buffer | undefined = undefined;

  constructor(
    public key: string, readonly flags: number, readonly cas: string | undefined,
    readonly buf: Buffer, readonly start: number, readonly end: number,
  ) {}

  /** The value's bytes: a view of the chunk it arrived in (keeps that chunk alive). */
  get data(): Buffer {
    return (this.#data ??= this.buf.subarray(this.start, this.end));
  }
}

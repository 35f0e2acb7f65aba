import type { ValueEntry } from './types.js';

/** The largest item memcached can hold (`-I 1024m`): no `VALUE`/`VA` line can truthfully claim more. */
export const MAX_ITEM_BYTES = 1 << 30;

/**
 * Stands in for the bytes of a value the parser read and dropped because it was over
 * `maxValueBytes` (`ParserOptions.dropValuesUpTo`): a `Hit` over it spans `[0, claimed size)`, a meta
 * reply carries it as its `data`. Whoever decodes a value checks for it (a typed error for that key).
 */
export const TOO_LARGE: Buffer = Buffer.from('<value over maxValueBytes, read and dropped>', 'latin1');

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

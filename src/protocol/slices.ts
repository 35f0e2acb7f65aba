/**
 * Strings out of Buffer ranges without `Buffer#toString`'s argument handling and encoding lookup:
 * Node's `utf8Slice`/`latin1Slice` (on `Buffer.prototype` since Node 0.x, used by `toString`
 * itself), with `toString` as the fallback should a runtime lack them. Replies decode a key and a
 * value per hit, so this is on the hot path of every read.
 */
interface Sliceable {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

const native = typeof (Buffer.prototype as unknown as Partial<Sliceable>).utf8Slice === 'function'
  && typeof (Buffer.prototype as unknown as Partial<Sliceable>).latin1Slice === 'function';

/** `buf.toString('utf8', start, end)`. */
export const utf8Of: (buf: Buffer, start: number, end: number) => string = native
  ? (buf, start, end) => (buf as unknown as Sliceable).utf8Slice(start, end)
  : (buf, start, end) => buf.toString('utf8', start, end);

/**
 * A key as UTF-8 (keys are UTF-8 on the wire): decoded as Latin-1 when every byte is ASCII, which
 * gives the same string and skips the UTF-8 decoder (keys are short and almost always ASCII).
 */
export function keyOf(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return utf8Of(buf, start, end);
  return latin1Of(buf, start, end);
}

/** `buf.toString('latin1', start, end)`. */
export const latin1Of: (buf: Buffer, start: number, end: number) => string = native
  ? (buf, start, end) => (buf as unknown as Sliceable).latin1Slice(start, end)
  : (buf, start, end) => buf.toString('latin1', start, end);

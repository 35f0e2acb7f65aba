/**
 * Key validation for the memcached text protocol.
 *
 * The server does not check key characters (see shared/memcached-facts.md): a space splits the key
 * and `\r\n` starts a new command, so `a 0 0 1\r\nx` injects a request. Every key must therefore
 * pass through {@link validateKey} before a single byte is written.
 */
import { InvalidKeyError } from '../errors.js';

/** The longest key memcached accepts, in UTF-8 bytes (not JS characters). */
export const MAX_KEY_BYTES = 250;

/**
 * Checks that `key` can be written on the wire as a single memcached key, and returns its UTF-8
 * byte length (callers need it to size multi-get batches, so it is never computed twice).
 *
 * A valid key is a string of 1 to {@link MAX_KEY_BYTES} UTF-8 bytes, none of them <= 0x20 (space
 * and control bytes) or 0x7f (DEL), and holds no lone UTF-16 surrogate (it would be encoded as
 * U+FFFD, so the key read back would differ from the key written).
 *
 * @throws {InvalidKeyError} with a message that says exactly what is wrong.
 */
export function validateKey(key: unknown): number {
  if (typeof key !== 'string') {
    throw new InvalidKeyError(`key must be a string, got ${describe(key)}`, describe(key));
  }
  const n = key.length;
  if (n === 0) throw new InvalidKeyError('key must not be empty', key);
  // Every UTF-16 code unit encodes to at least one byte, so this can only under-count.
  if (n > MAX_KEY_BYTES) throw tooLong(key, Buffer.byteLength(key, 'utf8'));

  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x80) {
      if (c <= 0x20 || c === 0x7f) throw badByte(key, i, c, ascii);
      continue;
    }
    ascii = false;
    if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate is fine only when a low one follows; a low one on its own never is.
      const next = i + 1 < n ? key.charCodeAt(i + 1) : 0;
      if (c >= 0xdc00 || next < 0xdc00 || next > 0xdfff) {
        throw new InvalidKeyError(
          `key contains a lone UTF-16 surrogate 0x${c.toString(16)} at character index ${i} (it cannot round-trip through UTF-8)`,
          key,
        );
      }
      i++;
    }
  }
  if (ascii) return n;
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) throw tooLong(key, bytes);
  return bytes;
}

function tooLong(key: string, bytes: number): InvalidKeyError {
  return new InvalidKeyError(`key is ${bytes} bytes > ${MAX_KEY_BYTES} (UTF-8 bytes, not characters)`, key);
}

function badByte(key: string, index: number, byte: number, asciiSoFar: boolean): InvalidKeyError {
  // Before the first non-ASCII character the character index is the byte index; after it, count.
  const byteIndex = asciiSoFar ? index : Buffer.byteLength(key.slice(0, index), 'utf8');
  const name = byte === 0x20 ? 'space' : byte === 0x7f ? 'DEL' : 'control byte';
  return new InvalidKeyError(
    `key contains forbidden byte 0x${byte.toString(16).padStart(2, '0')} (${name}) at byte index ${byteIndex}`,
    key,
  );
}

/** A short description of a non-string key that cannot itself throw (unlike `String(x)`). */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'array' : 'object';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value;
}

/**
 * Byte-level helpers shared by the reply grammars (text and meta) and the parser that frames
 * lines and data blocks for them. Internal to the protocol layer.
 */
import { utf8Of } from './slices.js';
import type { Reply } from './types.js';

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const D0 = 48;
export const MAX_KEY_BYTES = 250;
const UINT64_MAX = '18446744073709551615';

export const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * What a grammar can do with the line it was given: answer the oldest expectation, declare a
 * protocol error, or announce that a data block of `size` bytes (+ `\r\n`) follows, which the
 * parser reads (zero-copy when it can) and hands back to the grammar's `data`.
 */
export interface GrammarSink {
  answer(reply: Reply): void;
  fail(message: string): void;
  beginData(size: number): void;
}

/**
 * The index, from `from` on, of the key in `keys` whose UTF-8 bytes are `buf[start, end)`; -1 if
 * none. Hits come in request order, so the first candidate is almost always the one: a reply's key
 * is matched without decoding it, and the hit carries the request's own key string.
 */
export function matchKey(buf: Buffer, start: number, end: number, keys: readonly string[], from: number): number {
  const n = end - start;
  next: for (let i = from; i < keys.length; i++) {
    const k = keys[i]!;
    if (k.length > n) continue; // a key has at least one byte per UTF-16 unit
    for (let j = 0; j < k.length; j++) {
      const c = k.charCodeAt(j);
      if (c >= 0x80) {
        if (utf8Of(buf, start, end) === k) return i;
        continue next;
      }
      if (buf[start + j] !== c) continue next;
    }
    if (k.length === n) return i;
  }
  return -1;
}

/** A grammar: the lines of the kinds it owns, the data blocks it announced, and a reset on failure. */
export interface Grammar {
  /** One complete line `buf[start, end)` (without `\r\n`) for the oldest expectation. */
  line(buf: Buffer, start: number, end: number, kind: string, maxValues: number, keys: readonly string[] | undefined): void;
  /** The data block announced by `beginData`, complete and followed by `\r\n`. */
  data(buf: Buffer, start: number, end: number): void;
  /** Drops any half-built reply (the parser failed). */
  reset(): void;
}

const ERROR_WORDS: ReadonlyArray<[Buffer, 'error' | 'client_error' | 'server_error']> = [
  [bytes('ERROR'), 'error'], [bytes('CLIENT_ERROR'), 'client_error'], [bytes('SERVER_ERROR'), 'server_error'],
];

export type ErrorReply = { kind: 'error' | 'client_error' | 'server_error'; message: string };

/** `ERROR [msg]`, `CLIENT_ERROR [msg]` or `SERVER_ERROR [msg]` as a reply, else null. */
export function errorLine(buf: Buffer, start: number, end: number): ErrorReply | null {
  for (const [word, kind] of ERROR_WORDS) {
    if (!startsWith(buf, start, end, word)) continue;
    const p = start + word.length;
    if (p === end) return { kind, message: '' };
    return buf[p] === SP ? { kind, message: buf.toString('utf8', p + 1, end) } : null;
  }
  return null;
}

export function startsWith(buf: Buffer, start: number, end: number, lit: Buffer): boolean {
  const n = lit.length;
  if (end - start < n) return false;
  for (let i = 0; i < n; i++) if (buf[start + i] !== lit[i]) return false;
  return true;
}

export function equals(buf: Buffer, start: number, end: number, lit: Buffer): boolean {
  return end - start === lit.length && startsWith(buf, start, end, lit);
}

/** 1 to 20 decimal digits not above 2^64 - 1 (a cas unique or an incr/decr result). */
export function isUint64(buf: Buffer, start: number, end: number): boolean {
  const n = end - start;
  if (n < 1 || n > 20) return false;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - D0;
    if (d < 0 || d > 9) return false;
  }
  return n < 20 || buf.toString('latin1', start, end) <= UINT64_MAX;
}

/**
 * The decimal number in `buf[start, end)`: 1 to `maxDigits` digits, else -1. `maxDigits` must be
 * at most 15, so the result is always a safe integer.
 */
export function decimal(buf: Buffer, start: number, end: number, maxDigits: number): number {
  if (end <= start || end - start > maxDigits) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - D0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** A short, escaped, quoted excerpt of a line for error messages (never the whole payload). */
export function snippet(buf: Buffer, start: number, end: number): string {
  const stop = Math.min(end, start + 60);
  let s = '';
  for (let i = start; i < stop; i++) {
    const c = buf[i]!;
    if (c === CR) s += '\\r';
    else if (c === LF) s += '\\n';
    else if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) s += `\\x${c.toString(16).padStart(2, '0')}`;
    else s += String.fromCharCode(c);
  }
  return `"${s}"${end > stop ? '...' : ''}`;
}

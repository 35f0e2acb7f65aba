import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidKeyError } from '../../src/errors.js';
import {
  encodeMetaArith, encodeMetaDelete, encodeMetaGet, encodeMetaGetBatch, encodeMetaNoop, encodeMetaSet, MAX_OPAQUE_LENGTH,
} from '../support/encoded.js';

const text = (buf: Buffer): string => buf.toString('latin1');

describe('meta encoders: exact bytes', () => {
  it('emit no flag that was not asked for', () => {
    expect(text(encodeMetaGet('k'))).toBe('mg k\r\n');
    expect(text(encodeMetaGet('k', { value: false, quiet: false, returnKey: false }))).toBe('mg k\r\n');
    expect(text(encodeMetaSet('k', Buffer.from('abc')))).toBe('ms k 3\r\nabc\r\n');
    expect(text(encodeMetaDelete('k'))).toBe('md k\r\n');
    expect(text(encodeMetaArith('k'))).toBe('ma k\r\n');
    expect(text(encodeMetaNoop())).toBe('mn\r\n');
  });

  it('mg: every flag in a fixed order', () => {
    expect(text(encodeMetaGet('key', {
      quiet: true, opaque: 'o1', touch: 60, recache: 30, vivify: 30, noBump: true, lastAccess: true, hitBefore: true, size: true,
      returnKey: true, ttl: true, cas: true, clientFlags: true, value: true,
    }))).toBe('mg key v f c t k s h l u N30 R30 T60 Oo1 q\r\n');
    expect(text(encodeMetaGet('herd', { value: true, cas: true, ttl: true, vivify: 5 }))).toBe('mg herd v c t N5\r\n');
    expect(encodeMetaGet('日本', { value: true, touch: -1 }).toString('utf8')).toBe('mg 日本 v T-1\r\n');
    expect(encodeMetaGet('日本')).toEqual(Buffer.from('mg 日本\r\n', 'utf8'));
  });

  it('mg batch: one line per key, then mn, in one buffer', () => {
    expect(text(encodeMetaGetBatch(['a', 'b', 'c'], { value: true, clientFlags: true, returnKey: true, quiet: true })))
      .toBe('mg a v f k q\r\nmg b v f k q\r\nmg c v f k q\r\nmn\r\n');
    expect(() => encodeMetaGetBatch([], { quiet: true })).toThrow(InvalidArgumentError);
    expect(() => encodeMetaGetBatch(['a', 'b c'], { quiet: true })).toThrow(InvalidKeyError);
  });

  it('ms: data block, modes, flags, cas, invalidate', () => {
    const data = Buffer.from([0, 13, 10, 255]);
    const out = encodeMetaSet('k', data, { mode: 'E', clientFlags: 4294967295, ttl: 60, compareCas: '18446744073709551615', invalidate: true, returnCas: true, returnKey: true, opaque: 'x', quiet: true });
    expect(out).toEqual(Buffer.concat([Buffer.from('ms k 4 ME F4294967295 T60 C18446744073709551615 I c k Ox q\r\n'), data, Buffer.from('\r\n')]));
    for (const mode of ['S', 'E', 'A', 'P', 'R'] as const) expect(text(encodeMetaSet('k', Buffer.alloc(0), { mode }))).toBe(`ms k 0 M${mode}\r\n\r\n`);
    expect(text(encodeMetaSet('k', Buffer.from('hello'), { compareCas: '1', ttl: 60 }))).toBe('ms k 5 T60 C1\r\nhello\r\n');
  });

  it('md: cas, invalidate with a TTL (mark stale)', () => {
    expect(text(encodeMetaDelete('st', { invalidate: true, ttl: 30 }))).toBe('md st I T30\r\n');
    expect(text(encodeMetaDelete('st', { compareCas: '7', returnKey: true, opaque: 'a', quiet: true }))).toBe('md st C7 k Oa q\r\n');
  });

  it('ma: create-on-miss counter in one line, modes, deltas as strings or numbers', () => {
    expect(text(encodeMetaArith('ctr', { vivify: 60, initial: 10, delta: 5, value: true, returnTtl: true, returnCas: true })))
      .toBe('ma ctr D5 N60 J10 v t c\r\n');
    expect(text(encodeMetaArith('ctr', { mode: 'D', delta: '18446744073709551615', ttl: 0, compareCas: '3', returnKey: true, opaque: 'z', quiet: true })))
      .toBe('ma ctr MD D18446744073709551615 T0 C3 k Oz q\r\n');
    for (const mode of ['I', '+', 'D', '-'] as const) expect(text(encodeMetaArith('c', { mode }))).toBe(`ma c M${mode}\r\n`);
  });
});

describe('meta encoders: bad input is a typed error before any byte', () => {
  it('keys go through validateKey', () => {
    for (const key of ['', 'a b', 'a\r\nmn', 'x'.repeat(251), 'a\x7f']) {
      expect(() => encodeMetaGet(key)).toThrow(InvalidKeyError);
      expect(() => encodeMetaSet(key, Buffer.from('x'))).toThrow(InvalidKeyError);
      expect(() => encodeMetaDelete(key)).toThrow(InvalidKeyError);
      expect(() => encodeMetaArith(key)).toThrow(InvalidKeyError);
    }
    expect(() => encodeMetaGet(undefined as unknown as string)).toThrow(InvalidKeyError);
  });

  it('opaque tokens: 1 to 31 printable characters, no space', () => {
    expect(MAX_OPAQUE_LENGTH).toBe(31);
    expect(text(encodeMetaGet('k', { opaque: 'o'.repeat(31) }))).toBe(`mg k O${'o'.repeat(31)}\r\n`);
    for (const opaque of ['o'.repeat(32), '', 'a b', 'a\r\nmn', 'é', 7 as unknown as string]) {
      expect(() => encodeMetaGet('k', { opaque })).toThrow(InvalidArgumentError);
      expect(() => encodeMetaSet('k', Buffer.alloc(0), { opaque })).toThrow(InvalidArgumentError);
      expect(() => encodeMetaDelete('k', { opaque })).toThrow(InvalidArgumentError);
      expect(() => encodeMetaArith('k', { opaque })).toThrow(/opaque must be 1-31/);
    }
  });

  it('cas, delta and initial must be uint64s (no injection through them)', () => {
    for (const bad of ['1 \r\nflush_all', '-1', '18446744073709551616', '', '1.5', 1.5, -1, Number.MAX_SAFE_INTEGER + 1, NaN]) {
      expect(() => encodeMetaSet('k', Buffer.alloc(0), { compareCas: bad as string })).toThrow(InvalidArgumentError);
      expect(() => encodeMetaDelete('k', { compareCas: bad as string })).toThrow(InvalidArgumentError);
      expect(() => encodeMetaArith('k', { delta: bad })).toThrow(InvalidArgumentError);
      expect(() => encodeMetaArith('k', { initial: bad })).toThrow(/initial must be a uint64/);
    }
  });

  it('TTLs, client flags and modes are range-checked', () => {
    for (const bad of [NaN, 1.5, 2 ** 31, -2, Infinity, '5' as unknown as number]) {
      expect(() => encodeMetaGet('k', { touch: bad })).toThrow(InvalidArgumentError);
      expect(() => encodeMetaSet('k', Buffer.alloc(0), { ttl: bad })).toThrow(InvalidArgumentError);
      expect(() => encodeMetaDelete('k', { ttl: bad })).toThrow(InvalidArgumentError);
      expect(() => encodeMetaArith('k', { ttl: bad })).toThrow(InvalidArgumentError);
    }
    expect(() => encodeMetaGet('k', { vivify: -1 })).toThrow(/vivify/);
    expect(() => encodeMetaGet('k', { recache: -1 })).toThrow(/recache/);
    expect(() => encodeMetaArith('k', { vivify: -1 })).toThrow(/vivify/);
    expect(() => encodeMetaSet('k', Buffer.alloc(0), { clientFlags: 2 ** 32 })).toThrow(/client flags/);
    expect(() => encodeMetaSet('k', Buffer.alloc(0), { clientFlags: -1 })).toThrow(/client flags/);
    expect(() => encodeMetaSet('k', Buffer.alloc(0), { mode: 'X' as 'S' })).toThrow(/invalid ms mode/);
    expect(() => encodeMetaSet('k', Buffer.alloc(0), { mode: 'SE' as 'S' })).toThrow(/invalid ms mode/);
    expect(() => encodeMetaArith('k', { mode: 'x' as 'I' })).toThrow(/invalid ma mode/);
  });
});

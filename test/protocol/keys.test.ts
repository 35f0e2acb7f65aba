import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from '../../src/errors.js';
import { MAX_KEY_BYTES, validateKey } from '../../src/protocol/keys.js';

/** The InvalidKeyError thrown by validateKey(key), failing the test if nothing is thrown. */
function rejection(key: unknown): InvalidKeyError {
  try {
    validateKey(key);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidKeyError);
    expect((err as InvalidKeyError).code).toBe('MC_ERR_INVALID_KEY');
    return err as InvalidKeyError;
  }
  throw new Error(`expected ${JSON.stringify(key)} to be rejected`);
}

describe('validateKey', () => {
  it('exports the 250-byte limit', () => {
    expect(MAX_KEY_BYTES).toBe(250);
  });

  it('returns the UTF-8 byte length of valid keys', () => {
    expect(validateKey('a')).toBe(1);
    expect(validateKey('user:42:profile')).toBe(15);
    expect(validateKey('!~{}|"\\')).toBe(7);
    expect(validateKey('é')).toBe(2);
    expect(validateKey('日本')).toBe(6);
    expect(validateKey('k😀')).toBe(5);
    // C1 controls encode to bytes >= 0x80, which the server accepts.
    expect(validateKey('\u0085')).toBe(2);
  });

  it('rejects command injection through CR LF', () => {
    const err = rejection('a\r\nflush_all');
    expect(err.message).toContain('0x0d');
    expect(err.message).toContain('byte index 1');
    expect(err.key).toBe('a\r\nflush_all');
  });

  it('rejects a key that would split into a storage command', () => {
    const err = rejection('x 0 0 1\r\ny');
    expect(err.message).toContain('0x20');
    expect(err.message).toContain('space');
    expect(err.message).toContain('byte index 1');
  });

  it.each([
    ['tab', 'a\tb', '0x09', 1],
    ['DEL', 'ab\x7f', '0x7f', 2],
    ['NUL', '\0abc', '0x00', 0],
    ['LF', 'abc\n', '0x0a', 3],
    ['space at end', 'abc ', '0x20', 3],
    ['0x1f', 'a\x1f', '0x1f', 1],
  ])('rejects %s', (_name, key, hex, index) => {
    const err = rejection(key);
    expect(err.message).toContain(hex);
    expect(err.message).toContain(`byte index ${index}`);
  });

  it('reports the byte index (not the character index) after multi-byte characters', () => {
    // 'é' is 2 bytes, so the tab at character 2 is byte 3.
    expect(rejection('éa\tb').message).toContain('byte index 3');
  });

  it('accepts 250 ASCII bytes and rejects 251', () => {
    expect(validateKey('k'.repeat(250))).toBe(250);
    const err = rejection('k'.repeat(251));
    expect(err.message).toContain('251 bytes > 250');
  });

  it('counts bytes, not characters, for multi-byte keys', () => {
    expect(validateKey('é'.repeat(125))).toBe(250);
    expect(rejection('é'.repeat(125) + 'a').message).toContain('251 bytes > 250');
    // 84 three-byte characters: 84 JS characters but 252 bytes.
    expect(rejection('日'.repeat(84)).message).toContain('252 bytes > 250');
    expect(validateKey('日'.repeat(83) + 'a')).toBe(250);
    // 62 four-byte emoji (124 UTF-16 units) + 2 ASCII = 250 bytes; one more byte is too many.
    expect(validateKey('😀'.repeat(62) + 'ab')).toBe(250);
    expect(rejection('😀'.repeat(62) + 'abc').message).toContain('251 bytes > 250');
  });

  it('rejects very long strings without scanning them', () => {
    expect(rejection('x'.repeat(1_000_000)).message).toContain('1000000 bytes > 250');
  });

  it('rejects the empty string', () => {
    expect(rejection('').message).toContain('empty');
  });

  it.each([
    ['number', 42, 'number 42'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['object', { toString: () => 'k' }, 'object'],
    ['array', ['k'], 'array'],
    ['symbol', Symbol('k'), 'symbol'],
    ['bigint', 1n, 'bigint 1'],
    ['Buffer', Buffer.from('k'), 'object'],
    ['null-prototype object', Object.create(null), 'object'],
  ])('rejects a non-string (%s)', (_name, key, described) => {
    const err = rejection(key);
    expect(err.message).toContain('must be a string');
    expect(err.message).toContain(described);
  });

  it.each([
    ['lone high surrogate at end', 'abc\ud83d'],
    ['lone high surrogate followed by ASCII', '\ud83dx'],
    ['lone low surrogate', 'a\ude00b'],
    ['reversed pair', '\ude00\ud83d'],
  ])('rejects a %s', (_name, key) => {
    expect(rejection(key).message).toContain('lone UTF-16 surrogate');
  });

  it('accepts a proper surrogate pair', () => {
    expect(validateKey('\ud83d\ude00')).toBe(4);
  });
});

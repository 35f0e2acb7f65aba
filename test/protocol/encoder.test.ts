import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  encodeArith, encodeAuth, encodeCas, encodeDelete, encodeFlushAll, encodeGat, encodeGet, encodeMn,
  encodeStats, encodeStore, encodeTouch, encodeVersion,
} from '../support/encoded.js';
import * as raw from '../../src/protocol/encoder.js';
import { wireBuffer } from '../../src/protocol/types.js';

const text = (b: Buffer) => b.toString('latin1');


describe('encoder', () => {
  it('encodes get and gets with one or many keys', () => {
    expect(text(encodeGet('get', ['a']))).toBe('get a\r\n');
    expect(text(encodeGet('gets', ['a', 'b', 'c']))).toBe('gets a b c\r\n');
  });

  it('writes keys as UTF-8', () => {
    const b = encodeGet('get', ['é', '日本']);
    expect(b.equals(Buffer.from('get é 日本\r\n', 'utf8'))).toBe(true);
    expect(encodeDelete('é').equals(Buffer.from('delete é\r\n', 'utf8'))).toBe(true);
  });

  it('refuses an empty key list (a bare get is answered with ERROR)', () => {
    expect(() => encodeGet('get', [])).toThrow(InvalidArgumentError);
    expect(() => encodeGat('gat', 10, [])).toThrow(InvalidArgumentError);
  });

  it('encodes gat and gats with the exptime before the keys', () => {
    expect(text(encodeGat('gat', 60, ['a']))).toBe('gat 60 a\r\n');
    expect(text(encodeGat('gats', 0, ['a', 'b']))).toBe('gats 0 a b\r\n');
  });

  it.each(['set', 'add', 'replace', 'append', 'prepend'] as const)('encodes %s with header, data and CRLF', (cmd) => {
    const b = encodeStore(cmd, 'k', 7, 300, Buffer.from('hello'));
    expect(text(b)).toBe(`${cmd} k 7 300 5\r\nhello\r\n`);
  });

  it('encodes binary data byte for byte, including CR LF and NUL inside the data', () => {
    const data = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) data[i] = i;
    const b = encodeStore('set', 'bin', 0, 0, data);
    const header = Buffer.from('set bin 0 0 256\r\n');
    expect(b.length).toBe(header.length + 256 + 2);
    expect(b.subarray(0, header.length).equals(header)).toBe(true);
    expect(b.subarray(header.length, header.length + 256).equals(data)).toBe(true);
    expect(text(b.subarray(-2))).toBe('\r\n');
  });

  it('encodes an empty value and a non-ASCII key with the right byte counts', () => {
    expect(text(encodeStore('set', 'k', 0, 0, Buffer.alloc(0)))).toBe('set k 0 0 0\r\n\r\n');
    const b = encodeStore('add', '日', 1, 2, Buffer.from('é'));
    expect(b.equals(Buffer.from('add 日 1 2 2\r\né\r\n', 'utf8'))).toBe(true);
  });

  it('encodes a 1 MiB value in one buffer', () => {
    const data = Buffer.alloc(1 << 20, 0x61);
    const b = encodeStore('set', 'big', 0, 0, data);
    expect(b.length).toBe('set big 0 0 1048576\r\n'.length + data.length + 2);
    expect(b.subarray(21, 21 + data.length).equals(data)).toBe(true);
  });

  it('does not keep a reference to the caller data', () => {
    const data = Buffer.from('abc');
    const b = encodeStore('set', 'k', 0, 0, data);
    data[0] = 0x7a;
    expect(text(b)).toBe('set k 0 0 3\r\nabc\r\n');
  });

  it('makes a text value one string request, byte for byte the Buffer form (UTF-8 length in the header)', () => {
    for (const value of ['hello', '', 'é日本\r\n', 'x'.repeat(70_000)]) {
      const asString = raw.encodeStore('set', 'k', 0, 60, value);
      expect(typeof asString).toBe('string');
      expect(wireBuffer(asString).equals(encodeStore('set', 'k', 0, 60, Buffer.from(value, 'utf8')))).toBe(true);
      const cas = raw.encodeCas('k', 1, 0, value, '42');
      expect(typeof cas).toBe('string');
      expect(wireBuffer(cas).equals(encodeCas('k', 1, 0, Buffer.from(value, 'utf8'), '42'))).toBe(true);
    }
    expect(wireBuffer(raw.encodeStore('set', 'k', 0, 0, 'é', 2)).toString('utf8')).toBe('set k 0 0 2\r\né\r\n');
  });

  it('encodes cas with the uint64 cas unique last', () => {
    const b = encodeCas('k', 3, 0, Buffer.from('xy'), '18446744073709551615');
    expect(text(b)).toBe('cas k 3 0 2 18446744073709551615\r\nxy\r\n');
  });

  it('encodes incr/decr with a uint64 delta string', () => {
    expect(text(encodeArith('incr', 'c', '1'))).toBe('incr c 1\r\n');
    expect(text(encodeArith('decr', 'c', '18446744073709551615'))).toBe('decr c 18446744073709551615\r\n');
  });

  it('encodes delete and touch without noreply', () => {
    expect(text(encodeDelete('k'))).toBe('delete k\r\n');
    expect(text(encodeTouch('k', 100))).toBe('touch k 100\r\n');
    expect(text(encodeTouch('k', -1))).toBe('touch k -1\r\n');
  });

  it('encodes flush_all with and without a delay', () => {
    expect(text(encodeFlushAll())).toBe('flush_all\r\n');
    expect(text(encodeFlushAll(0))).toBe('flush_all\r\n');
    expect(text(encodeFlushAll(30))).toBe('flush_all 30\r\n');
  });

  it('returns the constant mn and version requests', () => {
    expect(text(encodeMn())).toBe('mn\r\n');
    expect(text(encodeVersion())).toBe('version\r\n');
  });

  it('encodes stats with an optional group and refuses injection', () => {
    expect(text(encodeStats())).toBe('stats\r\n');
    expect(text(encodeStats('items'))).toBe('stats items\r\n');
    expect(text(encodeStats('slabs'))).toBe('stats slabs\r\n');
    expect(text(encodeStats('settings'))).toBe('stats settings\r\n');
    expect(text(encodeStats('cachedump 1 100'))).toBe('stats cachedump 1 100\r\n');
    expect(() => encodeStats('items\r\nflush_all')).toThrow(InvalidArgumentError);
    expect(() => encodeStats(' items')).toThrow(InvalidArgumentError);
  });

  it('encodes ASCII auth as a set of "<user> <pass>" counting UTF-8 bytes, under a key no plain server accepts', () => {
    const key = 'memcluster-auth-'.padEnd(251, '_');
    expect(Buffer.byteLength(key)).toBeGreaterThan(250);
    expect(text(encodeAuth('user', 'secret'))).toBe(`set ${key} 0 0 11\r\nuser secret\r\n`);
    const b = encodeAuth('ü', 'pässword');
    expect(b.equals(Buffer.from(`set ${key} 0 0 12\r\nü pässword\r\n`, 'utf8'))).toBe(true);
  });
});

/**
 * Value round trips through a real memcached: what the client stores is checked byte for byte
 * (and flag for flag) with a raw `get` on a socket of our own, independent of the client.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client, DecodeError, InvalidValueError, MemclusterError, PartialFailureError, type Serializer,
} from '../../src/index.js';
import { rejection } from '../support/assert.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';

interface RawItem {
  flags: number;
  data: Buffer;
}

/**
 * Raw `get` returning the exact bytes (the harness's `command()` decodes replies as UTF-8, which
 * would hide binary differences). Resolves undefined on a miss.
 */
function rawItem(server: MemcachedServer, key: string, timeoutMs = 3000): Promise<RawItem | undefined> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, item?: RawItem) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(item);
    };
    const timer = setTimeout(() => done(new Error(`raw get ${key}: no complete reply in ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('connect', () => sock.write(`get ${key}\r\n`));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = buf.toString('latin1', 0, eol);
      if (line === 'END') return done(undefined, undefined);
      const m = /^VALUE (\S+) (\d+) (\d+)$/.exec(line);
      if (!m || m[1] !== key) return done(new Error(`raw get ${key}: unexpected line ${JSON.stringify(line)}`));
      const len = Number(m[3]);
      const end = eol + 2 + len;
      if (buf.length < end + 7) return;
      const trailer = buf.toString('latin1', end, end + 7);
      if (trailer !== '\r\nEND\r\n' || buf.length !== end + 7) return done(new Error(`raw get ${key}: bad trailer ${JSON.stringify(trailer)}`));
      done(undefined, { flags: Number(m[2]), data: Buffer.from(buf.subarray(eol + 2, end)) });
    });
  });
}

async function counters(server: MemcachedServer): Promise<{ cmdSet: number; currItems: number; totalItems: number }> {
  const s = await server.stats();
  return { cmdSet: Number(s.cmd_set), currItems: Number(s.curr_items), totalItems: Number(s.total_items) };
}

let seq = 0;
const uniq = (name: string) => `val:${process.pid}:${++seq}:${name}`;

describe('values against a real memcached', () => {
  const servers = useMemcached(1);
  let server: MemcachedServer;
  let mc: Client;

  beforeAll(() => {
    server = servers[0]!;
    mc = new Client([server.address], { timeoutMs: 3000 });
  });
  afterAll(async () => {
    await mc?.close();
  });

  describe('strings (flags 0, exact UTF-8 bytes)', () => {
    const cases: Array<[string, string]> = [
      ['plain', 'hello world'],
      ['emoji and accents', '😀🎉 naïve café — 日本語 𝄞'],
      ['CRLF', 'line1\r\nline2\r\n'],
      ['a fake end of reply', '\r\nEND\r\n'],
      ['a fake VALUE header', 'VALUE x 0 1'],
      ['a fake VALUE block', 'VALUE x 0 1\r\ny\r\nEND\r\n'],
      ['backslashes', 'a\\r\\nb\\'],
      ['NUL and control bytes', 'a\u0000b\u0001c\u007f'],
      ['empty string', ''],
    ];
    for (const [name, value] of cases) {
      it(`round-trips ${name}`, async () => {
        const k = uniq('str');
        expect(await mc.set(k, value)).toBe(true);
        const raw = await rawItem(server, k);
        expect(raw).toBeDefined();
        expect(raw!.flags).toBe(0);
        expect(raw!.data.equals(Buffer.from(value, 'utf8'))).toBe(true);
        expect(await mc.get(k)).toBe(value);
        expect((await mc.gets(k))?.value).toBe(value);
        expect((await mc.getMulti([k])).get(k)).toBe(value);
      });
    }

    it('many CRLF-laden values fetched together stay separate', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => uniq(`crlf${i}`));
      const values = keys.map((_, i) => `VALUE ${keys[(i + 1) % keys.length]} 0 3\r\nabc\r\nEND\r\n`.repeat(i));
      await mc.setMulti(keys.map((k, i) => [k, values[i]] as const));
      const m = await mc.getMulti<string>(keys);
      expect(m.size).toBe(keys.length);
      keys.forEach((k, i) => expect(m.get(k)).toBe(values[i]));
      const single = await Promise.all(keys.map((k) => mc.get(k)));
      expect(single).toEqual(values);
    });
  });

  describe('Buffers (flags 4, byte for byte)', () => {
    it('all 256 byte values round-trip and the server holds exactly those bytes with flags 4', async () => {
      const k = uniq('buf');
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      expect(await mc.set(k, bytes)).toBe(true);
      const raw = await rawItem(server, k);
      expect(raw?.flags).toBe(4);
      expect(raw!.data.length).toBe(256);
      expect(raw!.data.equals(bytes)).toBe(true); // no backslash escaping, no latin1/utf8 mangling
      const back = await mc.get<Buffer>(k);
      expect(Buffer.isBuffer(back)).toBe(true);
      expect(back!.equals(bytes)).toBe(true);
      const viaMulti = (await mc.getMulti<Buffer>([k])).get(k)!;
      expect(viaMulti.equals(bytes)).toBe(true);
    });

    it('the bytes of a CR LF E N D sequence and invalid UTF-8 survive', async () => {
      const k = uniq('buf2');
      const bytes = Buffer.concat([Buffer.from('\r\nEND\r\n'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0x0d])]);
      await mc.set(k, bytes);
      expect((await rawItem(server, k))!.data.equals(bytes)).toBe(true);
      expect((await mc.get<Buffer>(k))!.equals(bytes)).toBe(true);
    });

    it('an empty Buffer and a Uint8Array are stored as bytes (flags 4)', async () => {
      const e = uniq('buf-empty');
      await mc.set(e, Buffer.alloc(0));
      expect(await rawItem(server, e)).toEqual({ flags: 4, data: Buffer.alloc(0) });
      expect((await mc.get<Buffer>(e))!.length).toBe(0);
      const u = uniq('u8');
      const backing = new Uint8Array([9, 1, 2, 3, 9]);
      await mc.set(u, backing.subarray(1, 4));
      expect(await rawItem(server, u)).toEqual({ flags: 4, data: Buffer.from([1, 2, 3]) });
      expect((await mc.get<Buffer>(u))!.equals(Buffer.from([1, 2, 3]))).toBe(true);
    });

    it('a returned Buffer is the caller\'s own copy (later reads do not change it)', async () => {
      const a = uniq('bufa');
      const b = uniq('bufb');
      await mc.set(a, Buffer.from('aaaa'));
      await mc.set(b, Buffer.from('bbbb'));
      const first = await mc.get<Buffer>(a);
      await mc.get(b);
      await mc.getMulti([a, b]);
      expect(first!.toString()).toBe('aaaa');
    });
  });

  describe('numbers (flags 8)', () => {
    for (const n of [42, 3.14159, -7, 0, -2.5e-7, 1e21, Number.MAX_SAFE_INTEGER]) {
      it(`round-trips ${n}`, async () => {
        const k = uniq('num');
        expect(await mc.set(k, n)).toBe(true);
        const raw = await rawItem(server, k);
        expect(raw?.flags).toBe(8);
        expect(raw!.data.toString('latin1')).toBe(String(n));
        const back = await mc.get(k);
        expect(typeof back).toBe('number');
        expect(back).toBe(n);
      });
    }
  });

  describe('JSON values (flags 2)', () => {
    const cases: Array<[string, unknown]> = [
      ['an object', { a: 1, b: 'two', c: [3, { d: null }], e: '\r\nEND\r\n' }],
      ['an array', [1, 'x', true, null, { y: [] }]],
      ['an empty object', {}],
      ['true', true],
      ['false', false],
      ['null', null],
      ['unicode inside', { s: '😀 日本' }],
    ];
    for (const [name, value] of cases) {
      it(`round-trips ${name}`, async () => {
        const k = uniq('json');
        expect(await mc.set(k, value)).toBe(true);
        const raw = await rawItem(server, k);
        expect(raw?.flags).toBe(2);
        expect(JSON.parse(raw!.data.toString('utf8'))).toEqual(value);
        expect(await mc.get(k)).toEqual(value);
      });
    }
  });

  describe('size limits', () => {
    it('a value of 1,048,000 bytes (the default maxValueBytes) is stored and read back intact', async () => {
      const k = uniq('big');
      const big = Buffer.alloc(1_048_000);
      for (let i = 0; i < big.length; i++) big[i] = 97 + ((i * 7 + (i >> 10)) % 26);
      const text = big.toString('latin1');
      expect(await mc.set(k, text)).toBe(true);
      const raw = await rawItem(server, k);
      expect(raw?.data.length).toBe(1_048_000);
      expect(raw!.data.equals(big)).toBe(true);
      const back = await mc.get<string>(k);
      expect(back?.length).toBe(1_048_000);
      expect(back === text).toBe(true);
      expect(await mc.set(uniq('bigbuf'), big)).toBe(true);
    });

    it('a value over maxValueBytes is rejected with InvalidValueError before writing; the old value is untouched', async () => {
      const k = uniq('keep');
      await mc.set(k, 'old');
      const before = await counters(server);
      for (const value of ['x'.repeat(1_048_001), Buffer.alloc(1_048_001, 0x61), Buffer.alloc(3_000_000, 0x61)]) {
        for (const call of [
          () => mc.set(k, value),
          () => mc.add(uniq('big-add'), value),
          () => mc.replace(k, value),
          () => mc.setMulti([[uniq('small'), 'ok'], [k, value]]),
        ]) {
          const err = await rejection(call);
          expect(err).toBeInstanceOf(InvalidValueError);
          expect((err as MemclusterError).code).toBe('MC_ERR_INVALID_VALUE');
          expect((err as Error).message).toMatch(/maxValueBytes/);
        }
      }
      const cas = (await mc.gets(k))!.cas;
      expect(await rejection(() => mc.cas(k, 'y'.repeat(1_048_001), cas))).toBeInstanceOf(InvalidValueError);
      expect(await counters(server)).toEqual(before);
      expect(await rawItem(server, k)).toEqual({ flags: 0, data: Buffer.from('old') });
      expect(await mc.get(k)).toBe('old');
    });

    it('a lower maxValueBytes option is enforced exactly (limit accepted, limit + 1 refused)', async () => {
      const small = new Client([server.address], { maxValueBytes: 10 });
      try {
        const k = uniq('limit10');
        expect(await small.set(k, '0123456789')).toBe(true);
        const before = await counters(server);
        const err = await rejection(() => small.set(k, '0123456789A'));
        expect(err).toBeInstanceOf(InvalidValueError);
        const multibyte = await rejection(() => small.set(k, 'ééééé1')); // 6 characters, 11 bytes
        expect(multibyte).toBeInstanceOf(InvalidValueError);
        expect(await counters(server)).toEqual(before);
        expect(await rawItem(server, k)).toEqual({ flags: 0, data: Buffer.from('0123456789') });
      } finally {
        await small.close();
      }
    });
  });

  describe('values that cannot be stored', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: Array<[string, unknown]> = [
      ['undefined', undefined],
      ['a function', () => 1],
      ['a symbol', Symbol('s')],
      ['a bigint', 10n],
      ['a circular object', circular],
    ];
    for (const [name, value] of bad) {
      it(`${name} is rejected with InvalidValueError and nothing is written`, async () => {
        const k = uniq('bad');
        const before = await counters(server);
        for (const call of [
          () => mc.set(k, value),
          () => mc.add(k, value),
          () => mc.replace(k, value),
          () => mc.cas(k, value, '1'),
          () => mc.setMulti([[uniq('fine'), 'fine'], [k, value]]),
        ]) {
          const err = await rejection(call);
          expect(err).toBeInstanceOf(InvalidValueError);
          expect((err as MemclusterError).code).toBe('MC_ERR_INVALID_VALUE');
          expect((err as MemclusterError).server).toBeUndefined();
        }
        expect(await counters(server)).toEqual(before);
        expect(await rawItem(server, k)).toBeUndefined();
      });
    }
  });

  describe('custom serializer', () => {
    const seen: number[] = [];
    const json16: Serializer = {
      serialize: (value) => ({ data: Buffer.from(JSON.stringify({ v: value }), 'utf8'), flags: 16 }),
      deserialize: (data, flags) => {
        seen.push(flags);
        if (flags !== 16) throw new Error(`not mine: flags ${flags}`);
        return (JSON.parse(data.toString('utf8')) as { v: unknown }).v;
      },
    };
    let custom: Client;
    beforeAll(() => {
      custom = new Client([server.address], { serializer: json16 });
    });
    afterAll(async () => {
      await custom?.close();
    });

    it('round-trips and the server holds its bytes and flags 16', async () => {
      for (const value of ['text', 12.5, { a: [1, 2] }, null, true]) {
        const k = uniq('ser');
        expect(await custom.set(k, value)).toBe(true);
        const raw = await rawItem(server, k);
        expect(raw?.flags).toBe(16);
        expect(raw!.data.toString('utf8')).toBe(JSON.stringify({ v: value }));
        seen.length = 0;
        expect(await custom.get(k)).toEqual(value);
        expect(seen).toEqual([16]);
        expect((await custom.getMulti([k])).get(k)).toEqual(value);
      }
    });

    it('an item another client wrote (flags 0) fails its deserializer with DecodeError', async () => {
      const k = uniq('ser-foreign');
      await mc.set(k, 'plain');
      const err = await rejection(() => custom.get(k));
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as MemclusterError).server).toBe(server.address);
      expect((err as Error).message).toContain(k);
    });

    it('a serializer that throws, or returns a bad item, gives InvalidValueError and writes nothing', async () => {
      const throwing = new Client([server.address], {
        serializer: { serialize: () => { throw new Error('nope'); }, deserialize: (d) => d },
      });
      const badFlags = new Client([server.address], {
        serializer: { serialize: () => ({ data: Buffer.from('x'), flags: -1 }), deserialize: (d) => d },
      });
      const notBuffer = new Client([server.address], {
        serializer: { serialize: () => ({ data: 'x' as unknown as Buffer, flags: 0 }), deserialize: (d) => d },
      });
      try {
        const k = uniq('ser-bad');
        const before = await counters(server);
        const e1 = await rejection(() => throwing.set(k, 'v'));
        expect(e1).toBeInstanceOf(InvalidValueError);
        expect((e1 as Error).cause).toBeInstanceOf(Error);
        expect(((e1 as Error).cause as Error).message).toBe('nope');
        expect(await rejection(() => badFlags.set(k, 'v'))).toBeInstanceOf(InvalidValueError);
        expect(await rejection(() => notBuffer.set(k, 'v'))).toBeInstanceOf(InvalidValueError);
        expect(await counters(server)).toEqual(before);
        expect(await rawItem(server, k)).toBeUndefined();
      } finally {
        await Promise.all([throwing.close(), badFlags.close(), notBuffer.close()]);
      }
    });
  });

  describe('items written by others', () => {
    it('an unknown flag (77) reads back as a UTF-8 string', async () => {
      const k = uniq('flag77');
      expect(await server.command(`set ${k} 77 0 3\r\nabc\r\n`)).toBe('STORED\r\n');
      expect(await mc.get(k)).toBe('abc');
      expect((await mc.gets(k))?.value).toBe('abc');
      expect((await mc.getMulti([k])).get(k)).toBe('abc');
      const u = uniq('flag77u');
      const bytes = Buffer.from('é😀', 'utf8');
      expect(await server.command(`set ${u} 77 0 ${bytes.length}\r\né😀\r\n`)).toBe('STORED\r\n');
      expect(await mc.get(u)).toBe('é😀');
    });

    it('flag 2 with invalid JSON rejects with DecodeError naming the server; the connection keeps working', async () => {
      const k = uniq('badjson');
      const good = uniq('goodjson');
      expect(await server.command(`set ${k} 2 0 7\r\n{"a": 1\r\n`)).toBe('STORED\r\n');
      await mc.set(good, { ok: true });

      const err = await rejection(() => mc.get(k));
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as MemclusterError).code).toBe('MC_ERR_DECODE');
      expect((err as MemclusterError).server).toBe(server.address);
      expect((err as Error).message).toContain(k);

      // The next requests on the same client (and the same server) still work.
      expect(await mc.get(good)).toEqual({ ok: true });
      const gets = await rejection(() => mc.gets(k));
      expect(gets).toBeInstanceOf(DecodeError);
      expect(await mc.set(good, [1])).toBe(true);
      expect(await mc.get(good)).toEqual([1]);

      // Same-tick gets are coalesced into one request: only the bad key fails.
      const [bad, ok] = await Promise.allSettled([mc.get(k), mc.get(good)]);
      expect(bad.status).toBe('rejected');
      expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(DecodeError);
      expect(ok).toEqual({ status: 'fulfilled', value: [1] });

      // In a multi-get the bad key fails alone; the other hits are still delivered.
      const multi = await rejection(() => mc.getMulti([k, good]));
      expect(multi).toBeInstanceOf(PartialFailureError);
      const pf = multi as PartialFailureError;
      expect(pf.values.get(good)).toEqual([1]);
      expect(pf.errors.get(k)).toBeInstanceOf(DecodeError);
      expect(pf.errors.get(k)!.server).toBe(server.address);
      const settled = await mc.getMultiSettled([k, good]);
      expect(settled.values.get(good)).toEqual([1]);
      expect(settled.errors.get(k)).toBeInstanceOf(DecodeError);

      // The item itself is untouched.
      expect(await rawItem(server, k)).toEqual({ flags: 2, data: Buffer.from('{"a": 1') });
    });
  });
});

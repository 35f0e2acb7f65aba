/**
 * What getMulti returns and what it puts on the wire, seen through a counting proxy in front of one
 * real server: result shape, batch caps in keys and bytes, gat/gats line limits and TTL resets,
 * and same-tick coalescing of single gets.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client, DecodeError, InvalidArgumentError, InvalidKeyError, PartialFailureError, type ClientOptions } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { CountingProxy } from './counting-proxy.js';
import { closeWithin, describeError, numStats, rawGetMulti, rawSetMany, rawTtls, rejectionOf, within } from './support.js';

describe('multi-get shape, batching and coalescing (1 server behind a counting proxy)', () => {
  const servers = useMemcached(1);
  let server: MemcachedServer;
  let proxy: CountingProxy;
  const clients: Client[] = [];
  /** A fresh client on the proxy; the proxy's counters are reset. */
  const client = (opts: ClientOptions = {}): Client => {
    // Generous bounds: nothing here tests timeouts, and a busy shared machine must not fail a validation.
    // The line shapes asserted here are the classic text protocol's (meta batches: meta-batching.test.ts).
    const c = new Client([proxy.address], { timeoutMs: 5000, validateTimeoutMs: 2000, protocol: 'text', ...opts });
    clients.push(c);
    proxy.reset();
    return c;
  };
  const cmdGet = async (): Promise<number> => (await numStats(server, ['cmd_get'])).cmd_get!;

  beforeAll(async () => {
    server = servers[0]!;
    proxy = await CountingProxy.start(server, { keepTextUpTo: 4096 });
  });
  afterAll(() => proxy.close());
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => closeWithin(c)));
  });

  describe('result shape', () => {
    it('uses caller keys (not prefixed ones) and leaves misses out', async () => {
      const mc = client({ keyPrefix: 'p:' });
      await mc.setMulti([['a', 'A'], ['b', { b: 1 }], ['c', 3]]);
      // On the server the keys are prefixed.
      expect(await rawGetMulti(server, ['p:a', 'a'])).toEqual(new Map([['p:a', 'A']]));
      const got = await mc.getMulti(['a', 'b', 'c', 'missing']);
      expect(got).toBeInstanceOf(Map);
      expect(got).toEqual(new Map<string, unknown>([['a', 'A'], ['b', { b: 1 }], ['c', 3]]));
      expect(got.has('missing')).toBe(false);
      expect([...got.keys()].some((k) => k.startsWith('p:'))).toBe(false);
      const settled = await mc.getMultiSettled(['a', 'missing']);
      expect(settled.values).toEqual(new Map([['a', 'A']]));
      expect(settled.errors.size).toBe(0);
      const gets = await mc.getsMulti(['a', 'missing']);
      expect([...gets.keys()]).toEqual(['a']);
      expect(gets.get('a')!.value).toBe('A');
      expect(gets.get('a')!.cas).toMatch(/^\d+$/);
    });

    it('asks for a duplicated key once and returns one entry', async () => {
      const mc = client({ keyPrefix: 'p:' });
      await mc.setMulti([['d1', 'one'], ['d2', 'two']]);
      proxy.reset();
      const before = await cmdGet();
      const got = await mc.getMulti(['d1', 'd1', 'd2', 'd1', 'nope', 'nope']);
      expect(got).toEqual(new Map([['d1', 'one'], ['d2', 'two']]));
      expect(await cmdGet()).toBe(before + 3);
      expect(proxy.linesOf('get').map((l) => l.text)).toEqual(['get p:d1 p:d2 p:nope']);
    });

    it('an empty key list resolves at once without a request', async () => {
      const mc = client();
      const before = await numStats(server, ['cmd_get', 'total_connections']);
      let settled = false;
      const p = mc.getMulti([]).then((m) => ((settled = true), m));
      await new Promise<void>((r) => setImmediate(r));
      expect(settled, 'getMulti([]) still pending after one turn').toBe(true);
      expect((await p).size).toBe(0);
      const s = await mc.getMultiSettled([]);
      expect([s.values.size, s.errors.size]).toEqual([0, 0]);
      expect((await mc.getsMulti([])).size).toBe(0);
      expect((await mc.gatMulti([], 10)).size).toBe(0);
      const after = await numStats(server, ['cmd_get', 'total_connections']);
      expect(after.cmd_get).toBe(before.cmd_get);
      // Only our own stats socket connected: the client opened none.
      expect(after.total_connections).toBe(before.total_connections! + 1);
      expect(proxy.connections).toBe(0);
      expect(proxy.lines.length).toBe(0);
    });

    it('a bad key anywhere rejects before a byte is written', async () => {
      const mc = client();
      await mc.get('warm'); // an open socket, so a stray write would be seen at once
      proxy.reset();
      const before = await cmdGet();
      const good = Array.from({ length: 300 }, (_, i) => `good:${i}`);
      for (const bad of ['with space', 'nl\r\nget x', 'k'.repeat(251), '', 'del\x7f']) {
        const err = await rejectionOf(mc.getMulti([...good, bad, ...good.map((k) => `${k}b`)]));
        expect(err, `${JSON.stringify(bad)}: ${describeError(err)}`).toBeInstanceOf(InvalidKeyError);
        expect(await rejectionOf(mc.getMultiSettled([bad]))).toBeInstanceOf(InvalidKeyError);
        expect(await rejectionOf(mc.gatMulti([...good, bad], 10))).toBeInstanceOf(InvalidKeyError);
      }
      expect(await rejectionOf(mc.getMulti([...good, 42 as unknown as string]))).toBeInstanceOf(InvalidKeyError);
      expect(await rejectionOf(mc.getMulti('abc' as unknown as string[]))).toBeInstanceOf(InvalidArgumentError);
      await new Promise((r) => setTimeout(r, 20));
      expect(proxy.lines.length).toBe(0);
      expect(await cmdGet()).toBe(before);
    });

    it('an item that cannot be decoded fails alone, loudly, naming its key; the others are returned', async () => {
      const mc = client({ keyPrefix: 'p:' });
      expect(await server.command('set p:undecodable 2 0 9\r\nnot json{\r\n')).toBe('STORED\r\n');
      await mc.setMulti([['fine1', 'F1'], ['fine2', { x: 2 }]]);
      const err = await rejectionOf(mc.getMulti(['fine1', 'undecodable', 'fine2', 'absent']));
      expect(err, describeError(err)).toBeInstanceOf(PartialFailureError);
      const pf = err as PartialFailureError;
      expect([...pf.errors.keys()]).toEqual(['undecodable']);
      expect(pf.errors.get('undecodable')).toBeInstanceOf(DecodeError);
      expect(pf.errors.get('undecodable')!.server).toBe(proxy.address);
      expect(pf.values).toEqual(new Map<string, unknown>([['fine1', 'F1'], ['fine2', { x: 2 }]]));
    });

    it('keys like __proto__, constructor and hasOwnProperty are plain Map entries', async () => {
      const mc = client();
      const special = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'prototype'];
      await mc.setMulti(special.slice(0, 3).map((k) => [k, `v(${k})`] as const));
      const got = await mc.getMulti(special);
      expect(got).toBeInstanceOf(Map);
      expect([...got.entries()].sort()).toEqual(special.slice(0, 3).map((k) => [k, `v(${k})`]).sort());
      expect(got.get('__proto__')).toBe('v(__proto__)');
      expect(got.has('toString')).toBe(false);
      expect(Object.getPrototypeOf(got)).toBe(Map.prototype);
      expect(({} as Record<string, unknown>).hasOwnProperty).toBe(Object.prototype.hasOwnProperty);
      const settled = await mc.getMultiSettled<string>(special);
      expect(settled.values.get('constructor')).toBe('v(constructor)');
      expect(settled.values.get('hasOwnProperty')).toBe('v(hasOwnProperty)');
      const gets = await mc.getsMulti<string>(special);
      expect(gets.get('__proto__')!.value).toBe('v(__proto__)');
    });
  });

  describe('batching', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `batch:${i}:${'x'.repeat(i % 50)}`);
    beforeAll(async () => {
      await rawSetMany(server, keys.map((k, i) => [k, `bv${i}`] as const));
    });

    it('maxBatchKeys 10: 1,000 keys go out as 100 get lines of 10 keys', async () => {
      const mc = client({ maxBatchKeys: 10, maxBatchBytes: 100_000 });
      const before = await cmdGet();
      const got = await mc.getMulti<string>(keys);
      expect(got).toEqual(new Map(keys.map((k, i) => [k, `bv${i}`])));
      expect(await cmdGet()).toBe(before + 1000);
      const lines = proxy.linesOf('get');
      console.log(`[multi] maxBatchKeys 10: ${lines.length} get lines for 1000 keys, cmd_get +${1000}`);
      expect(lines.length).toBe(100);
      for (const l of lines) expect(l.text!.split(' ').length - 1).toBe(10);
    });

    it('maxBatchBytes 300: no get line exceeds 300 bytes, and lines are filled', async () => {
      const mc = client({ maxBatchBytes: 300 });
      const got = await mc.getMulti<string>(keys);
      expect(got.size).toBe(1000);
      const lines = proxy.linesOf('get');
      const max = proxy.maxLineOf('get');
      const keyBytes = keys.reduce((a, k) => a + k.length + 1, 0);
      console.log(`[multi] maxBatchBytes 300: ${lines.length} get lines (longest ${max} bytes, \\r\\n included) for 1000 keys of ${keyBytes} bytes`);
      expect(max).toBeLessThanOrEqual(300);
      expect(lines.length).toBeLessThan((keyBytes / (300 - 60)) * 1.1 + 1); // near full: a line waits for no more than one key
      const seen = lines.flatMap((l) => l.text!.split(' ').slice(1));
      expect(seen.sort()).toEqual([...keys].sort());
    });

    it('gatMulti/gatsMulti lines stay under 2048 bytes even with huge caps, and really reset TTLs', async () => {
      const gatKeys = Array.from({ length: 1000 }, (_, i) => `gat-ttl-test:${String(i).padStart(5, '0')}:${'g'.repeat(40)}`);
      await rawSetMany(server, gatKeys.map((k, i) => [k, `gv${i}`] as const), 1000);
      const ttl0 = await rawTtls(server, gatKeys);
      expect([...ttl0.values()].every((t) => t! > 900 && t! <= 1000)).toBe(true);

      const mc = client({ maxBatchKeys: 10_000, maxBatchBytes: 100_000 });
      const got = await mc.gatMulti<string>(gatKeys, 5000);
      expect(got).toEqual(new Map(gatKeys.map((k, i) => [k, `gv${i}`])));
      const gatLines = proxy.linesOf('gat');
      const gatMax = proxy.maxLineOf('gat');
      const ttl1 = await rawTtls(server, gatKeys);
      const bad1 = gatKeys.filter((k) => !(ttl1.get(k)! > 4990 && ttl1.get(k)! <= 5000));
      expect(bad1.slice(0, 3).map((k) => `${k}: ${ttl1.get(k)}`)).toEqual([]);

      const gats = await mc.gatsMulti<string>(gatKeys, 0);
      expect(gats.size).toBe(1000);
      const rawCas = await rawCasOf(server, gatKeys.slice(0, 20));
      for (const k of gatKeys.slice(0, 20)) expect(gats.get(k)).toEqual({ value: `gv${gatKeys.indexOf(k)}`, cas: rawCas.get(k) });
      const gatsLines = proxy.linesOf('gats');
      const gatsMax = proxy.maxLineOf('gats');
      const ttl2 = await rawTtls(server, gatKeys);
      expect([...ttl2.values()].every((t) => t === -1)).toBe(true); // ttl 0: never expires
      console.log(`[multi] maxBatchBytes 100000: gat ${gatLines.length} lines (longest ${gatMax} bytes), gats ${gatsLines.length} lines (longest ${gatsMax} bytes) for 1000 keys of ${gatKeys[0]!.length} bytes`);
      expect(gatMax).toBeLessThan(2048);
      expect(gatsMax).toBeLessThan(2048);
      expect(gatLines.length).toBeGreaterThanOrEqual(30);

      // A TTL over 30 days goes out as an absolute time (10 digits): the lines still fit.
      proxy.reset();
      const days40 = 40 * 86_400;
      expect((await mc.gatMulti(gatKeys, days40)).size).toBe(1000);
      expect(proxy.maxLineOf('gat')).toBeLessThan(2048);
      const ttl3 = await rawTtls(server, gatKeys);
      // (memcached's clock ticks once a second and can lag under load: allow a few seconds either way.)
      const off = [...ttl3].filter(([, t]) => !(Math.abs(t! - days40) <= 10));
      expect(off.slice(0, 3), `remaining TTLs after gatMulti(ttl ${days40})`).toEqual([]);
    });
  });

  describe('coalescing of same-tick single gets', () => {
    const keys = Array.from({ length: 50 }, (_, i) => `co:${i}`);
    beforeAll(async () => {
      await rawSetMany(server, keys.map((k) => [k, `cv-${k}`] as const));
    });

    async function fifty(mc: Client): Promise<{ values: unknown[]; lines: number; texts: string[] }> {
      await mc.get('co:0'); // the socket is open and validated before counting
      proxy.reset();
      const values = await within(Promise.all([...keys, 'co:missing'].map((k) => mc.get(k))), 5000, '50 gets');
      return { values, lines: proxy.linesOf('get').length, texts: proxy.linesOf('get').map((l) => l.text ?? '') };
    }

    it('50 gets in one tick go out as far fewer lines; with coalesce: false as 51; same results', async () => {
      const on = await fifty(client());
      const off = await fifty(client({ coalesce: false }));
      console.log(`[multi] 51 same-tick gets: ${on.lines} get line(s) coalesced, ${off.lines} with coalesce: false`);
      const expected = [...keys.map((k) => `cv-${k}`), undefined];
      expect(on.values).toEqual(expected);
      expect(off.values).toEqual(expected);
      expect(on.lines).toBeLessThanOrEqual(2);
      expect(off.lines).toBe(51);
    });

    it('a key asked twice in the same tick is fetched once and both callers get the value', async () => {
      const mc = client();
      await mc.get('co:1');
      proxy.reset();
      const before = await cmdGet();
      const [a, b, c, d] = await within(Promise.all([mc.get('co:7'), mc.get('co:8'), mc.get('co:7'), mc.get('co:nope')]), 5000, 'gets');
      expect([a, b, c, d]).toEqual(['cv-co:7', 'cv-co:8', 'cv-co:7', undefined]);
      expect(proxy.linesOf('get').map((l) => l.text)).toEqual(['get co:7 co:8 co:nope']);
      expect(await cmdGet()).toBe(before + 3);
    });

    it('coalesced lines obey the batch caps', async () => {
      const mc = client({ maxBatchKeys: 8 });
      const r = await fifty(mc);
      expect(r.values).toEqual([...keys.map((k) => `cv-${k}`), undefined]);
      expect(r.lines).toBe(Math.ceil(51 / 8));
      for (const t of r.texts) expect(t.split(' ').length - 1).toBeLessThanOrEqual(8);
    });
  });
});

/** The cas unique of each key, read with a raw `gets`. */
async function rawCasOf(server: MemcachedServer, keys: string[]): Promise<Map<string, string>> {
  const reply = await server.command(`gets ${keys.join(' ')}\r\n`);
  return new Map([...reply.matchAll(/^VALUE (\S+) \d+ \d+ (\d+)\r$/gm)].map((m) => [m[1]!, m[2]!]));
}

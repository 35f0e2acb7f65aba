/**
 * Differential: the same calls on the real `memcached` 2.2.2 and on `memcluster/compat`, against
 * the same real servers (each client in its own namespace), must give the same callback shapes,
 * results, errors and `this`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { call, Legacy, ok } from './helpers.js';

type Both = Array<{ name: string; mc: any; ns: string }>;

describe('memcluster/compat answers every call as memcached 2.2.2 does', () => {
  const servers = useMemcached(2);
  let both: Both;
  beforeAll(() => {
    const locations = servers.map((s) => s.address);
    both = [
      { name: 'memcached 2.2.2', mc: new Legacy(locations, { namespace: 'L:', retries: 0, timeout: 2000 }), ns: 'L:' },
      { name: 'compat', mc: new Memcached(locations, { namespace: 'C:', timeout: 2000 }), ns: 'C:' },
    ];
  });
  afterAll(() => both?.forEach((b) => b.mc.end()));

  /** Runs the call on both clients; returns [legacy, compat] outcomes. */
  async function each(method: string, ...args: unknown[]) {
    return Promise.all(both.map((b) => call(b.mc, method, args)));
  }

  it('set / get / get miss: data and `this` (the query object)', async () => {
    const [l, c] = await each('set', 'a', 'hello', 0);
    expect([l.err, l.data]).toEqual([undefined, true]);
    expect([c.err, c.data]).toEqual([undefined, true]);
    for (const [r, b] of [[l, both[0]!], [c, both[1]!]] as const) {
      expect(r.self.key).toBe(`${b.ns}a`);
      expect(r.self.type).toBe('set');
      expect(r.self.lifetime).toBe(0);
      expect(typeof r.self.command).toBe('string');
      expect(r.self.command.startsWith(`set ${b.ns}a 0 0 5`)).toBe(true);
    }
    const gets = await each('get', 'a');
    for (const [r, b] of gets.map((g, i) => [g, both[i]!] as const)) {
      expect([r.err, r.data]).toEqual([undefined, 'hello']);
      expect(r.self).toMatchObject({ key: `${b.ns}a`, type: 'get', command: `get ${b.ns}a` });
      expect(typeof r.self.start).toBe('number');
    }
    const miss = await each('get', 'nope');
    for (const r of miss) expect([r.err, r.data]).toEqual([undefined, undefined]);
  });

  it('add / replace / append / prepend that do not store: Error with notStored and data false', async () => {
    await each('set', 'ar', 'x', 0);
    for (const [method, key, args] of [['add', 'ar', ['y', 0]], ['replace', 'absent', ['y', 0]], ['append', 'absent', ['y']], ['prepend', 'absent', ['y']]] as const) {
      const rs = await each(method, key, ...args);
      for (const r of rs) {
        expect(r.err, `${method}`).toBeInstanceOf(Error);
        expect(r.err.notStored).toBe(true);
        expect(r.err.message).toBe('Item is not stored');
        expect(r.data).toBe(false);
      }
    }
    const stored = await each('append', 'ar', '-end');
    for (const r of stored) expect([r.err, r.data]).toEqual([undefined, true]);
    await each('prepend', 'ar', 'start-');
    for (const r of await each('get', 'ar')) expect(r.data).toBe('start-x-end');
    for (const r of await each('replace', 'ar', { o: 1 }, 0)) expect([r.err, r.data]).toEqual([undefined, true]);
    for (const r of await each('get', 'ar')) expect(r.data).toEqual({ o: 1 });
  });

  it('gets and cas: { [key]: value, cas: string }; cas true, then false when changed or gone', async () => {
    await each('set', 'g', { n: 1 }, 0);
    const gs = await each('gets', 'g');
    const l = gs[0]!;
    const c = gs[1]!;
    expect(typeof l.data.cas).toBe('string');
    expect(Object.keys(l.data)).toEqual(['L:g', 'cas']); // 2.2.2 keys it by the namespaced key...
    expect(Object.keys(c.data)).toEqual(['C:g', 'cas']); // ...so does compat...
    expect(c.data['C:g']).toEqual({ n: 1 });
    expect(c.data.g).toEqual({ n: 1 }); // ...and your own key reads it too (unlisted)
    expect(l.data.g).toBeUndefined();
    expect(c.data.cas).toMatch(/^\d+$/);
    expect(c.self).toMatchObject({ key: 'C:g', type: 'gets' });
    for (const [i, r] of gs.entries()) {
      const mc = both[i]!.mc;
      expect((await call(mc, 'cas', ['g', 'v2', r.data.cas, 0])).data).toBe(true);
      const stale = await call(mc, 'cas', ['g', 'v3', r.data.cas, 0]);
      expect([stale.err, stale.data]).toEqual([undefined, false]);
      expect(await ok(mc, 'get', 'g')).toBe('v2');
    }
    for (const r of await each('gets', 'nothing')) expect([r.err, r.data]).toEqual([undefined, undefined]);
  });

  it('incr / decr and their aliases: the number, or false when missing; an error on a non-number', async () => {
    for (const r of await each('incr', 'cnt', 1)) expect([r.err, r.data]).toEqual([undefined, false]);
    await each('set', 'cnt', 5, 0);
    for (const r of await each('incr', 'cnt', 3)) expect([r.err, r.data]).toEqual([undefined, 8]);
    for (const r of await each('increment', 'cnt', 2)) expect(r.data).toBe(10);
    for (const r of await each('decrement', 'cnt', 4)) expect(r.data).toBe(6);
    for (const r of await each('decr', 'cnt', 100)) expect(r.data).toBe(0);
    await each('set', 'word', 'abc', 0);
    for (const r of await each('incr', 'word', 1)) expect(r.err).toBeInstanceOf(Error);
    for (const r of await each('incr', 'cnt', 1)) expect(r.self).toMatchObject({ type: 'incr', value: 1 });
  });

  it('del / delete / touch: true, then false when missing', async () => {
    await each('set', 'd', 'x', 0);
    for (const r of await each('touch', 'd', 100)) expect([r.err, r.data]).toEqual([undefined, true]);
    for (const r of await each('touch', 'gone', 100)) expect([r.err, r.data]).toEqual([undefined, false]);
    for (const r of await each('del', 'd')) expect([r.err, r.data]).toEqual([undefined, true]);
    for (const r of await each('delete', 'd')) expect([r.err, r.data]).toEqual([undefined, false]);
    for (const r of await each('get', 'd')) expect(r.data).toBeUndefined();
  });

  it('getMulti: { key: value } for hits only, err undefined, `this` undefined', async () => {
    for (let i = 0; i < 30; i++) await each('set', `m${i}`, i % 3 === 0 ? { i } : `v${i}`, 0);
    const keys = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const [l, c] = await each('getMulti', keys);
    expect(l!.err).toBeUndefined();
    expect(c!.err).toBeUndefined();
    expect(Object.keys(c!.data).sort()).toEqual(Object.keys(l!.data).sort());
    expect(c!.data).toEqual(l!.data);
    expect(Object.keys(c!.data)).toHaveLength(30);
    expect(c!.self).toBeUndefined();
  });

  it('version / stats / settings / slabs / items / flush: one entry per server', async () => {
    const addresses = servers.map((s) => s.address).sort();
    for (const r of await each('version')) {
      expect(r.err).toBeUndefined();
      expect(r.data.map((v: any) => v.server).sort()).toEqual(addresses);
      for (const v of r.data) {
        expect(v.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(v.version).toBe(`${v.major}.${v.minor}.${v.bugfix}`);
      }
    }
    const [ls, cs] = await each('stats');
    expect(cs!.data.map((s: any) => s.server).sort()).toEqual(addresses);
    for (const s of cs!.data) expect(Object.keys(s).sort()).toEqual(Object.keys(ls!.data[0]).sort());
    expect(typeof cs!.data[0].pid).toBe('number');
    for (const method of ['settings', 'statsSettings']) {
      const [, c] = await each(method);
      expect(c!.data).toHaveLength(2);
      expect(c!.data[0].maxconns).toBeTypeOf('number');
    }
    const [lslabs, cslabs] = await each('slabs');
    expect(Object.keys(cslabs!.data[0]).sort()).toEqual(Object.keys(lslabs!.data.find((x: any) => x.server === cslabs!.data[0].server)).sort());
    expect(cslabs!.data[0].active_slabs).toEqual({ undefined: expect.any(Number) }); // 2.2.2's grouping, as it was
    const [litems, citems] = await each('items');
    const byServer = (arr: any[]) => Object.fromEntries(arr.map((x) => [x.server, Object.keys(x).sort()]));
    expect(byServer(citems!.data)).toEqual(byServer(litems!.data));
    const [lf, cf] = await each('flush');
    expect(lf!.data).toEqual([true, true]);
    expect([cf!.err, cf!.data]).toEqual([undefined, [true, true]]);
    for (const alias of ['flushAll', 'statsSlabs', 'statsItems']) expect((await call(both[1]!.mc, alias, [])).data).toHaveLength(2);
  });

});

describe('cachedump', () => {
  // One LRU per slab, so `stats cachedump` lists every item (1.6's segmented LRU lists only some).
  const servers = useMemcached(1, { args: ['-o', 'no_lru_maintainer'] });

  it('calls back with undefined, the item, then an array of { key, b, s }, as 2.2.2', async () => {
    const address = servers[0]!.address;
    const mc = new Memcached(address);
    const legacy = new Legacy(address, { retries: 0 });
    try {
      expect(await ok(mc, 'cachedump', address, 1, 10)).toBeUndefined();
      await ok(mc, 'set', 'dump1', 'x'.repeat(10), 0);
      const items = await ok(mc, 'items');
      const slab = Number(Object.keys(items[0]).find((k) => k !== 'server'));
      const single = await call(mc, 'cachedump', [address, slab, 10]);
      expect(single.data).toEqual({ key: 'dump1', b: 10, s: 0 });
      expect(single.self).toMatchObject({ type: 'stats cachedump', command: `stats cachedump ${slab} 10` });
      await ok(mc, 'set', 'dump2', 'y'.repeat(10), 1000);
      const dump = await ok(mc, 'cachedump', address, slab, 10);
      expect(dump).toEqual(await ok(legacy, 'cachedump', address, slab, 10));
      expect(dump.map((d: any) => d.key).sort()).toEqual(['dump1', 'dump2']);
      expect(dump.find((d: any) => d.key === 'dump2').s).toBeGreaterThan(Date.now() / 1000);
      const bad = await call(mc, 'cachedump', [address, 'x', 10]);
      expect(bad.err.message).toBe('Argument "slabid" is not a valid Number.');
    } finally {
      mc.end();
      legacy.end();
    }
  });
});

describe('calls 2.2.2 dropped or mishandled', () => {
  const servers = useMemcached(1);

  it('a call without a callback is still sent; lifetime and amount may be omitted', async () => {
    const mc = new Memcached(servers[0]!.address) as any;
    const legacy = new Legacy(servers[0]!.address, { retries: 0 }) as any;
    try {
      mc.set('fire', 'and forget', 0);
      legacy.set('legacy-fire', 'never sent', 0); // 2.2.2: validation fails on the missing callback, nothing is sent
      expect(await ok(mc, 'set', 'nolife', 'v')).toBe(true);
      expect(await ok(mc, 'get', 'fire')).toBe('and forget');
      expect(await ok(mc, 'get', 'legacy-fire')).toBeUndefined();
      await ok(mc, 'set', 'n', 1, 0);
      expect(await ok(mc, 'incr', 'n')).toBe(2);
    } finally {
      mc.end();
      legacy.end();
    }
  });

  it('a key that would inject a command is refused before anything is written', async () => {
    const mc = new Memcached(servers[0]!.address) as any;
    try {
      const r = await call(mc, 'set', ['x 0 0 1\r\nset injected 0 0 1\r\nz', 'v', 0]);
      expect(r.err.code).toBe('MC_ERR_INVALID_KEY');
      expect(r.err.message).toBe('The key should not contain any whitespace or new lines');
      expect(r.data).toBeUndefined(); // 2.2.2's validation called back with the error alone
      expect(await servers[0]!.command('get injected\r\n')).toBe('END\r\n');
      expect((await call(mc, 'get', [{ an: 'object' }])).err.message).toBe('Argument "key" is not a valid String.');
      await ok(mc, 'set', 42, 'numeric keys work, as in 2.2.2', 0);
      expect(await ok(mc, 'get', '42')).toBe('numeric keys work, as in 2.2.2');
    } finally {
      mc.end();
    }
  });
});

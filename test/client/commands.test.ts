/**
 * Every public command of `Client` against real memcached 1.6.18: its success and its negative
 * outcome. What the client reports is cross-checked with raw requests on fresh sockets
 * (`server.command`), independent of the client under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, ClientErrorReply, MemclusterError } from '../../src/index.js';
import { rejection } from '../support/assert.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { eventually } from '../support/timing.js';
import { Ring } from '../../src/cluster/ring.js';


/** One item as a raw `get` on one server shows it. */
interface RawItem {
  flags: number;
  data: string;
}

/** Raw `get` on one server: the item, or undefined when that server answers a bare `END`. */
async function rawGet(server: MemcachedServer, key: string): Promise<RawItem | undefined> {
  const reply = await server.command(`get ${key}\r\n`);
  if (reply === 'END\r\n') return undefined;
  const m = /^VALUE (\S+) (\d+) (\d+)\r\n/.exec(reply);
  if (!m || m[1] !== key) throw new Error(`unexpected raw reply to get ${key}: ${JSON.stringify(reply)}`);
  const head = m[0].length;
  const body = Buffer.from(reply.slice(head), 'utf8');
  const len = Number(m[3]);
  expect(body.subarray(len).toString('utf8')).toBe('\r\nEND\r\n');
  return { flags: Number(m[2]), data: body.subarray(0, len).toString('utf8') };
}

/** Which servers hold `key` (raw `get` on each). A routed key must be on exactly one. */
async function holders(servers: MemcachedServer[], key: string): Promise<Array<{ server: MemcachedServer; item: RawItem }>> {
  const out: Array<{ server: MemcachedServer; item: RawItem }> = [];
  for (const server of servers) {
    const item = await rawGet(server, key);
    if (item) out.push({ server, item });
  }
  return out;
}

/** The one server holding `key`; fails the test when zero or several do. */
async function holder(servers: MemcachedServer[], key: string): Promise<{ server: MemcachedServer; item: RawItem }> {
  const h = await holders(servers, key);
  expect(h.map((x) => x.server.address), `servers holding ${key}`).toHaveLength(1);
  return h[0]!;
}

/** Remaining TTL of an item through the meta protocol (`mg <key> t`): seconds, -1 for none, undefined on a miss. */
async function rawTtl(server: MemcachedServer, key: string): Promise<number | undefined> {
  const reply = await server.command(`mg ${key} t\r\n`);
  if (reply === 'EN\r\n') return undefined;
  const m = /^HD t(-?\d+)\r\n$/.exec(reply);
  if (!m) throw new Error(`unexpected reply to mg ${key} t: ${JSON.stringify(reply)}`);
  return Number(m[1]);
}

let seq = 0;
/** A key no other test uses. */
const uniq = (name: string) => `cmd:${process.pid}:${++seq}:${name}`;

describe('Client commands against 3 real memcached servers', () => {
  const servers = useMemcached(3);
  let mc: Client;
  let all: MemcachedServer[];

  beforeAll(() => {
    all = [...servers];
    mc = new Client(all.map((s) => s.address), { timeoutMs: 2000 });
  });
  afterAll(async () => {
    await mc?.close();
  });

  describe('get / gets', () => {
    it('get: a hit resolves with the value, a miss with undefined', async () => {
      const k = uniq('get');
      expect(await mc.get(k)).toBeUndefined();
      expect(await holders(all, k)).toHaveLength(0);
      expect(await mc.set(k, 'hello')).toBe(true);
      const h = await holder(all, k);
      expect(h.item).toEqual({ flags: 0, data: 'hello' });
      expect(await mc.get(k)).toBe('hello');
      expect(await mc.get(uniq('never-set'))).toBeUndefined();
    });

    it('get routes every key to the one server that holds it, over all 3 servers', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => uniq(`route${i}`));
      for (const [i, k] of keys.entries()) expect(await mc.set(k, { i })).toBe(true);
      const used = new Set<string>();
      for (const k of keys) used.add((await holder(all, k)).server.address);
      expect(used.size).toBe(3);
      const got = await Promise.all(keys.map((k) => mc.get(k)));
      expect(got).toEqual(keys.map((_, i) => ({ i })));
    });

    it('gets: the value and a decimal cas string equal to the server\'s; a miss is undefined', async () => {
      const k = uniq('gets');
      expect(await mc.gets(k)).toBeUndefined();
      await mc.set(k, 'v1');
      const r = await mc.gets<string>(k);
      expect(r).toBeDefined();
      expect(r!.value).toBe('v1');
      expect(r!.cas).toMatch(/^\d+$/);
      const { server } = await holder(all, k);
      const raw = await server.command(`gets ${k}\r\n`);
      const m = /^VALUE \S+ 0 2 (\d+)\r\n/.exec(raw);
      expect(m?.[1]).toBe(r!.cas);
      await mc.set(k, 'v2');
      const r2 = await mc.gets<string>(k);
      expect(r2!.value).toBe('v2');
      expect(r2!.cas).not.toBe(r!.cas);
    });
  });

  describe('set / add / replace', () => {
    it('set stores unconditionally and resolves true, overwriting', async () => {
      const k = uniq('set');
      expect(await mc.set(k, 'a')).toBe(true);
      expect((await holder(all, k)).item.data).toBe('a');
      expect(await mc.set(k, 'b')).toBe(true);
      expect((await holder(all, k)).item.data).toBe('b');
    });

    it('add: true when absent; false when present, and the value is left alone', async () => {
      const k = uniq('add');
      expect(await mc.add(k, 'first')).toBe(true);
      expect((await holder(all, k)).item.data).toBe('first');
      expect(await mc.add(k, 'second')).toBe(false);
      expect((await holder(all, k)).item.data).toBe('first');
      expect(await mc.get(k)).toBe('first');
    });

    it('replace: false when absent (nothing created); true when present, and the value changes', async () => {
      const k = uniq('replace');
      expect(await mc.replace(k, 'x')).toBe(false);
      expect(await holders(all, k)).toHaveLength(0);
      await mc.set(k, 'old');
      expect(await mc.replace(k, 'new')).toBe(true);
      expect((await holder(all, k)).item.data).toBe('new');
    });
  });

  describe('append / prepend', () => {
    it('append and prepend add the exact bytes to an existing item (flags kept)', async () => {
      const k = uniq('ap');
      await mc.set(k, 'mid');
      expect(await mc.append(k, '-end')).toBe(true);
      expect(await mc.prepend(k, 'start-')).toBe(true);
      expect(await mc.append(k, Buffer.from('!'))).toBe(true);
      expect((await holder(all, k)).item).toEqual({ flags: 0, data: 'start-mid-end!' });
      expect(await mc.get(k)).toBe('start-mid-end!');
    });

    it('append to a number item keeps its flags (8): "12" + "3" reads back as 123', async () => {
      const k = uniq('apnum');
      await mc.set(k, 12);
      expect(await mc.append(k, '3')).toBe(true);
      expect((await holder(all, k)).item).toEqual({ flags: 8, data: '123' });
      expect(await mc.get(k)).toBe(123);
    });

    it('append / prepend resolve false when the key is absent, and create nothing', async () => {
      const k = uniq('ap-absent');
      expect(await mc.append(k, 'x')).toBe(false);
      expect(await mc.prepend(k, 'y')).toBe(false);
      expect(await holders(all, k)).toHaveLength(0);
    });
  });

  describe('cas', () => {
    it('cas with the fresh token stores and resolves true', async () => {
      const k = uniq('cas-ok');
      await mc.set(k, 'v1');
      const { cas } = (await mc.gets(k))!;
      expect(await mc.cas(k, 'v2', cas)).toBe(true);
      expect((await holder(all, k)).item.data).toBe('v2');
      // The token is spent: the item's cas changed with the write.
      expect((await mc.gets(k))!.cas).not.toBe(cas);
    });

    it('cas after another write changed the item resolves false (EXISTS) and keeps the other write', async () => {
      const k = uniq('cas-exists');
      await mc.set(k, 'v1');
      const { cas } = (await mc.gets(k))!;
      await mc.set(k, 'other');
      const { server } = await holder(all, k);
      const before = Number((await server.stats()).cas_badval);
      expect(await mc.cas(k, 'mine', cas)).toBe(false);
      expect(Number((await server.stats()).cas_badval)).toBe(before + 1);
      expect((await holder(all, k)).item.data).toBe('other');
    });

    it('cas on a deleted item resolves false (NOT_FOUND) and creates nothing', async () => {
      const k = uniq('cas-gone');
      await mc.set(k, 'v1');
      const { cas } = (await mc.gets(k))!;
      const { server } = await holder(all, k);
      expect(await mc.delete(k)).toBe(true);
      const before = Number((await server.stats()).cas_misses);
      expect(await mc.cas(k, 'mine', cas)).toBe(false);
      expect(Number((await server.stats()).cas_misses)).toBe(before + 1);
      expect(await holders(all, k)).toHaveLength(0);
    });
  });

  describe('incr / decr', () => {
    it('incr and decr resolve the new number; the stored text changes', async () => {
      const k = uniq('ctr');
      await mc.set(k, '10');
      expect(await mc.incr(k)).toBe(11);
      expect(await mc.incr(k, 5)).toBe(16);
      expect(await mc.decr(k, 6)).toBe(10);
      expect(await mc.decr(k)).toBe(9);
      // memcached decrements in place: a shorter number is padded with spaces, not truncated.
      expect((await holder(all, k)).item.data.trimEnd()).toBe('9');
    });

    it('a counter stored as a number (flags 8) reads back as a number after incr', async () => {
      const k = uniq('ctr-num');
      await mc.set(k, 41);
      expect(await mc.incr(k)).toBe(42);
      expect(await mc.get(k)).toBe(42);
    });

    it('incr / decr resolve false when the key is absent, and create nothing', async () => {
      const k = uniq('ctr-absent');
      expect(await mc.incr(k)).toBe(false);
      expect(await mc.decr(k, 3)).toBe(false);
      expect(await holders(all, k)).toHaveLength(0);
    });

    it('decr stops at 0', async () => {
      const k = uniq('ctr-zero');
      await mc.set(k, '3');
      expect(await mc.decr(k, 10)).toBe(0);
      expect(await mc.decr(k)).toBe(0);
      expect((await holder(all, k)).item.data.trimEnd()).toBe('0');
    });

    it('takes the delta as a bigint', async () => {
      const k = uniq('ctr-big');
      await mc.set(k, '1');
      expect(await mc.incr(k, 5n)).toBe(6);
      expect(await mc.incr(k, 2n ** 40n)).toBe(6 + 2 ** 40);
      expect(await mc.decr(k, 2n ** 40n)).toBe(6);
      expect((await holder(all, k)).item.data.trimEnd()).toBe('6'); // decr pads in place with spaces
    });

    it('incr on a non-numeric value rejects with a typed error naming the server; the next request works', async () => {
      const k = uniq('ctr-text');
      await mc.set(k, 'abc');
      const { server } = await holder(all, k);
      const err = await rejection(() => mc.incr(k));
      expect(err).toBeInstanceOf(ClientErrorReply);
      expect(err).toBeInstanceOf(MemclusterError);
      expect((err as MemclusterError).code).toBe('MC_ERR_CLIENT_ERROR');
      expect((err as MemclusterError).server).toBe(server.address);
      expect((err as Error).message).toMatch(/non-numeric/);
      // The same server, right after: the client still works and the item is unchanged.
      expect(await mc.get(k)).toBe('abc');
      const n = uniq('ctr-after');
      await mc.set(n, '1');
      expect(await mc.incr(n)).toBe(2);
      expect(await mc.decr(k).catch((e: unknown) => e)).toBeInstanceOf(ClientErrorReply);
      expect(await mc.get(k)).toBe('abc');
    });
  });

  describe('delete / touch / gat / gats', () => {
    it('delete: true when deleted (and really gone), false when absent', async () => {
      const k = uniq('del');
      await mc.set(k, 'v');
      expect(await mc.delete(k)).toBe(true);
      expect(await holders(all, k)).toHaveLength(0);
      expect(await mc.delete(k)).toBe(false);
    });

    it('touch: true and the TTL set on the server; false when absent', async () => {
      const k = uniq('touch');
      await mc.set(k, 'v', { ttl: 1000 });
      const { server } = await holder(all, k);
      expect(await rawTtl(server, k)).toBeGreaterThan(990);
      expect(await mc.touch(k, 50)).toBe(true);
      const ttl = await rawTtl(server, k);
      expect(ttl).toBeGreaterThanOrEqual(48);
      expect(ttl).toBeLessThanOrEqual(50);
      expect(await mc.touch(uniq('touch-absent'), 10)).toBe(false);
    });

    it('gat: the value with its TTL reset; a miss is undefined', async () => {
      const k = uniq('gat');
      await mc.set(k, { a: 1 }, { ttl: 5 });
      const { server } = await holder(all, k);
      expect(await mc.gat(k, 500)).toEqual({ a: 1 });
      const ttl = await rawTtl(server, k);
      expect(ttl).toBeGreaterThanOrEqual(498);
      expect(ttl).toBeLessThanOrEqual(500);
      expect(await mc.gat(uniq('gat-miss'), 10)).toBeUndefined();
    });

    it('gats: the value and cas with the TTL reset (0 = never expires); a miss is undefined', async () => {
      const k = uniq('gats');
      await mc.set(k, 'v', { ttl: 5 });
      const { server } = await holder(all, k);
      const r = await mc.gats<string>(k, 0);
      expect(r?.value).toBe('v');
      expect(r?.cas).toMatch(/^\d+$/);
      expect(await rawTtl(server, k)).toBe(-1);
      expect(await mc.cas(k, 'w', r!.cas)).toBe(true);
      expect(await mc.gats(uniq('gats-miss'), 10)).toBeUndefined();
    });
  });

  describe.concurrent('TTL over time', () => {
    /**
     * A fresh key on the same server as `key`: each memcached process counts its own seconds, so
     * only a twin on the same server shows that a 1 s TTL set at the same moment has passed there.
     */
    const twinOf = (key: string): string => {
      const ring = new Ring(all.map((s) => s.address));
      for (let i = 0; ; i++) if (ring.get(`${key}:twin${i}`) === ring.get(key)) return `${key}:twin${i}`;
    };
    /** Waits until `key` (set with ttl 1) has expired: a 1 s TTL set before it has passed on that server. */
    const expired = (key: string): Promise<void> =>
      eventually(async () => (await mc.get(key)) === undefined, 2000, `${key} (ttl 1) expires`);

    it('ttl 1: gone within ~2 s (memcached counts whole seconds)', async () => {
      const k = uniq('ttl1');
      expect(await mc.set(k, 'v', { ttl: 1 })).toBe(true);
      expect(await mc.get(k)).toBe('v');
      await eventually(async () => (await mc.get(k)) === undefined, 2000, 'an item with ttl 1 expires');
      expect(await holders(all, k)).toHaveLength(0);
    });

    it('touch really resets the TTL: set ttl 1, touch 10, still there once an untouched twin is gone', async () => {
      const k = uniq('touched');
      const twin = twinOf(k);
      await mc.set(k, 'v', { ttl: 1 });
      await mc.set(twin, 'v', { ttl: 1 });
      expect(await mc.touch(k, 10)).toBe(true);
      await expired(twin);
      expect(await mc.get(k)).toBe('v');
    });

    it('gat really resets the TTL: set ttl 1, gat 10, still there once an untouched twin is gone', async () => {
      const k = uniq('gatted');
      const twin = twinOf(k);
      await mc.set(k, 'v', { ttl: 1 });
      await mc.set(twin, 'v', { ttl: 1 });
      expect(await mc.gat(k, 10)).toBe('v');
      await expired(twin);
      expect(await mc.get(k)).toBe('v');
    });

    it('a ttl of 40 days is stored, readable, and ~40 days on the server (not expired at once)', async () => {
      const k = uniq('ttl40d');
      const forty = 40 * 86_400;
      expect(await mc.set(k, 'long', { ttl: forty })).toBe(true);
      expect(await mc.get(k)).toBe('long');
      const { server } = await holder(all, k);
      const ttl = await rawTtl(server, k);
      expect(ttl).toBeGreaterThan(forty - 10);
      expect(ttl).toBeLessThanOrEqual(forty + 1);
      // Still there once a second has passed on its server (read as a unix time, 40 days would be 1970).
      const twin = twinOf(k);
      await mc.set(twin, 'x', { ttl: 1 });
      await expired(twin);
      expect(await mc.get(k)).toBe('long');
    });

    it('ttls of exactly 30 days and 30 days + 1 s are both ~30 days on the server', async () => {
      const thirty = 30 * 86_400;
      for (const t of [thirty, thirty + 1]) {
        const k = uniq(`ttl30d+${t - thirty}`);
        expect(await mc.set(k, 'v', { ttl: t })).toBe(true);
        expect(await mc.get(k)).toBe('v');
        const ttl = await rawTtl((await holder(all, k)).server, k);
        expect(ttl).toBeGreaterThan(t - 10);
        expect(ttl).toBeLessThanOrEqual(t + 1);
      }
    });

    it('touch and gat with a 40-day ttl keep the item', async () => {
      const forty = 40 * 86_400;
      const k = uniq('touch40d');
      await mc.set(k, 'v', { ttl: 1 });
      expect(await mc.touch(k, forty)).toBe(true);
      const g = uniq('gat40d');
      const twins = [twinOf(k), twinOf(g)];
      await mc.set(g, 'w', { ttl: 1 });
      expect(await mc.gat(g, forty)).toBe('w');
      // Set after k and g: once they expire, the 1 s ttl k and g were set with has passed too.
      for (const t of twins) await mc.set(t, 'x', { ttl: 1 });
      for (const t of twins) await expired(t);
      expect(await mc.get(k)).toBe('v');
      expect(await mc.get(g)).toBe('w');
    });
  });

  describe('multi-key reads', () => {
    it('getMulti: hits under the caller\'s keys, misses absent, duplicates once, across all servers', async () => {
      const keys = Array.from({ length: 24 }, (_, i) => uniq(`gm${i}`));
      for (const [i, k] of keys.entries()) await mc.set(k, `v${i}`);
      const servers = new Set<string>();
      for (const k of keys) servers.add((await holder(all, k)).server.address);
      expect(servers.size).toBe(3);
      const misses = [uniq('gm-miss1'), uniq('gm-miss2')];
      const asked = [misses[0]!, ...keys, keys[0]!, misses[1]!, keys[5]!];
      const m = await mc.getMulti<string>(asked);
      expect(m).toBeInstanceOf(Map);
      expect(m.size).toBe(keys.length);
      for (const [i, k] of keys.entries()) expect(m.get(k)).toBe(`v${i}`);
      for (const k of misses) expect(m.has(k)).toBe(false);
    });

    it('getMulti over more keys than one batch (250 keys) returns every hit', async () => {
      const keys = Array.from({ length: 250 }, (_, i) => uniq(`gmb${i}`));
      const stored = keys.filter((_, i) => i % 5 !== 0);
      const r = await mc.setMulti(stored.map((k) => [k, k.length] as const));
      expect([...r.values()].every((v) => v === true)).toBe(true);
      const m = await mc.getMulti<number>(keys);
      expect(m.size).toBe(stored.length);
      for (const k of stored) expect(m.get(k)).toBe(k.length);
    });

    it('an empty key list resolves with an empty Map for every multi read', async () => {
      for (const m of [await mc.getMulti([]), await mc.getsMulti([]), await mc.gatMulti([], 10), await mc.gatsMulti([], 10)]) {
        expect(m).toBeInstanceOf(Map);
        expect(m.size).toBe(0);
      }
    });

    it('getsMulti: value + the server\'s cas per hit, usable with cas()', async () => {
      const keys = Array.from({ length: 9 }, (_, i) => uniq(`gsm${i}`));
      for (const [i, k] of keys.entries()) await mc.set(k, i);
      const miss = uniq('gsm-miss');
      const m = await mc.getsMulti<number>([...keys, miss, keys[2]!]);
      expect(m.size).toBe(keys.length);
      expect(m.has(miss)).toBe(false);
      for (const [i, k] of keys.entries()) {
        const r = m.get(k)!;
        expect(r.value).toBe(i);
        expect(r.cas).toBe((await mc.gets(k))!.cas);
      }
      expect(await mc.cas(keys[0]!, 'changed', m.get(keys[0]!)!.cas)).toBe(true);
      expect(await mc.cas(keys[0]!, 'again', m.get(keys[0]!)!.cas)).toBe(false);
      expect(await mc.get(keys[0]!)).toBe('changed');
    });

    it('gatMulti: hits with their TTL reset on the server, misses absent, duplicates once', async () => {
      const keys = Array.from({ length: 9 }, (_, i) => uniq(`gatm${i}`));
      for (const k of keys) await mc.set(k, { k }, { ttl: 5 });
      const miss = uniq('gatm-miss');
      const m = await mc.gatMulti<{ k: string }>([keys[1]!, ...keys, miss], 700);
      expect(m.size).toBe(keys.length);
      expect(m.has(miss)).toBe(false);
      for (const k of keys) {
        expect(m.get(k)).toEqual({ k });
        const ttl = await rawTtl((await holder(all, k)).server, k);
        expect(ttl).toBeGreaterThanOrEqual(698);
        expect(ttl).toBeLessThanOrEqual(700);
      }
    });

    it('gatMulti with many long keys (a line far over 2 KB) still answers every key', async () => {
      const keys = Array.from({ length: 60 }, (_, i) => uniq(`long${i}:`.padEnd(200, 'x')));
      for (const k of keys) expect(Buffer.byteLength(k)).toBeLessThanOrEqual(250);
      const r = await mc.setMulti(keys.map((k, i) => [k, i] as const), { ttl: 5 });
      expect(r.size).toBe(keys.length);
      const m = await mc.gatMulti<number>(keys, 600);
      expect(m.size).toBe(keys.length);
      keys.forEach((k, i) => expect(m.get(k)).toBe(i));
      const ttl = await rawTtl((await holder(all, keys[59]!)).server, keys[59]!);
      expect(ttl).toBeGreaterThanOrEqual(598);
    });

    it('gatsMulti: value + cas with the TTL reset; misses absent', async () => {
      const keys = Array.from({ length: 6 }, (_, i) => uniq(`gatsm${i}`));
      for (const k of keys) await mc.set(k, k, { ttl: 5 });
      const miss = uniq('gatsm-miss');
      const m = await mc.gatsMulti<string>([...keys, miss, keys[3]!], 0);
      expect(m.size).toBe(keys.length);
      expect(m.has(miss)).toBe(false);
      for (const k of keys) {
        const r = m.get(k)!;
        expect(r.value).toBe(k);
        expect(r.cas).toMatch(/^\d+$/);
        expect(await rawTtl((await holder(all, k)).server, k)).toBe(-1);
      }
    });
  });

  describe('multi-key writes', () => {
    it('setMulti: per-key true, each item on its server; a Map works as input', async () => {
      const keys = Array.from({ length: 15 }, (_, i) => uniq(`sm${i}`));
      const r = await mc.setMulti(new Map(keys.map((k, i) => [k, { i }])));
      expect(r).toBeInstanceOf(Map);
      expect([...r.keys()].sort()).toEqual([...keys].sort());
      for (const k of keys) expect(r.get(k)).toBe(true);
      for (const [i, k] of keys.entries()) {
        const h = await holder(all, k);
        expect(h.item).toEqual({ flags: 2, data: JSON.stringify({ i }) });
      }
    });

    it('setMulti with a ttl stores with that ttl', async () => {
      const keys = [uniq('smt1'), uniq('smt2')];
      await mc.setMulti(keys.map((k) => [k, 'v'] as const), { ttl: 300 });
      for (const k of keys) {
        const ttl = await rawTtl((await holder(all, k)).server, k);
        expect(ttl).toBeGreaterThanOrEqual(298);
        expect(ttl).toBeLessThanOrEqual(300);
      }
    });

    it('deleteMulti: per-key true (deleted) / false (absent), items really gone', async () => {
      const present = Array.from({ length: 8 }, (_, i) => uniq(`dm${i}`));
      const absent = [uniq('dm-absent1'), uniq('dm-absent2')];
      for (const k of present) await mc.set(k, 1);
      const r = await mc.deleteMulti([...present, ...absent]);
      expect(r.size).toBe(present.length + absent.length);
      for (const k of present) expect(r.get(k)).toBe(true);
      for (const k of absent) expect(r.get(k)).toBe(false);
      for (const k of present) expect(await holders(all, k)).toHaveLength(0);
      expect((await mc.deleteMulti([])).size).toBe(0);
    });
  });

  describe('server-wide commands', () => {
    it('version: one entry per server host:port, each 1.6.x', async () => {
      const v = await mc.version();
      expect([...v.keys()].sort()).toEqual(all.map((s) => s.address).sort());
      for (const s of all) {
        expect(v.get(s.address)).toMatch(/^1\.6\./);
        expect(`VERSION ${v.get(s.address)}\r\n`).toBe(await s.command('version\r\n'));
      }
    });

    it('stats(): per server, the server\'s own figures', async () => {
      const k = uniq('stats');
      await mc.set(k, 'v');
      const st = await mc.stats();
      expect([...st.keys()].sort()).toEqual(all.map((s) => s.address).sort());
      for (const s of all) {
        const mine = st.get(s.address)!;
        expect(mine.pid).toBe(String(s.pid));
        expect(mine.version).toMatch(/^1\.6\./);
        expect(mine.curr_items).toMatch(/^\d+$/);
        expect(mine.curr_items).toBe((await s.stats()).curr_items);
      }
      const { server } = await holder(all, k);
      expect(Number(st.get(server.address)!.curr_items)).toBeGreaterThan(0);
    });

    it('stats(\'settings\'): maxbytes and item_size_max per server', async () => {
      const st = await mc.stats('settings');
      expect(st.size).toBe(3);
      for (const s of all) {
        const mine = st.get(s.address)!;
        expect(mine.maxbytes).toBe(String(s.memoryMb * 1024 * 1024));
        expect(mine.item_size_max).toBe('1048576');
        expect(mine.tcpport).toBe(String(s.port));
      }
    });

    it('stats(\'items\') and stats(\'slabs\'): per-slab figures of each server', async () => {
      for (const s of all) expect(Number((await s.stats()).curr_items)).toBeGreaterThan(0);
      const items = await mc.stats('items');
      const slabs = await mc.stats('slabs');
      for (const s of all) {
        const it = items.get(s.address)!;
        const numbers = Object.keys(it).filter((name) => /^items:\d+:number$/.test(name));
        expect(numbers.length).toBeGreaterThan(0);
        expect(numbers.reduce((n, name) => n + Number(it[name]), 0)).toBeGreaterThan(0);
        for (const name of Object.keys(it)) expect(name).toMatch(/^items:\d+:\w+$/);
        // The same slab classes the server itself reports (raw, over our own socket).
        const raw = await s.stats('items');
        expect(numbers.sort()).toEqual(Object.keys(raw).filter((name) => /^items:\d+:number$/.test(name)).sort());
        const sl = slabs.get(s.address)!;
        expect(Number(sl.active_slabs)).toBeGreaterThan(0);
        expect(Number(sl.total_malloced)).toBeGreaterThan(0);
      }
    });
  });

  describe('keyPrefix', () => {
    let pmc: Client;
    beforeAll(() => {
      pmc = new Client(all.map((s) => s.address), { keyPrefix: 'app1:', timeoutMs: 2000 });
    });
    afterAll(async () => {
      await pmc?.close();
    });

    it('the wire key is prefixed; results use the caller\'s keys', async () => {
      const k = uniq('pfx');
      expect(await pmc.set(k, 'v')).toBe(true);
      expect(await holders(all, k)).toHaveLength(0);
      expect((await holder(all, `app1:${k}`)).item).toEqual({ flags: 0, data: 'v' });
      expect(await pmc.get(k)).toBe('v');
      expect(await mc.get(`app1:${k}`)).toBe('v'); // an unprefixed client routes the full key to the same server
      expect(await mc.get(k)).toBeUndefined();
      expect((await pmc.gets(k))?.value).toBe('v');
    });

    it('multi-key calls map prefixed replies back to the caller\'s keys', async () => {
      const keys = Array.from({ length: 12 }, (_, i) => uniq(`pfxm${i}`));
      const set = await pmc.setMulti(keys.map((k, i) => [k, i] as const));
      expect([...set.keys()].sort()).toEqual([...keys].sort());
      for (const k of keys) await holder(all, `app1:${k}`);
      const miss = uniq('pfx-miss');
      const m = await pmc.getMulti<number>([...keys, miss, keys[0]!]);
      expect([...m.keys()].sort()).toEqual([...keys].sort());
      keys.forEach((k, i) => expect(m.get(k)).toBe(i));
      const gs = await pmc.getsMulti<number>(keys);
      expect([...gs.keys()].sort()).toEqual([...keys].sort());
      const gat = await pmc.gatMulti<number>(keys, 100);
      expect([...gat.keys()].sort()).toEqual([...keys].sort());
      const del = await pmc.deleteMulti([keys[0]!, miss]);
      expect(del).toEqual(new Map([[keys[0]!, true], [miss, false]]));
      expect(await holders(all, `app1:${keys[0]!}`)).toHaveLength(0);
    });

    it('single-key commands use the prefixed wire key', async () => {
      const k = uniq('pfx-ctr');
      expect(await pmc.add(k, '5')).toBe(true);
      expect(await pmc.incr(k, 2)).toBe(7);
      expect((await holder(all, `app1:${k}`)).item.data).toBe('7');
      expect(await pmc.touch(k, 100)).toBe(true);
      expect(await pmc.append(k, '0')).toBe(true);
      expect(await pmc.gat(k, 100)).toBe('70');
      expect(await pmc.delete(k)).toBe(true);
      expect(await holders(all, `app1:${k}`)).toHaveLength(0);
    });
  });

  describe('flush (last: it empties every server)', () => {
    it('flush empties all servers', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => uniq(`fl${i}`));
      for (const k of keys) await mc.set(k, 'v');
      const used = new Set<string>();
      for (const k of keys) used.add((await holder(all, k)).server.address);
      expect(used.size).toBe(3);
      const flushesBefore = await Promise.all(all.map(async (s) => Number((await s.stats()).cmd_flush)));
      await expect(mc.flush()).resolves.toBeUndefined();
      for (const [i, s] of all.entries()) {
        expect(Number((await s.stats()).cmd_flush)).toBe(flushesBefore[i]! + 1);
        for (const k of keys) expect(await rawGet(s, k)).toBeUndefined();
      }
      expect((await mc.getMulti(keys)).size).toBe(0);
      // The servers still take writes afterwards.
      expect(await mc.set(keys[0]!, 'again')).toBe(true);
      expect(await mc.get(keys[0]!)).toBe('again');
    });
  });
});

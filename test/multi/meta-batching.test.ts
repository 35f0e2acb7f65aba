/**
 * Multi-key calls on the meta protocol, seen through a counting proxy in front of one real
 * memcached 1.6.18: quiet `mg`/`ms`/`md` lines fenced by `mn` (no long line at all, the key cap still
 * bounds each request), hits and misses right, lease placeholders and invalidated items never read
 * as values, and per-key write results.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client, type ClientOptions } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { CountingProxy } from './counting-proxy.js';
import { closeWithin } from './support.js';

describe('multi-key calls on the meta protocol (1 server behind a counting proxy)', () => {
  const servers = useMemcached(1);
  let server: MemcachedServer;
  let proxy: CountingProxy;
  const clients: Client[] = [];
  const client = async (opts: ClientOptions = {}): Promise<Client> => {
    const c = new Client([proxy.address], { timeoutMs: 5000, validateTimeoutMs: 2000, protocol: 'meta', ...opts });
    clients.push(c);
    await c.version(); // a socket is proven (and the server's version known) before counting starts
    proxy.reset();
    return c;
  };

  beforeAll(async () => {
    server = servers[0]!;
    proxy = await CountingProxy.start(server, { keepTextUpTo: 4096 });
  });
  afterAll(() => proxy.close());
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => closeWithin(c)));
  });

  it('getMulti sends one quiet mg line per distinct key, fenced by mn per batch of maxBatchKeys, never a get line', async () => {
    const mc = await client({ maxBatchKeys: 100 });
    const keys = Array.from({ length: 250 }, (_, i) => `mb:${i}`);
    await mc.setMulti(keys.filter((_, i) => i % 2 === 0).map((k) => [k, `v-${k}`] as const));
    proxy.reset();
    const got = await mc.getMulti([...keys, 'mb:0', 'mb:1']); // two duplicates, asked once
    expect(got.size).toBe(125);
    for (const k of keys.filter((_, i) => i % 2 === 0)) expect(got.get(k)).toBe(`v-${k}`);
    const mg = proxy.linesOf('mg');
    expect(mg.length).toBe(250);
    expect(proxy.linesOf('mn').length).toBe(3);
    expect(proxy.linesOf('get').length).toBe(0);
    expect(Math.max(...proxy.lines.map((l) => l.bytes))).toBeLessThan(300);
    expect(mg.every((l) => / q( |$)/.test(l.text!.trim()) || l.text!.trim().endsWith(' q'))).toBe(true);
  });

  it('a lease placeholder and an invalidated item read as misses; the classic protocol would return the placeholder as an empty string', async () => {
    await server.command('set mbl:real 0 0 1\r\nx\r\n');
    await server.command('mg mbl:lease v N30\r\n'); // another client won a lease: an empty placeholder exists
    await server.command('set mbl:stale 0 0 3\r\nold\r\nmd mbl:stale I T30\r\n');
    const meta = await client();
    expect(await meta.get('mbl:lease')).toBeUndefined();
    expect(await meta.get('mbl:stale')).toBeUndefined();
    expect(await meta.get('mbl:real')).toBe('x');
    expect(await meta.getMulti(['mbl:lease', 'mbl:stale', 'mbl:real'])).toEqual(new Map([['mbl:real', 'x']]));
    const text = await client({ protocol: 'text' });
    expect(await text.get('mbl:lease')).toBe(''); // what a classic reader sees: the hazard meta avoids
  });

  it('setMulti and deleteMulti are quiet ms/md pipelines fenced by mn, with per-key results', async () => {
    const mc = await client({ maxBatchKeys: 50 });
    const entries = Array.from({ length: 120 }, (_, i) => [`mbw:${i}`, { i }] as const);
    const set = await mc.setMulti(entries, { ttl: 60 });
    expect([...set.values()].every((v) => v === true)).toBe(true);
    expect(set.size).toBe(120);
    expect(proxy.linesOf('ms').length).toBe(120);
    expect(proxy.linesOf('mn').length).toBe(3);
    expect(proxy.linesOf('set').length).toBe(0);
    expect(await mc.get('mbw:7')).toEqual({ i: 7 });
    proxy.reset();
    const del = await mc.deleteMulti(['mbw:1', 'mbw:2', 'mbw:absent', 'mbw:1']);
    expect(del).toEqual(new Map([['mbw:1', true], ['mbw:2', true], ['mbw:absent', false]]));
    expect(proxy.linesOf('md').length).toBe(3);
    expect(await mc.getMulti(['mbw:1', 'mbw:2', 'mbw:3'])).toEqual(new Map([['mbw:3', { i: 3 }]]));
  });

  it('gets/gatsMulti carry cas tokens that cas() accepts; gatMulti resets the TTL', async () => {
    const mc = await client();
    await mc.set('mbc:a', 'a', { ttl: 5 });
    const [entry] = (await mc.getsMulti(['mbc:a'])).values();
    expect(entry!.value).toBe('a');
    expect(await mc.cas('mbc:a', 'b', entry!.cas)).toBe(true);
    expect(await mc.gatMulti(['mbc:a'], 1000)).toEqual(new Map([['mbc:a', 'b']]));
    const ttl = /t(\d+)/.exec(await server.command('mg mbc:a t\r\n'))?.[1];
    expect(Number(ttl)).toBeGreaterThan(900);
  });
});

/**
 * Scenario 8 (part): servers added and removed at run time. Adding a 4th server moves only the keys
 * the ring gives it (all of them TO it, none between the old servers); removing it moves exactly
 * those back. Routing is observed on the servers themselves: which one holds each key.
 */
import { describe, expect, it } from 'vitest';
import type { Client } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { FAST, keys, rawGetMulti, useClients } from './helpers.js';

const N = 10_000;
/** 10,000 pipelined writes at once on a cold pool take ~0.1-0.3 s here; give them room on a shared machine. */
const OPTS = { ...FAST, timeoutMs: 5000 };

describe('addServer / removeServer at run time', () => {
  const servers = useMemcached(4);
  const newClient = useClients();

  /** key -> address of the server that holds it with value `tag`; every key must be on exactly one. */
  async function placement(ks: readonly string[], tag: string): Promise<Map<string, string>> {
    const where = new Map<string, string>();
    for (const s of servers) {
      for (const [k, v] of await rawGetMulti(s.port, ks)) {
        if (v !== tag) continue;
        expect(where.get(k), `${k} tagged ${tag} on two servers`).toBeUndefined();
        where.set(k, s.address);
      }
    }
    expect(where.size, `every key tagged ${tag} is on exactly one server`).toBe(ks.length);
    return where;
  }

  async function writeAll(client: Client, ks: readonly string[], tag: string): Promise<void> {
    const r = await client.setMulti(ks.map((k) => [k, tag] as const));
    expect([...r.values()].every(Boolean)).toBe(true);
  }

  it('moves only the new server\'s keys to it, and back on removal', async () => {
    const [a, b, c, d] = servers as [MemcachedServer, MemcachedServer, MemcachedServer, MemcachedServer];
    const ks = keys('ring', N);
    const mc = newClient([a.address, b.address, c.address], OPTS);

    await writeAll(mc, ks, 't3');
    const before = await placement(ks, 't3');
    expect([...before.values()].includes(d.address)).toBe(false);

    mc.addServer(d.address);
    await writeAll(mc, ks, 't4');
    const withD = await placement(ks, 't4');
    const moved = ks.filter((k) => withD.get(k) !== before.get(k));
    const wrongMoves = moved.filter((k) => withD.get(k) !== d.address);
    expect(wrongMoves.slice(0, 10), `${wrongMoves.length} keys moved between old servers`).toEqual([]);
    // About a quarter of the keys (40 vnodes per server vary the share by up to ~16%).
    expect(moved.length).toBeGreaterThan(N * 0.15);
    expect(moved.length).toBeLessThan(N * 0.35);
    expect(moved.length, 'every key the new server owns came from an old server').toBe(ks.filter((k) => withD.get(k) === d.address).length);

    // A fresh client built with the four servers routes exactly like the one that grew at run time.
    const fresh = newClient([a.address, b.address, c.address, d.address], OPTS);
    const read = await fresh.getMulti<string>(ks);
    expect(read.size).toBe(N);
    expect([...read.values()].every((v) => v === 't4')).toBe(true);

    await mc.removeServer(d.address);
    await writeAll(mc, ks, 't5');
    const after = await placement(ks, 't5');
    const notBack = ks.filter((k) => after.get(k) !== before.get(k));
    expect(notBack.slice(0, 10), `${notBack.length} keys did not return to their original server`).toEqual([]);
    expect(mc.serverStats().map((s) => s.server).sort()).toEqual([a.address, b.address, c.address].sort());
  });

  it('replaceServer swaps one server for another in one step: routing equals a client built with the new list', async () => {
    const [a, b, c, d] = servers as [MemcachedServer, MemcachedServer, MemcachedServer, MemcachedServer];
    const ks = keys('swap', 3000);
    const mc = newClient([a.address, b.address, c.address], OPTS);
    await writeAll(mc, ks, 'old');
    const before = await placement(ks, 'old');

    await mc.replaceServer(c.address, d.address);
    expect(mc.serverStats().map((s) => s.server).sort()).toEqual([a.address, b.address, d.address].sort());
    await writeAll(mc, ks, 'new');
    const after = await placement(ks, 'new');
    expect([...after.values()].includes(c.address)).toBe(false);
    // Keys of the servers that stayed either stay or move to the new one (never between a and b).
    const between = ks.filter((k) => before.get(k) !== c.address && after.get(k) !== before.get(k) && after.get(k) !== d.address);
    expect(between.slice(0, 10)).toEqual([]);

    const fresh = newClient([a.address, b.address, d.address], OPTS);
    const read = await fresh.getMulti<string>(ks);
    expect(read.size).toBe(ks.length);
    expect([...read.values()].every((v) => v === 'new')).toBe(true);

    await expect(mc.replaceServer(c.address, d.address)).rejects.toMatchObject({ code: 'MC_ERR_INVALID_OPTION' });
    await expect(mc.replaceServer(a.address, b.address)).rejects.toMatchObject({ code: 'MC_ERR_INVALID_OPTION' });
    expect(mc.serverStats()).toHaveLength(3);
  });
});

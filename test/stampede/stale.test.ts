/**
 * Serve-stale and early recache on meta servers: after `invalidate`, or when a hit is about to
 * expire (`recacheWithin`), every caller gets the current value at once while exactly one caller in
 * the fleet reloads it in the background. And what readers see while a lease is out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, type FetchOptions } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { eventually } from '../support/timing.js';
import { gatedLoader, OPTS } from './helpers.js';

const CLIENTS = 5;
const PER_CLIENT = 20;

describe('fetch: stale and nearly expired items (meta)', () => {
  const servers = useMemcached(2);
  const open: Client[] = [];
  const clients = (n: number): Client[] => {
    const made = Array.from({ length: n }, () => new Client(servers.map((s) => s.address), { ...OPTS, protocol: 'meta' }));
    open.push(...made);
    return made;
  };
  afterEach(async () => { await Promise.all(open.splice(0).map((c) => c.close())); });

  /** 100 concurrent fetches from 5 clients; resolves with their values (the loader is still held). */
  const stampede = (mcs: Client[], key: string, loader: (k: string) => Promise<string>, options: FetchOptions): Promise<string[]> =>
    Promise.all(mcs.flatMap((mc) => Array.from({ length: PER_CLIENT }, () => mc.fetch(key, loader, options))));

  it('after invalidate, 100 concurrent fetches return the old value without waiting for the loader; it runs once; later fetches get the new value', async () => {
    const mcs = clients(CLIENTS);
    const key = `inv:${Date.now()}`;
    expect(await mcs[0]!.fetch(key, async () => 'old', { ttl: 60 })).toBe('old');
    expect(await mcs[1]!.invalidate(key, { staleTtl: 30 })).toBe(true);
    const gate = gatedLoader(() => 'new');
    // The loader is held until every fetch has returned: they cannot have waited for it.
    const values = await stampede(mcs, key, gate.loader, { ttl: 60 });
    expect(values).toHaveLength(CLIENTS * PER_CLIENT);
    for (const v of values) expect(v).toBe('old');
    expect(gate.calls).toEqual([key]);
    gate.release();
    await eventually(async () => (await mcs[3]!.get(key)) === 'new', 2000, 'the background reload filled the item');
    expect(await mcs[4]!.fetch(key, async () => 'never', { ttl: 60 })).toBe('new');
    expect(gate.calls).toHaveLength(1);
    expect(mcs.reduce((n, mc) => n + mc.fetchStats().refreshes, 0)).toBe(1);
    expect(await mcs[0]!.invalidate(`absent:${Date.now()}`)).toBe(false);
  });

  it('a plain get reads an invalidated item as a miss, and does not take the reload away from fetch', async () => {
    const [mc, reader] = clients(2);
    const key = `inv-get:${Date.now()}`;
    await mc!.set(key, 'old', { ttl: 60 });
    expect(await mc!.invalidate(key, { staleTtl: 30 })).toBe(true);
    // get cannot tell its caller that a value is stale, so it answers a miss.
    expect(await reader!.get(key)).toBeUndefined();
    expect(await reader!.getMulti([key])).toEqual(new Map());
    // The first mg on a stale item wins its refresh (W), whatever it asked for: a get that won it
    // must hand it back, or no fetch reloads the item until staleTtl runs out.
    const gate = gatedLoader(() => 'new');
    expect(await mc!.fetch(key, gate.loader, { ttl: 60 })).toBe('old');
    expect(gate.calls).toEqual([key]);
    gate.release();
    await eventually(async () => (await reader!.get(key)) === 'new', 2000, 'the background reload filled the item');
  });

  it('recacheWithin: 100 concurrent fetches of an item near expiry return it at once; one background reload', async () => {
    const mcs = clients(CLIENTS);
    const key = `recache:${Date.now()}`;
    await mcs[0]!.set(key, 'current', { ttl: 20 });
    const gate = gatedLoader(() => 'reloaded');
    const values = await stampede(mcs, key, gate.loader, { ttl: 300, recacheWithin: 30 });
    for (const v of values) expect(v).toBe('current');
    expect(values).toHaveLength(CLIENTS * PER_CLIENT);
    expect(gate.calls).toEqual([key]);
    gate.release();
    await eventually(async () => (await mcs[1]!.get(key)) === 'reloaded', 2000, 'the background reload filled the item');
    // Stored with the fetch's ttl: no longer near expiry, so no further reload.
    const again = await stampede(mcs, key, gate.loader, { ttl: 300, recacheWithin: 30 });
    for (const v of again) expect(v).toBe('reloaded');
    expect(gate.calls).toHaveLength(1);
  });

  it('while a lease is held, get from another client is a miss (undefined, not the empty placeholder)', async () => {
    const [winner, reader] = clients(2);
    const key = `leased:${Date.now()}`;
    const gate = gatedLoader(() => 'loaded');
    const pending = winner!.fetch(key, gate.loader, { ttl: 60 });
    await gate.started;
    expect(await reader!.get(key)).toBeUndefined();
    expect(await reader!.getMulti([key])).toEqual(new Map());
    gate.release();
    expect(await pending).toBe('loaded');
    expect(await reader!.get(key)).toBe('loaded');
  });

  it('a delete during the load voids the fill: the winner still gets its value, nothing is stored', async () => {
    const [winner, other] = clients(2);
    const key = `voided:${Date.now()}`;
    const gate = gatedLoader(() => 'loaded');
    const pending = winner!.fetch(key, gate.loader, { ttl: 60 });
    await gate.started;
    expect(await other!.delete(key)).toBe(true); // the placeholder
    gate.release();
    expect(await pending).toBe('loaded');
    expect(await other!.get(key)).toBeUndefined();
    expect(winner!.fetchStats().fillsVoided).toBe(1);
  });

  it('a background reload that fails is logged, counted and emitted, never an unhandled rejection', async () => {
    const [mc] = clients(1);
    const key = `refail:${Date.now()}`;
    await mc!.set(key, 'current', { ttl: 60 });
    await mc!.invalidate(key, { staleTtl: 30 });
    const failed = new Promise<{ server: string; reason: unknown }>((resolve) => mc!.once('fetchRefreshFailed', resolve));
    expect(await mc!.fetch(key, async () => { throw new Error('database down'); })).toBe('current');
    const ev = await failed;
    expect(ev.server).toBe(mc!.serverStats().find((s) => s.server === ev.server)?.server);
    expect((ev.reason as Error).message).toBe('database down');
    expect(Object.keys(ev).sort()).toEqual(['reason', 'server']);
    expect(mc!.fetchStats().refreshFailures).toBe(1);
  });
});

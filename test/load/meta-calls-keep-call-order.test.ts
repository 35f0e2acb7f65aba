/**
 * Calls issued in order for one key keep their order: `invalidate(k)` then `set(k, v)` must leave
 * the new value readable. invalidate (and incr with { initial }) awaited the server's protocol
 * first, even when it was known, so the set issued after it reached the server first and was then
 * invalidated. A fresh client, which does not know the protocol yet, must keep the order too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { startServers, stopAll, type MemcachedServer } from '../support/memcached.js';

let server: MemcachedServer;
beforeAll(async () => { [server] = await startServers(1) as [MemcachedServer]; });
afterAll(stopAll);

describe('invalidate keeps call order with later calls for the key', () => {
  it('invalidate then set: the new value is readable (warm client)', async () => {
    const mc = new Client([server.address], { protocol: 'auto' });
    try {
      await mc.set('inv1', 'old', { ttl: 60 });
      expect(await mc.get('inv1')).toBe('old'); // the client knows the server speaks meta now
      const inv = mc.invalidate('inv1', { staleTtl: 30 });
      const set = mc.set('inv1', 'new', { ttl: 60 });
      expect(await inv).toBe(true);
      expect(await set).toBe(true);
      expect(await mc.get('inv1')).toBe('new');
    } finally { await mc.close(); }
  });

  it('invalidate then set on a fresh client (protocol not known yet): the new value is readable', async () => {
    const seed = new Client([server.address], { protocol: 'auto' });
    await seed.set('inv0', 'old', { ttl: 60 });
    await seed.close();
    const mc = new Client([server.address], { protocol: 'auto' });
    try {
      const inv = mc.invalidate('inv0', { staleTtl: 30 });
      const set = mc.set('inv0', 'new', { ttl: 60 });
      expect(await inv).toBe(true);
      expect(await set).toBe(true);
      expect(await mc.get('inv0')).toBe('new');
    } finally { await mc.close(); }
  });

  it('incr with { initial } then delete on a fresh client: the counter is gone afterwards', async () => {
    const seed = new Client([server.address], { protocol: 'auto' });
    await seed.set('ctr0', '5', { ttl: 60 });
    await seed.close();
    const mc = new Client([server.address], { protocol: 'auto' });
    try {
      const inc = mc.incr('ctr0', 1, { initial: 0, ttl: 60 });
      const del = mc.delete('ctr0');
      expect(await inc).toBe(6);
      expect(await del).toBe(true);
      expect(await mc.get('ctr0')).toBeUndefined();
    } finally { await mc.close(); }
  });

  it('invalidate then delete: invalidate reports the item that existed when it was called', async () => {
    const mc = new Client([server.address], { protocol: 'auto' });
    try {
      await mc.set('inv2', 'old', { ttl: 60 });
      expect(await mc.get('inv2')).toBe('old');
      const inv = mc.invalidate('inv2');
      const del = mc.delete('inv2');
      expect(await inv).toBe(true);
      expect(await del).toBe(true);
    } finally { await mc.close(); }
  });

  it('incr with { initial } then delete: the counter is gone afterwards', async () => {
    const mc = new Client([server.address], { protocol: 'auto' });
    try {
      await mc.set('ctr1', '5');
      expect(await mc.get('ctr1')).toBe('5');
      const inc = mc.incr('ctr1', 1, { initial: 0, ttl: 60 });
      const del = mc.delete('ctr1');
      expect(await inc).toBe(6);
      expect(await del).toBe(true);
    } finally { await mc.close(); }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { startServers, stopAll, type MemcachedServer } from '../support/memcached.js';

let server: MemcachedServer;
beforeAll(async () => { [server] = await startServers(1) as [MemcachedServer]; });
afterAll(stopAll);

for (const protocol of ['text', 'meta'] as const) {
  describe(`getMulti keeps call order with a later write of the same key (${protocol})`, () => {
    it('getMulti then delete: getMulti reads the value that existed when it was called', async () => {
      const mc = new Client([server.address], { protocol });
      try {
        await mc.set('ord1', 'old');
        const read = mc.getMulti(['ord1']);
        const del = mc.delete('ord1');
        expect(await del).toBe(true);
        expect((await read).get('ord1')).toBe('old');
      } finally { await mc.close(); }
    });
    it('getMulti then set: getMulti reads the old value', async () => {
      const mc = new Client([server.address], { protocol });
      try {
        await mc.set('ord2', 'old');
        const read = mc.getMulti(['ord2']);
        const w = mc.set('ord2', 'new');
        await w;
        expect((await read).get('ord2')).toBe('old');
      } finally { await mc.close(); }
    });
  });
}

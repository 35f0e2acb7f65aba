/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * serverStats() documents `size` as the pool's open or opening sockets and `free` as its idle ones,
 * so free <= size always. After close(), every socket is closed (size 0), but `free` still counts
 * the socket that was idle before close: [{ size: 0, free: 1, ... }]. A dashboard fed by
 * serverStats() (or the otel observer built on it) reports idle sockets that no longer exist.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

const servers = useMemcached(2);

for (const protocol of ['auto', 'text'] as const) {
  describe(`serverStats() after close() (${protocol})`, () => {
    it('reports no open and no idle sockets once every socket is closed', async () => {
      const mc = new Client(servers.map((s) => s.address), { protocol });
      await mc.setMulti([['a', 1], ['b', 2], ['c', 3], ['d', 4], ['e', 5]]);
      await mc.getMulti(['a', 'b', 'c', 'd', 'e']);
      const before = mc.serverStats();
      expect(before.some((s) => s.size > 0)).toBe(true);
      await mc.close();
      const after = mc.serverStats().map(({ server, size, free, borrowed, pending }) => ({ server, size, free, borrowed, pending }));
      for (const s of after) {
        expect(s.free, `free <= size for ${s.server}: ${JSON.stringify(s)}`).toBeLessThanOrEqual(s.size);
      }
      expect(after.map(({ server }) => ({ server, size: 0, free: 0, borrowed: 0, pending: 0 }))).toEqual(after);
    });
  });
}

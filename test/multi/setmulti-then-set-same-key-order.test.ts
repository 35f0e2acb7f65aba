/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * One key's requests run in call order, even across a server's sockets (pickSocket follows a key
 * in flight on another socket). Single-key writes and text setMulti/deleteMulti requests carry their
 * key for that; the quiet meta batches setMulti/deleteMulti send (`ms ... q` ... `mn`) carry none
 * (src/client/multi-write.ts submit: no `key`/`keys`). So with a second socket free, a `set` of a key
 * made after a `setMulti` that holds it goes out on the other socket and memcached may apply it
 * first: the older setMulti value wins, although the set was called later and both resolved true.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

const servers = useMemcached(1);

for (const protocol of ['meta', 'text'] as const) {
  describe(`setMulti then set of the same key, not awaited in between (${protocol})`, () => {
    it('the later set wins', async () => {
      const s = servers[0]!;
      const mc = new Client([s.address], { protocol, maxPipeline: 1, maxConnections: 4, timeoutMs: 10_000, maxValueBytes: 1_000_000 });
      try {
        const big = 'x'.repeat(200_000);
        let lost = 0;
        for (let round = 0; round < 20; round++) {
          // Open several sockets (maxPipeline 1: concurrent calls need one each).
          await Promise.all(Array.from({ length: 4 }, (_, i) => mc.get(`warm-${i}`, { timeoutMs: 5000 })));
          const key = `order-${protocol}-${round}`;
          // A batch whose last key is `key`, behind ~2 MB of other values, then a tiny set of `key`.
          const entries: Array<[string, unknown]> = Array.from({ length: 10 }, (_, i) => [`filler-${round}-${i}`, big]);
          entries.push([key, 'old']);
          const multi = mc.setMulti(entries);
          const single = mc.set(key, 'new');
          expect(await single).toBe(true);
          expect([...(await multi).values()].every(Boolean)).toBe(true);
          const raw = await s.command(`get ${key}\r\n`);
          if (!raw.includes('\r\nnew\r\n')) lost++;
        }
        expect(lost, 'rounds in which the earlier setMulti overwrote the later set').toBe(0);
      } finally {
        await mc.close();
      }
    });
  });
}

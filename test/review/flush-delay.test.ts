/**
 * flush(delaySeconds) sends the delay as is. memcached reads a flush_all delay above 30 days as a
 * unix time (as it does exptimes), so a long delay flushes at the wrong moment: a delay that
 * happens to be close to the current unix time flushes within a second or two, and a delay just
 * over 30 days (a date in 1970) never flushes at all. toExptime() handles this for TTLs; flush
 * does not.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { sleep } from '../failure/helpers.js';

describe('flush delay over 30 days', () => {
  const servers = useMemcached(1);

  // BUG: src/client/client.ts:195-197 (flush) passes delaySeconds to encodeFlushAll unchanged; over
  // 2,592,000 s memcached (realtime() in memcached.c) takes it as an absolute unix time. Asking
  // for a flush in ~56 years (delay = now-in-unix-seconds + 1) flushes everything ~1 s later.
  // Fix: convert like toExptime (src/client/ttl.ts) — send Math.floor(Date.now()/1000) + delay
  // when delay > 30 days (and refuse past 2038), or refuse delays over 30 days.
  it.fails('does not flush within seconds when asked to flush in 56 years', async () => {
    const s = servers[0]!;
    const mc = new Client([s.address], { timeoutMs: 400 });
    try {
      await mc.set('flush-k', 'v');
      const delay = Math.floor(Date.now() / 1000) + 1; // ~1.8e9 s, i.e. about 56 years from now
      await mc.flush(delay);
      await sleep(2500);
      expect(await mc.get('flush-k')).toBe('v');
    } finally {
      await mc.close();
    }
  });
});

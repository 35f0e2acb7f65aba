/**
 * (Found in review of this session's own changes; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * Review 9, item 3 (fetch.ts joiners). README, Stampede protection: "in one client, concurrent
 * fetch('user:42') calls share one round trip and at most one loader call".
 *
 * Scenario: one client, a loader that is merely slow (2.5 s: well under leaseTtl 30 s, it does
 * settle), waitMs 300, timeoutMs 400, onWaitTimeout 'load'. A second fetch of the key joins the
 * flight 100 ms later. After waitMs + timeoutMs the joiner leaves the flight, starts its own, finds
 * its own client's placeholder (Z), waits waitMs again and then calls the loader itself: two
 * loader calls in one client for two concurrent fetches of one key.
 */
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

describe('fetch: a slow (not hung) loader and a second concurrent fetch in the same client', () => {
  const servers = useMemcached(1);

  it('calls the loader once for both callers', async () => {
    const mc = new Client([servers[0]!.address], { timeoutMs: 400 });
    try {
      let calls = 0;
      const loader = async (): Promise<string> => {
        const n = ++calls;
        await sleep(2500);
        return `loaded-${n}`;
      };
      const opts = { waitMs: 300, onWaitTimeout: 'load' as const, leaseTtl: 30 };
      const a = mc.fetch('r9:slow-loader', loader, opts);
      await sleep(100);
      const b = mc.fetch('r9:slow-loader', loader, opts);
      const [va, vb] = await Promise.all([a, b]);
      expect({ calls, va, vb }).toEqual({ calls: 1, va: 'loaded-1', vb: 'loaded-1' });
    } finally {
      await mc.close();
    }
  }, 20_000);
});

/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * fetch shares one flight (and one direct load) per key while its lease would hold. A leaseTtl the
 * options accept (up to 30 days) longer than setTimeout's limit (2^31-1 ms, ~24.8 days) makes the
 * "lease ran out" timer of a joiner fire at once (Node clamps an overflowing delay to 1 ms): joiners
 * stop sharing, and the loader runs once per caller.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { freePort } from '../support/memcached.js';

describe('fetch with a long leaseTtl', () => {
  const open: Client[] = [];
  afterEach(async () => { await Promise.all(open.splice(0).map((c) => c.close())); });

  it('concurrent fetches of one key share one direct load when leaseTtl is 29 days (cache unreachable)', async () => {
    const port = await freePort(); // nothing listens: every cache request fails, the loader runs directly
    const mc = new Client([`127.0.0.1:${port}`], { timeoutMs: 1000, connectTimeoutMs: 500, retryDelayMs: 50, maxRetryDelayMs: 500 });
    open.push(mc);
    let calls = 0;
    const loader = async (): Promise<string> => {
      calls++;
      await new Promise((r) => setTimeout(r, 400));
      return 'v';
    };
    const leaseTtl = 29 * 24 * 3600; // accepted: at most 30 days
    const key = `long-lease:${Date.now()}`;
    const values = await Promise.all(Array.from({ length: 5 }, () => mc.fetch(key, loader, { leaseTtl })));
    expect(values).toEqual(['v', 'v', 'v', 'v', 'v']);
    expect({ loaderCalls: calls, flights: mc.fetchStats().flights }).toEqual({ loaderCalls: 1, flights: 1 });
  });
});

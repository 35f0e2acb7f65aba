/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * README (Stampede protection): "a loader that never settles holds the callers that joined it for
 * at most leaseTtl, never later calls". On the fallback path (the cache cannot be asked) the direct
 * load is shared per key in `Fetcher.direct` with no bound: once one fallback loader hangs, every
 * later fetch of that key in the client that falls back joins it and hangs too, forever.
 */
import { describe, expect, it } from 'vitest';
import { freePort, LOOPBACK } from '../support/memcached.js';
import { clientsFor } from './helpers.js';

const LEASE_TTL = 1;

describe('fetch: a fallback loader that never settles', () => {
  let port = 0;
  const make = clientsFor(() => [`${LOOPBACK}:${port}`], 'auto');

  it('does not hold a fetch made after leaseTtl: that one settles (its own load, or an error)', async () => {
    port = await freePort(); // nothing listens: every fetch falls back to its loader
    const mc = make();
    const key = `hung-fallback:${Date.now()}`;
    const events: unknown[] = [];
    mc.on('fetchFallback', (e) => events.push(e));
    void mc.fetch(key, () => new Promise<string>(() => {}), { leaseTtl: LEASE_TTL }).catch(() => {});
    await new Promise((r) => setTimeout(r, LEASE_TTL * 1000 + 1500));
    expect(events.length).toBe(1);

    let loaded = 0;
    const later = mc.fetch(key, async () => { loaded++; return 'v2'; }, { leaseTtl: LEASE_TTL }).then((v) => `value ${v}`, (e: Error) => `error ${e.name}`);
    const outcome = await Promise.race([later, new Promise<string>((r) => setTimeout(() => r('still pending after 8000 ms'), 8000))]);
    expect(outcome, `a fetch made ${LEASE_TTL} s + 1.5 s after a hung fallback load (fallbacks: ${mc.fetchStats().fallbacks}, its loader called ${loaded} times)`).not.toBe('still pending after 8000 ms');
  });
});

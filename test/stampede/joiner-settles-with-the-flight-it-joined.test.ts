/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * Two concurrent fetches of one key in one client share one flight. When that flight's wait for
 * another client's lease runs out (waitMs), the caller that joined it must get its onWaitTimeout
 * outcome then, like the caller that started it: not start a second flight and wait waitMs again.
 * (fetch.ts reads the flight's own `{ timedOut }` outcome as "the joined lease expired" and starts
 * a new flight.)
 */
import { describe, expect, it } from 'vitest';
import { LeaseWaitTimeoutError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { clock, expectWithinPromise } from '../support/timing.js';
import { clientsFor, gatedLoader } from './helpers.js';

const WAIT_MS = 3000;
const TIMEOUT_MS = 500;

describe('fetch: a caller that joined a flight whose wait ran out (meta)', () => {
  const servers = useMemcached(1);
  const make = clientsFor(servers, 'meta', { timeoutMs: TIMEOUT_MS });

  it('settles with LeaseWaitTimeoutError with the flight it joined, within waitMs + timeoutMs; one flight', async () => {
    const holder = make();
    const b = make();
    const key = `joiner-wait:${Date.now()}`;
    const gate = gatedLoader(() => 'v');
    const held = holder.fetch(key, gate.loader, { ttl: 60 });
    await gate.started; // holder has the lease; its loader is held for the whole test

    const settle = (p: Promise<unknown>, t0: number) => p.then(
      (v) => ({ ok: true as const, v, ms: clock() - t0 }),
      (e: unknown) => ({ ok: false as const, e, ms: clock() - t0 }),
    );
    const t0 = clock();
    const first = settle(b.fetch(key, async () => 'own', { waitMs: WAIT_MS }), t0);
    const joiner = settle(b.fetch(key, async () => 'own', { waitMs: WAIT_MS }), t0);
    const [r1, r2] = await Promise.all([first, joiner]);

    expect(r1.ok).toBe(false);
    expect(r2.ok).toBe(false);
    expect((r2 as { e: unknown }).e).toBeInstanceOf(LeaseWaitTimeoutError);
    expectWithinPromise(r2.ms, WAIT_MS + TIMEOUT_MS, `the joiner (the first caller settled after ${Math.round(r1.ms)} ms) settles within waitMs + timeoutMs`);
    expect(b.fetchStats().flights, 'two concurrent fetches of one key in one client share one flight').toBe(1);

    gate.release();
    await held;
  });
});

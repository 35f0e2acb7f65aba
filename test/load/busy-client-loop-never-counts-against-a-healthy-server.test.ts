/**
 * Issue 12, finding 1 (the client's own share of it): a client whose event loop is busy for longer
 * than its timeouts (a burst being built, a GC pause, CPU-heavy work of the host application) must
 * not blame a healthy server. The server answered, or accepted the connection, while the client was
 * busy; the reply or the connect event is waiting in the kernel when the loop comes back, and Node
 * runs expired timers before it reads sockets. Shown deterministically with a synchronous busy-wait.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { clock } from '../support/timing.js';
import { closeWithin, describeError, recordEvents } from '../failure/helpers.js';

/** Keeps the event loop busy for `ms` (the thread runs; no timer, no I/O). */
function busy(ms: number): void {
  const until = clock() + ms;
  while (clock() < until) { /* the host application's synchronous work */ }
}

describe('a client whose event loop was busy longer than its timeouts', () => {
  const servers = useMemcached(1);

  it('a connect that completed while the loop was busy is not a connect timeout', async () => {
    const client = new Client([servers[0]!.address], { connectTimeoutMs: 100, timeoutMs: 1000, failureThreshold: 1 });
    try {
      const events = recordEvents(client);
      // The first call opens a socket; the loop is then busy for 3x connectTimeoutMs.
      const first = client.set('busy:connect', 'v');
      busy(300);
      const out = await first.then((v) => ({ ok: true, v }), (e: unknown) => ({ ok: false, v: describeError(e) }));
      expect(out, 'a healthy server that accepted the connection at once').toEqual({ ok: true, v: true });
      expect(events.map((e) => `${e.name}: ${describeError((e.payload as { reason?: unknown }).reason)}`)).toEqual([]);
      expect(client.serverStats()[0]!.failures).toBe(0);
    } finally {
      await closeWithin(client, 3000);
    }
  });

  it('replies that arrived while the loop was busy are read: no stall, no eviction, no failure counted', async () => {
    const client = new Client([servers[0]!.address], { timeoutMs: 200, failureThreshold: 1 });
    try {
      const events = recordEvents(client);
      expect(await client.set('busy:reply', 'v')).toBe(true);
      // Written now, answered by the server within a millisecond; read only after the busy stretch.
      const calls = Array.from({ length: 20 }, () => client.get('busy:reply'));
      busy(400);
      const results = await Promise.allSettled(calls);
      // The calls' own deadlines passed while the loop was busy: they may fail with TimeoutError
      // (their own), but nothing may be blamed on the server.
      for (const r of results) {
        if (r.status === 'fulfilled') expect(r.value).toBe('v');
        else expect(describeError(r.reason)).toMatch(/^TimeoutError/);
      }
      expect(events.map((e) => `${e.name}: ${describeError((e.payload as { reason?: unknown }).reason)}`)).toEqual([]);
      expect(client.serverStats()[0]!.failures).toBe(0);
      expect(await client.get('busy:reply')).toBe('v');
    } finally {
      await closeWithin(client, 3000);
    }
  });
});

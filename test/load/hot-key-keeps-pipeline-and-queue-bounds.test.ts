/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * Back-pressure: with maxPipeline 4, maxConnections 2 and maxQueue 10, a server that stops reading
 * (frozen: its socket's kernel buffers fill) may hold at most 8 requests in flight and 10 waiting;
 * more must be refused with PoolFullError, so memory stays bounded. Requests for a key already in
 * flight on one of several busy sockets go to that socket "whatever its load" (keys-in-flight.ts
 * pickSocket), and ServerNode.submit writes them at once: past maxPipeline, past the socket's
 * congestion, and never counted against maxQueue.
 */
import { describe, expect, it } from 'vitest';
import { Client, PoolFullError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

describe('a frozen server, two busy sockets, a burst of stores of one key', () => {
  const servers = useMemcached(1);

  it('at most maxPipeline x maxConnections in flight and maxQueue waiting; the rest refused with PoolFullError', async () => {
    const server = servers[0]!;
    const mc = new Client([server.address], { timeoutMs: 5000, maxPipeline: 4, maxConnections: 2, maxQueue: 10, trustRecentMs: 60_000 });
    const settled: Promise<string>[] = [];
    const track = (p: Promise<unknown>) => settled.push(p.then(() => 'ok', (e: unknown) => (e instanceof PoolFullError ? 'PoolFullError' : (e as Error).name)));
    try {
      // Two sockets proven and held by the node.
      expect((await Promise.all(Array.from({ length: 8 }, (_, i) => mc.set(`warm${i}`, 'x')))).every((v) => v === true)).toBe(true);
      await server.freeze();
      const value = 'v'.repeat(10_000);
      for (let i = 0; i < 4; i++) track(mc.set(`other${i}`, value)); // fills the first socket's pipeline
      track(mc.set('hot', value)); // goes to the second socket
      // Wait until both sockets carry them (re-borrowed sockets are trusted: no validation on the frozen server).
      for (const t0 = Date.now(); Date.now() - t0 < 3000;) {
        const st = mc.serverStats()[0]!;
        if (st.inFlight === 5 && st.borrowed === 2) break;
        await new Promise((r) => setTimeout(r, 1));
      }
      const before = mc.serverStats()[0]!;
      expect({ inFlight: before.inFlight, borrowed: before.borrowed, queued: before.queued }).toEqual({ inFlight: 5, borrowed: 2, queued: 0 });
      for (let i = 0; i < 1000; i++) track(mc.set('hot', value));
      await new Promise((r) => setImmediate(r));
      const s = mc.serverStats()[0]!;
      const snapshot = { inFlightAtMost8: s.inFlight <= 8, queuedAtMost10: s.queued <= 10, inFlight: s.inFlight, queued: s.queued };
      server.thaw();
      const outcomes = await Promise.all(settled);
      const refused = outcomes.filter((o) => o === 'PoolFullError').length;
      expect({ ...snapshot, refusedAtLeast987: refused >= 1005 - 18 }).toEqual({ inFlightAtMost8: true, queuedAtMost10: true, inFlight: snapshot.inFlight <= 8 ? snapshot.inFlight : '<= 8', queued: snapshot.queued <= 10 ? snapshot.queued : '<= 10', refusedAtLeast987: true });
    } finally {
      server.thaw();
      await mc.close();
    }
  }, 60_000);
});

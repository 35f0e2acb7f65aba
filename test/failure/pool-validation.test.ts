/**
 * Scenario 8 (part): the pool's own mechanics. Every borrow is validated with a real request
 * unless `trustRecentMs` says the socket proved itself recently, and `maxQueue` bounds the
 * requests waiting for a socket.
 */
import { describe, expect, it } from 'vitest';
import { type Client, PoolFullError, TimeoutError } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { describeError, expectMcError, expectWithin, FAST, settle, sleep, useClients, waitFor } from './helpers.js';

const TIMEOUT = FAST.timeoutMs!;

describe('pool mechanics', () => {
  const servers = useMemcached(1);
  const newClient = useClients({ before: () => (servers[0] as MemcachedServer | undefined)?.thaw() });

  /** Waits until the client's one socket is back in the pool (free), so the next request borrows it anew. */
  async function socketBack(client: Client): Promise<void> {
    await waitFor(() => client.serverStats()[0]!.free === 1, 1000, 'the socket back in the pool');
  }

  /** `rounds` requests, each after the socket went back to the pool (idle turns of the event loop). */
  async function idleSeparatedRequests(client: Client, rounds: number): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      await socketBack(client);
      const o = await settle(i % 2 ? client.get('pv:k') : client.set('pv:k', i), 2000, `request ${i}`);
      expect(o.ok, describeError(o.error)).toBe(true);
    }
  }

  it('validates every borrow by default (one real request per borrow after an idle turn)', async () => {
    const mc = newClient([(servers[0] as MemcachedServer).address]);
    expect(await mc.set('pv:k', 0)).toBe(true); // creates (and validates) the socket
    await socketBack(mc);
    const before = mc.serverStats()[0]!;
    expect(before.created).toBe(1);
    await idleSeparatedRequests(mc, 10);
    const after = mc.serverStats()[0]!;
    expect(after.created, 'the same socket is reused').toBe(1);
    expect(after.validations - before.validations, 'one validation per borrow').toBe(10);
    expect(after.validationFailures).toBe(0);
  });

  it('does not re-validate a socket that is busy: back-to-back requests in one turn share one borrow', async () => {
    const mc = newClient([(servers[0] as MemcachedServer).address], { ...FAST, maxConnections: 1 });
    expect(await mc.set('pv:k', 0)).toBe(true);
    await socketBack(mc);
    const before = mc.serverStats()[0]!.validations;
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => settle(mc.set(`pv:b${i}`, i), 2000)));
    expect(all.every((o) => o.ok)).toBe(true);
    expect(mc.serverStats()[0]!.validations - before).toBe(1);
  });

  it('skips borrow-time validation for a recently proven socket with trustRecentMs: 60000', async () => {
    const mc = newClient([(servers[0] as MemcachedServer).address], { ...FAST, trustRecentMs: 60_000 });
    expect(await mc.set('pv:k', 0)).toBe(true);
    await socketBack(mc);
    const before = mc.serverStats()[0]!;
    await idleSeparatedRequests(mc, 10);
    const after = mc.serverStats()[0]!;
    expect(after.created).toBe(1);
    expect(after.validations - before.validations).toBe(0);
  });

  it('maxQueue: 5 with a frozen server refuses the 6th and later queued requests with PoolFullError at once', async () => {
    const server = servers[0] as MemcachedServer;
    const client = newClient([server.address], { ...FAST, maxQueue: 5, maxConnections: 1, failureThreshold: 1000 });
    expect(await client.set('pv:q', 0)).toBe(true);
    await socketBack(client); // the next requests must wait for a borrow
    await server.freeze();
    // Ten distinct single-key writes in one tick: ten separate requests (sets are never coalesced).
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => settle(client.set(`pv:q${i}`, i), TIMEOUT + 2000, `set ${i}`)));
    const shown = results.map((o, i) => `${i}: ${o.ms.toFixed(1)}ms ${o.ok ? 'ok' : describeError(o.error)}`).join('\n  ');
    for (const [i, o] of results.entries()) {
      expect(o.ok, shown).toBe(false);
      if (i < 5) {
        // Queued: they wait for a socket the frozen server never proves, and time out.
        expectMcError(o.error, TimeoutError, 'MC_ERR_TIMEOUT', server.address);
        expect(o.ms, shown).toBeGreaterThanOrEqual(TIMEOUT - 5);
        expectWithin(o, TIMEOUT);
      } else {
        expectMcError(o.error, PoolFullError, 'MC_ERR_POOL_FULL', server.address);
        expect(o.atOnce, `PoolFullError is immediate (before any I/O or timer)\n  ${shown}`).toBe(true);
      }
    }
    expect(client.serverStats()[0]!.queued).toBe(0);
    server.thaw();
    // Once the server answers again, so does the client (within a create backoff or two).
    let back = false;
    for (let i = 0; i < 10 && !back; i++) {
      const o = await settle(client.set('pv:q', 'back'), TIMEOUT + 2000, `set ${i} after thaw`);
      back = o.ok && o.value === true;
      if (!back) await sleep(100);
    }
    expect(back, 'the client works again after SIGCONT').toBe(true);
  });
});

/**
 * (Found in review; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * README: `minConnections` are the "sockets per server kept open while idle", `idleTimeoutMs` closes
 * "sockets idle this long". With both set, the minConnections sockets themselves are closed every
 * idleTimeoutMs and reopened at once (connect + validation each time): the server sees a stream of
 * new connections from a client that does nothing.
 *
 * Cause: generic-pool's `idleTimeoutMillis` evicts regardless of `min` (only
 * `softIdleTimeoutMillis` respects it), and its destroy() then tops the pool up again. Suggested fix:
 * pass idleTimeoutMs as `softIdleTimeoutMillis` (keeps `min`), leaving `idleTimeoutMillis` unset,
 * or -1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { startServers, type MemcachedServer } from '../support/memcached.js';
import { sleep } from '../failure/helpers.js';

describe('minConnections with idleTimeoutMs', () => {
  let s: MemcachedServer;
  beforeAll(async () => { [s] = (await startServers(1)) as [MemcachedServer]; });
  afterAll(async () => { await s.stop(); });

  it('keeps the minConnections sockets open while idle instead of closing and reopening them', async () => {
    const mc = new Client([s.address], { minConnections: 2, idleTimeoutMs: 500 });
    try {
      await sleep(1000); // the two sockets are open and idle
      const created0 = mc.serverStats()[0]!.created;
      const total0 = Number((await s.stats()).total_connections);
      await sleep(4000); // deliberate: several idleTimeoutMs (and eviction runs) of doing nothing
      const total1 = Number((await s.stats()).total_connections);
      const st = mc.serverStats()[0]!;
      // total_connections grows by 1 for our own stats socket; allow one extra for slack.
      const seen = { newServerConnections: total1 - total0 - 1, socketsCreated: st.created - created0, size: st.size };
      expect(seen.newServerConnections <= 1 && seen.socketsCreated === 0, JSON.stringify(seen)).toBe(true);
    } finally {
      await mc.close();
    }
  }, 20_000);
});

/**
 * Scenario 5: the server closes idle sockets (`-o idle_timeout=2`, a silent FIN after 2-3.2 s).
 * The pool must notice (connectionEvicted) and never hand out a closed socket: every request after
 * the idle period succeeds.
 */
import { describe, expect, it } from 'vitest';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { describeError, FAST, keys, now, recordEvents, settle, useClients, waitFor } from './helpers.js';

describe('a server that drops idle connections (-o idle_timeout=2)', () => {
  const servers = useMemcached(1, { args: ['-o', 'idle_timeout=2'] });
  const newClient = useClients();

  it('evicts the dropped sockets (connectionEvicted) and every request after the idle period succeeds', async () => {
    const server = servers[0] as MemcachedServer;
    // Eviction by the client itself is off (idleTimeoutMs 0): only the server's FIN can end these sockets.
    // A shallow pipeline, so the burst below needs several sockets.
    const client = newClient([server.address], { ...FAST, idleTimeoutMs: 0, maxPipeline: 8 });
    const events = recordEvents(client);
    const ks = keys('idle', 64);
    // Concurrent traffic opens several sockets.
    const first = await Promise.all(ks.flatMap((k) => [settle(client.set(k, `v-${k}`), 2000), settle(client.get(k), 2000)]));
    expect(first.filter((o) => !o.ok).map((o) => describeError(o.error))).toEqual([]);
    const opened = client.serverStats()[0]!.created;
    expect(opened).toBeGreaterThan(1);
    expect(Number((await server.stats()).curr_connections)).toBeGreaterThanOrEqual(opened);

    // Idle: the server closes every socket after 2 to 3.2 s; wait until the pool has evicted them all.
    const idleFrom = now();
    await waitFor(() => {
      const st = client.serverStats()[0]!;
      return st.size === 0 && events.filter((e) => e.name === 'connectionEvicted').length >= st.created;
    }, 3200 + 1000, 'every idle socket dropped by the server and evicted');
    const evicted = events.filter((e) => e.name === 'connectionEvicted');
    // (A socket may still have been opening when `opened` was read: count them all now.)
    const created = client.serverStats()[0]!.created;
    expect(created).toBeGreaterThanOrEqual(opened);
    expect(evicted.length, 'a connectionEvicted event for each dropped socket').toBe(created);
    for (const e of evicted) {
      expect(e.server).toBe(server.address);
      expect(e.at - idleFrom).toBeGreaterThan(1500);
    }
    expect(new Set(evicted.map((e) => (e.payload as { connection: number }).connection)).size).toBe(created);
    const st = client.serverStats()[0]!;
    expect(st.evicted).toBe(created);
    expect(st.size, 'no dropped socket is counted as pooled').toBe(0);

    // 200 requests after the idle period (sequential first, then concurrent): zero failures.
    const after = [];
    for (let i = 0; i < 100; i++) {
      const k = ks[i % ks.length]!;
      after.push(await settle(i % 2 ? client.get(k) : client.set(k, `a-${i}`), 2000, `request ${i} after idle`));
    }
    after.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => settle(client.get(ks[i % ks.length]!), 2000, `get ${i} after idle`)))));
    expect(after.filter((o) => !o.ok).map((o) => describeError(o.error))).toEqual([]);
    expect(after.filter((o, i) => i < 100 && i % 2 === 1).every((o) => typeof o.value === 'string')).toBe(true);
    expect(events.filter((e) => e.name === 'serverDown')).toEqual([]);
  });
});

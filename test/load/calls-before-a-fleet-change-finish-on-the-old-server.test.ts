/**
 * Issue 12, finding 5: calls made before `replaceServer()` / `removeServer()` that are still waiting
 * for a socket (the old server is 80 ms away, so opening and proving a socket takes a few round
 * trips) finish on the old server, which is healthy; calls made after the change use the new ring.
 * Real memcached servers behind delay proxies; where each write landed is read from the servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { useMemcached } from '../support/memcached.js';
import { closeWithin, describeError, rawGetMulti, recordEvents } from '../failure/helpers.js';

const N = 40;
const outcome = (r: PromiseSettledResult<unknown>): unknown => (r.status === 'fulfilled' ? r.value : describeError(r.reason));

describe('calls made before a fleet change', () => {
  const servers = useMemcached(3);
  let far: DelayProxy;
  beforeAll(async () => { far = await DelayProxy.start(servers[0]!, { replyDelayMs: 80 }); });
  afterAll(async () => { await far.close(); });

  it('replaceServer: calls still waiting for a socket on the old server succeed there; calls after go to the new server', async () => {
    const [, next] = servers;
    const client = new Client([far.address], { timeoutMs: 2000 });
    try {
      const events = recordEvents(client);
      const keys = Array.from({ length: N }, (_, i) => `fleet:r:${i}`);
      // No socket yet: every one of these waits for connect + version + mn through 80 ms.
      const before = keys.map((k) => client.set(k, `old-${k}`));
      expect(client.serverStats()[0]!.queued, 'the calls wait for a socket when the change comes').toBe(N);
      const swapped = client.replaceServer(far.address, next!.address);
      const after = keys.map((k) => client.set(`${k}:after`, `new-${k}`));
      const results = await Promise.allSettled(before);
      expect(results.map(outcome)).toEqual(keys.map(() => true));
      expect((await Promise.allSettled(after)).map(outcome)).toEqual(keys.map(() => true));
      await swapped;
      expect([...(await rawGetMulti(servers[0]!.port, keys)).keys()].sort()).toEqual([...keys].sort());
      const afterKeys = keys.map((k) => `${k}:after`);
      expect([...(await rawGetMulti(next!.port, afterKeys)).keys()].sort()).toEqual([...afterKeys].sort());
      expect((await rawGetMulti(servers[0]!.port, afterKeys)).size).toBe(0);
      expect(events.filter((e) => e.name === 'serverDown')).toEqual([]);
    } finally {
      await closeWithin(client, 4000);
    }
  });

  it('removeServer: calls still waiting for a socket on the removed server succeed there; calls after go to the remaining server', async () => {
    const [, , other] = servers;
    const client = new Client([far.address, other!.address], { timeoutMs: 2000 });
    try {
      const keys = Array.from({ length: 4 * N }, (_, i) => `fleet:m:${i}`);
      const before = keys.map((k) => client.set(k, `old-${k}`));
      expect(client.serverStats().find((s) => s.server === far.address)!.queued, 'calls wait for a socket when the change comes').toBeGreaterThan(0);
      const removed = client.removeServer(far.address);
      const after = keys.map((k) => client.set(`${k}:after`, `new-${k}`));
      expect((await Promise.allSettled(before)).map(outcome)).toEqual(keys.map(() => true));
      expect((await Promise.allSettled(after)).map(outcome)).toEqual(keys.map(() => true));
      await removed;
      const onFar = await rawGetMulti(servers[0]!.port, keys);
      const onOther = await rawGetMulti(other!.port, keys);
      expect(onFar.size, 'some keys were routed to the removed server before the change').toBeGreaterThan(0);
      expect(onFar.size + onOther.size).toBe(keys.length);
      const afterKeys = keys.map((k) => `${k}:after`);
      expect((await rawGetMulti(other!.port, afterKeys)).size).toBe(afterKeys.length);
    } finally {
      await closeWithin(client, 4000);
    }
  });
});

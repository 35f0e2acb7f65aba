/**
 * Shows: keys a multi-key call routed to a server before `removeServer()` are written to / read
 * from that server while it answers, even when the call submits them only after the change (held
 * back by the call's window or batching), and the removal completes once they are done. Real
 * memcached servers; the other server sits behind a 300 ms delay proxy so the call is still busy
 * with it when the removed (near, fast, idle) server is taken out.
 * - setMulti: 1,100 keys for the far server fill the text window (1,024 keys in flight), so the
 *   near server's 5 keys, routed with the rest, wait for the window; they must be stored on it.
 * - getMultiSettled: the near keys' last open batch waits while routing pauses for replies
 *   (more than 1,024 far batches outstanding); it must be read from the near server.
 * - Same-tick `get`s (coalesced, submitted on the next tick) made before the change are served there.
 * - Cluster#hold itself: a removed server stays open while a hold taken before the change is held,
 *   closes when it is released, never later than its deadline, and a hold taken after the change
 *   does not delay it.
 *
 * Found in review: retire() waited only for what was queued or in flight, so the removed server
 * closed at once and the call's later keys failed with 'server was removed from the cluster'.
 * The multi-key cases pass only with the client taking `Cluster#hold` around its routing and
 * submitting (src/client/multi-write.ts writeAll, src/client/multi.ts around routeAll/finish).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, PartialFailureError } from '../../src/index.js';
import type { Cluster } from '../../src/cluster/cluster.js';
import { now } from '../../src/connection/connection.js';
import { Ring } from '../../src/cluster/ring.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { useMemcached } from '../support/memcached.js';
import { expectWithinPromise } from '../support/timing.js';
import { closeWithin, describeError, rawGetMulti, sleep } from '../failure/helpers.js';

const clusterOf = (c: Client): Cluster => (c as unknown as { core: { cluster: Cluster } }).core.cluster;

/** `far` keys owned by the far server and `near` keys owned by the near one (on the two-server ring). */
function split(prefix: string, farAddress: string, nearAddress: string, far: number, near: number): { farKeys: string[]; nearKeys: string[] } {
  const ring = new Ring([farAddress, nearAddress]);
  const farKeys: string[] = [];
  const nearKeys: string[] = [];
  for (let i = 0; farKeys.length < far || nearKeys.length < near; i++) {
    const k = `${prefix}${i}`;
    const owner = ring.get(k);
    if (owner === farAddress && farKeys.length < far) farKeys.push(k);
    else if (owner === nearAddress && nearKeys.length < near) nearKeys.push(k);
  }
  return { farKeys, nearKeys };
}

/** Waits (a turn at a time) until the far server has work: the call has routed its keys and is submitting. */
async function farBusy(client: Client, far: string, atLeast = 1): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const s = client.serverStats().find((x) => x.server === far)!;
    if (s.queued + s.inFlight >= atLeast) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('the call never put work on the far server');
}

describe('multi-key calls routed before removeServer()', () => {
  const servers = useMemcached(2);
  let far: DelayProxy;
  beforeAll(async () => { far = await DelayProxy.start(servers[0]!, { replyDelayMs: 300 }); });
  afterAll(async () => { await far.close(); });

  it('setMulti: keys routed to the removed server before the change are stored there, not failed', async () => {
    const near = servers[1]!;
    const { farKeys, nearKeys } = split('rt:set:', far.address, near.address, 1100, 5);
    const client = new Client([far.address, near.address], { timeoutMs: 5000, validateTimeoutMs: 3000, connectTimeoutMs: 3000, protocol: 'text' });
    try {
      // 1,100 far keys first (more than the text window of 1,024), then 5 for the near server.
      const writing = client.setMulti([...farKeys, ...nearKeys].map((k) => [k, 'v'] as const));
      writing.catch(() => {});
      await farBusy(client, far.address);
      const removed = client.removeServer(near.address);
      const result = await writing.catch((err: unknown) => err);
      await removed;
      const failed = result instanceof PartialFailureError ? [...result.errors].map(([k, e]) => `${k}: ${describeError(e)}`) : [];
      expect(failed, 'keys routed to the healthy removed server before the change').toEqual([]);
      expect(result).toBeInstanceOf(Map);
      expect([...(await rawGetMulti(near.port, nearKeys)).keys()].sort(), 'stored on the removed server').toEqual([...nearKeys].sort());
    } finally {
      await sleep(0);
      await closeWithin(client, 7000);
    }
  }, 20_000);

  it('getMultiSettled: keys routed to the removed server before the change are read from it', async () => {
    const near = servers[1]!;
    // The near keys first: with maxBatchKeys 1 the last one stays in an open batch until finish();
    // then enough far keys that routing pauses for replies with over 1,024 batches outstanding.
    const { farKeys, nearKeys } = split('rt:get:', far.address, near.address, 1600, 5);
    const seed = new Client([near.address]);
    for (const k of nearKeys) expect(await seed.set(k, `near-${k}`)).toBe(true);
    await seed.close();
    const client = new Client([far.address, near.address], { timeoutMs: 5000, validateTimeoutMs: 3000, connectTimeoutMs: 3000, maxBatchKeys: 1 });
    try {
      const reading = client.getMultiSettled([...nearKeys, ...farKeys]);
      await farBusy(client, far.address, 1000);
      const removed = client.removeServer(near.address);
      const { values, errors } = await reading;
      await removed;
      expect([...errors].map(([k, e]) => `${k}: ${describeError(e)}`), 'keys routed to the healthy removed server before the change').toEqual([]);
      expect(nearKeys.map((k) => values.get(k)), 'read from the removed server').toEqual(nearKeys.map((k) => `near-${k}`));
    } finally {
      await closeWithin(client, 7000);
    }
  }, 20_000);

  it('same-tick gets routed before the change are served by the removed server', async () => {
    const near = servers[1]!;
    const { nearKeys } = split('rt:tick:', far.address, near.address, 0, 3);
    const seed = new Client([near.address]);
    for (const k of nearKeys) expect(await seed.set(k, `near-${k}`)).toBe(true);
    await seed.close();
    const client = new Client([far.address, near.address], { timeoutMs: 2000 });
    try {
      const gets = nearKeys.map((k) => client.get(k)); // coalesced: submitted on the next tick
      const removed = client.removeServer(near.address);
      const got = await Promise.allSettled(gets);
      await removed;
      expect(got.map((r) => (r.status === 'fulfilled' ? r.value : describeError(r.reason)))).toEqual(nearKeys.map((k) => `near-${k}`));
    } finally {
      await closeWithin(client, 4000);
    }
  });

  it('Cluster#hold: keeps a removed server open until released, never past its deadline; a later hold does not', async () => {
    const near = servers[1]!;
    const client = new Client([far.address, near.address], { timeoutMs: 2000 });
    try {
      const cluster = clusterOf(client);
      // Released: the removal completes once the hold is released.
      const hold = cluster.hold(now() + 10_000);
      let done = false;
      const removed = client.removeServer(near.address).then(() => { done = true; });
      const later = cluster.hold(now() + 10_000); // taken after the change: routes on the new ring
      await sleep(200);
      expect(done, 'the removed server waits for the hold taken before the change').toBe(false);
      const releasedAt = now();
      hold.release();
      await removed;
      expectWithinPromise(now() - releasedAt, 0, 'removal completes once the hold is released');
      later.release();

      // Never released (a call that never gave it back): it lapses at its deadline.
      client.addServer(near.address);
      const leaked = cluster.hold(now() + 300);
      const start = now();
      await client.removeServer(near.address);
      expectWithinPromise(now() - start, 300, 'a hold lapses at its deadline');
      leaked.release();
    } finally {
      await closeWithin(client, 4000);
    }
  });
});

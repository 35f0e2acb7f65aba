/**
 * A lease request (`mg ... N`) whose call gave up before its reply came (a per-call `timeoutMs`
 * shorter than the client's, which is also the socket's stall bound: the socket stays). memcached
 * had created the placeholder and given the lease (W) to this client, which fell back to calling the
 * loader and stores nothing. Before, the late reply was read and dropped: nobody filled or released
 * the placeholder, and every other client in the fleet waited on it until `leaseTtl` (30 s) and got
 * `LeaseWaitTimeoutError`. The late reply now releases it (`md <key> C<cas>`), so the next caller
 * wins at once. (When the socket itself stalls and is destroyed, the reply is never read: the
 * placeholder heals after `leaseTtl`, as README says.)
 *
 * The delay proxy holds the server's replies: a real server cannot answer late on demand.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { useMemcached } from '../support/memcached.js';
import { OPTS } from './helpers.js';

describe('fetch: a lease won after its call timed out (meta)', () => {
  const servers = useMemcached(1);
  let proxy: DelayProxy;
  beforeAll(async () => { proxy = await DelayProxy.start(servers[0]!); });
  afterAll(async () => { await proxy?.close(); });
  const open: Client[] = [];
  afterEach(async () => { await Promise.all(open.splice(0).map((c) => c.close())); });

  it('releases the placeholder when the late reply comes: another client wins and loads, no wait runs out', async () => {
    // Through the proxy; trustRecentMs so the delayed proxy is not asked to validate the socket again.
    const slow = new Client([proxy.address], { ...OPTS, protocol: 'meta', timeoutMs: 5000, trustRecentMs: 60_000, failureThreshold: 100 });
    const direct = new Client([servers[0]!.address], { ...OPTS, protocol: 'meta' });
    open.push(slow, direct);
    const key = `late-lease:${Date.now()}`;
    expect(await slow.get(`${key}:warm`)).toBeUndefined(); // protocol learned, socket proven
    const fallbacks: string[] = [];
    slow.on('fetchFallback', (e) => fallbacks.push(e.reason.name));
    await proxy.setDelays({ replyDelayMs: 1000 });
    // The lease request reaches memcached at once (it wins there); its reply comes after the call's 200 ms.
    expect(await slow.fetch(key, async () => 'loaded by slow', { ttl: 60, timeoutMs: 200 })).toBe('loaded by slow');
    expect(fallbacks).toEqual(['TimeoutError']);
    expect(await servers[0]!.command(`mg ${key} s\r\n`), 'the placeholder slow won').toBe('HD s0 Z\r\n');
    // Another process fetches the key while the placeholder is out, with a wait far below leaseTtl.
    const other = await direct.fetch(key, async () => 'loaded by direct', { ttl: 60, waitMs: 10_000 }).then(
      (v) => `value: ${v}`,
      (e: unknown) => `error: ${(e as Error).name}: ${(e as Error).message}`,
    );
    expect(other).toBe('value: loaded by direct');
    expect(direct.fetchStats()).toMatchObject({ leaseWins: 1, waitTimeouts: 0 });
    expect(await direct.get(key)).toBe('loaded by direct');
  });
});

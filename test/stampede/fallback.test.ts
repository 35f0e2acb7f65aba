/**
 * When the cache cannot be asked, `fetch` calls the loader directly (once per client for
 * concurrent calls), stores nothing anywhere, and says so (event + counter). And the edges of a
 * lease: a wait that runs out, a loader that throws, an aborted caller, bad input.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, Client, InvalidArgumentError, InvalidValueError, LeaseWaitTimeoutError, MemclusterError, type ClientEvents } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { eventually, settlesWithin } from '../support/timing.js';
import { clientsFor, gatedLoader, OPTS } from './helpers.js';

describe('fetch when a server is down', () => {
  const servers = useMemcached(2);
  const open: Client[] = [];
  afterEach(async () => { await Promise.all(open.splice(0).map((c) => c.close())); });

  it('calls the loader directly, once per client for concurrent calls, stores nothing, emits fetchFallback', async () => {
    const [a, b] = servers;
    const mc = new Client([a!.address, b!.address], { ...OPTS, failureThreshold: 2 });
    open.push(mc);
    // A key that lives on server a (asked of the servers themselves, not of the client's ring).
    let key = '';
    for (let i = 0; !key; i++) {
      const k = `down:${Date.now()}:${i}`;
      await mc.set(k, 'probe');
      if ((await a!.command(`get ${k}\r\n`)).includes('VALUE')) key = k;
      await mc.delete(k);
    }
    await a!.kill();
    const events: ClientEvents['fetchFallback'][0][] = [];
    mc.on('fetchFallback', (e) => events.push(e));
    let loads = 0;
    const loader = async (): Promise<string> => { loads++; return `loaded-${loads}`; };

    // Connection refused: a cache-side failure.
    const first = await settlesWithin(Promise.all(Array.from({ length: 40 }, () => mc.fetch(key, loader, { ttl: 60 }))), OPTS.timeoutMs!, 'fetch against a dead server settles within timeoutMs');
    expect(first.ok, String(!first.ok && first.error)).toBe(true);
    expect(new Set(first.ok ? first.value : [])).toEqual(new Set(['loaded-1']));
    expect(loads).toBe(1);
    expect(events).toHaveLength(1);
    expect(Object.keys(events[0]!).sort()).toEqual(['reason', 'server']);
    expect(events[0]!.server).toBe(a!.address);
    expect(events[0]!.reason).toBeInstanceOf(MemclusterError);

    // Marked down (isDown): refused at once, same fallback.
    await eventually(() => mc.serverStats().find((s) => s.server === a!.address)?.state === 'down', 3000, 'server a marked down');
    const second = await Promise.all(Array.from({ length: 40 }, () => mc.fetch(key, loader, { ttl: 60 })));
    expect(new Set(second)).toEqual(new Set(['loaded-2']));
    expect(loads).toBe(2);
    expect(events.at(-1)!.reason.code).toBe('MC_ERR_SERVER_UNAVAILABLE');
    expect(mc.fetchStats().fallbacks).toBe(events.length);
    // Nothing was stored elsewhere (no failover of the value, no lock or placeholder on b).
    expect(await b!.command(`mg ${key} v\r\n`)).toBe('EN\r\n');
    expect(await b!.command(`get ${key}~lease\r\n`)).toBe('END\r\n');
    await a!.restart();
  });
});

describe.each(['meta', 'text'] as const)('fetch: lease edges (protocol: %s)', (protocol) => {
  const servers = useMemcached(1);
  const client = clientsFor(servers, protocol);

  it('a wait that runs out: LeaseWaitTimeoutError by default; onWaitTimeout load returns its own value without storing it', async () => {
    const [holder, waiter, loaderToo] = [client(), client(), client()];
    const key = `wait:${protocol}:${Date.now()}`;
    const gate = gatedLoader(() => 'winner');
    const held = holder.fetch(key, gate.loader, { ttl: 60 });
    await gate.started;
    const lost = await settlesWithin(waiter.fetch(key, async () => 'never', { waitMs: 300 }), 300, 'a loser settles within waitMs');
    expect(lost.ok).toBe(false);
    expect(lost.ok ? undefined : lost.error).toBeInstanceOf(LeaseWaitTimeoutError);
    expect((lost.ok ? undefined : lost.error as MemclusterError)?.code).toBe('MC_ERR_LEASE_WAIT_TIMEOUT');
    expect(await loaderToo.fetch(key, async () => 'own', { waitMs: 100, onWaitTimeout: 'load' })).toBe('own');
    gate.release();
    expect(await held).toBe('winner');
    expect(await waiter.get(key)).toBe('winner');
    expect(waiter.fetchStats().waitTimeouts).toBe(1);
  });

  it('a loader that throws rejects every caller sharing the flight; after leaseTtl another caller loads', async () => {
    const [a, b] = [client(), client()];
    const key = `throws:${protocol}:${Date.now()}`;
    const failing = Array.from({ length: 10 }, () => a.fetch(key, async () => { throw new Error('database down'); }, { leaseTtl: 1 }));
    for (const r of await Promise.allSettled(failing)) expect(r.status === 'rejected' && (r.reason as Error).message).toBe('database down');
    const healed = await settlesWithin(b.fetch(key, async () => 'second try', { leaseTtl: 1, waitMs: 4000 }), 2000, 'the lease heals after leaseTtl');
    expect(healed.ok && healed.value).toBe('second try');
  });

  it('an aborted caller rejects at once; the shared flight goes on for the others', async () => {
    const mc = client();
    const key = `abort:${protocol}:${Date.now()}`;
    const gate = gatedLoader(() => 'done');
    const ac = new AbortController();
    const aborted = mc.fetch(key, gate.loader, { signal: ac.signal });
    const other = mc.fetch(key, gate.loader);
    await gate.started;
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    gate.release();
    expect(await other).toBe('done');
    expect(gate.calls).toHaveLength(1);
  });

  it('refuses bad input before anything is sent', async () => {
    const mc = client();
    const bad = [
      () => mc.fetch('k', 'not a function' as never),
      () => mc.fetch('k', async () => 1, { leaseTtl: 0 }),
      () => mc.fetch('k', async () => 1, { waitMs: -1 }),
      () => mc.fetch('k', async () => 1, { ttl: 1.5 }),
      () => mc.fetch('k', async () => 1, { recacheWithin: 'soon' as never }),
      () => mc.fetch('k', async () => 1, { onWaitTimeout: 'retry' as never }),
      () => mc.fetch('k', async () => 1, { leasettl: 5 } as never),
      () => mc.incr('k', 1, { initial: -1 }),
      () => mc.invalidate('k', { staleTtl: -5 }),
    ];
    for (const call of bad) await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(mc.fetch('bad key', async () => 1)).rejects.toMatchObject({ code: 'MC_ERR_INVALID_KEY' });
    // A loader that returns undefined is refused (return null to cache a "not found").
    await expect(mc.fetch(`undef:${Date.now()}`, async () => undefined, { leaseTtl: 1 })).rejects.toBeInstanceOf(InvalidValueError);
  });
});

/**
 * Scenario 2: one of three servers is killed (SIGKILL) and later restarted, empty, on the same
 * port. While it is down its keys fail fast; once it is back, no stale socket of the dead process
 * may ever be used.
 */
import { describe, expect, it } from 'vitest';
import { MemclusterError, ServerUnavailableError } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { expectWithinPromise } from '../support/timing.js';
import { describeError, expectAllAtOnce, expectMcError, expectWithin, FAST, keys, now, type Outcome, ownersOf, recordEvents, settle, sleep, useClients, waitFor } from './helpers.js';

/**
 * Longer than FAST's: a killed server's requests fail on the refused or reset socket, not on the
 * timeout, but the 500-request bursts open fresh sockets all at once, and on a busy machine their
 * connects and validations must not turn into TimeoutErrors that say nothing about stale sockets.
 */
const TIMEOUT = 2000;
const OPTS = { ...FAST, timeoutMs: TIMEOUT };

describe('a killed and restarted server', () => {
  const servers = useMemcached(3);
  const newClient = useClients();

  it('rejects its keys fast while down, and after restart + serverUp a 500-request burst has zero failures', async () => {
    const client = newClient(servers.map((s) => s.address), OPTS);
    const events = recordEvents(client);
    const all = keys('kill', 120);
    const owners = await ownersOf(client, servers, all);
    const victim = servers[2] as MemcachedServer;
    const victimKeys = owners.get(victim.address)!;
    expect(victimKeys.length).toBeGreaterThan(5);
    // Many pooled sockets to every server, so the dead process leaves stale ones behind.
    const warm = await Promise.all(all.map((k) => settle(client.get(k), 2000)));
    expect(warm.every((o) => o.ok)).toBe(true);
    await Promise.all(all.map((k) => settle(client.set(k, `w-${k}`), 2000)));
    const pooledBefore = client.serverStats().find((s) => s.server === victim.address)!.size;
    expect(pooledBefore).toBeGreaterThan(0);

    await victim.kill();
    const killedAt = now();

    // Until marked down, each request for its keys fails within the timeout, naming it.
    for (let i = 0; !events.some((e) => e.name === 'serverDown'); i++) {
      expect(i, 'server never marked down').toBeLessThan(20);
      const k = victimKeys[i % victimKeys.length]!;
      const o = await settle(client.get(k), TIMEOUT + 2000, `get ${k} after kill`);
      expect(o.ok, 'a request for a killed server succeeded').toBe(false);
      expect(o.error, describeError(o.error)).toBeInstanceOf(MemclusterError);
      expect((o.error as MemclusterError).server).toBe(victim.address);
      expectWithin(o, TIMEOUT);
    }
    const down = events.find((e) => e.name === 'serverDown')!;
    expect(down.server).toBe(victim.address);
    expectWithinPromise(down.at - killedAt, 2 * TIMEOUT, 'a killed server is marked down within two request timeouts');

    // While it is down (kept down ~1 s), its keys reject at once (no socket, no timer); every other key is served.
    const fast: Array<Outcome<unknown>> = [];
    const downUntil = now() + 1000;
    for (let i = 0; now() < downUntil; i++) {
      const k = victimKeys[i % victimKeys.length]!;
      const o = await settle(i % 2 ? client.set(k, 'x') : client.get(k), 1000, `request for ${k} while down`);
      expectMcError(o.error, ServerUnavailableError, 'MC_ERR_SERVER_UNAVAILABLE', victim.address);
      fast.push(o);
      await sleep(20);
    }
    expect(fast.length).toBeGreaterThan(3);
    expectAllAtOnce(fast, 'requests for a server marked down');
    const others = all.filter((k) => !victimKeys.includes(k));
    const otherGets = await Promise.all(others.map((k) => settle(client.get(k), 2000)));
    expect(otherGets.filter((o) => !o.ok || o.value === undefined).map((o) => describeError(o.error))).toEqual([]);

    await victim.restart();
    const restartedAt = now();
    const up = await waitFor(() => events.find((e) => e.name === 'serverUp'), 3000, 'serverUp after restart');
    expect(up.server).toBe(victim.address);
    expectWithinPromise(up.at - restartedAt, FAST.maxRetryDelayMs! + FAST.connectTimeoutMs! + FAST.validateTimeoutMs!, 'serverUp within one probe interval plus a connect and a validation after the restart');

    // Burst: 500 concurrent gets/sets across every key, including the restarted server's.
    const burst = await Promise.all(
      Array.from({ length: 500 }, (_, i) => {
        const k = all[i % all.length]!;
        return i % 2 === 0 ? settle(client.set(k, `b-${i}`), TIMEOUT + 2000, `set ${k}`) : settle(client.get(k), TIMEOUT + 2000, `get ${k}`);
      }),
    );
    const failures = burst.filter((o) => !o.ok).map((o) => describeError(o.error));
    expect(failures, `${failures.length} of 500 burst requests failed`).toEqual([]);
    expect(burst.filter((_, i) => i % 2 === 0).every((o) => o.value === true)).toBe(true);
    // The restarted server is empty: its keys read back only what the burst wrote after restart.
    for (const k of victimKeys) {
      const g = await settle(client.get(k), 2000, `get ${k}`);
      expect(g.ok).toBe(true);
      expect(g.value === undefined || (typeof g.value === 'string' && g.value.startsWith('b-'))).toBe(true);
    }
    expect(events.filter((e) => e.name === 'serverDown')).toHaveLength(1);
    // Every socket of the dead process was dropped, not reused.
    const st = client.serverStats().find((s) => s.server === victim.address)!;
    expect(st.state).toBe('up');
    expect(st.evicted).toBeGreaterThanOrEqual(pooledBefore);
  });

  it('a quick restart (0.8 s after the kill): after serverUp, a burst still has zero failures', async () => {
    // Probes every 50-100 ms, so serverUp follows the restart closely.
    const client = newClient(servers.map((s) => s.address), { ...OPTS, retryDelayMs: 50, maxRetryDelayMs: 100 });
    const events = recordEvents(client);
    const all = keys('quick', 60);
    const owners = await ownersOf(client, servers, all);
    const victim = servers[0] as MemcachedServer;
    const victimKeys = owners.get(victim.address)!;
    await Promise.all(all.map((k) => settle(client.get(k), 2000)));

    await victim.kill();
    const killedAt = now();
    for (let i = 0; !events.some((e) => e.name === 'serverDown'); i++) {
      expect(i, 'server never marked down').toBeLessThan(20);
      const o = await settle(client.get(victimKeys[i % victimKeys.length]!), TIMEOUT + 2000, 'get after kill');
      expect(o.ok).toBe(false);
      expect((o.error as MemclusterError).server).toBe(victim.address);
    }
    await sleep(Math.max(0, killedAt + 800 - now()));
    await victim.restart();
    await waitFor(() => events.find((e) => e.name === 'serverUp'), 3000, 'serverUp after restart');
    const upAt = now();

    const burst = await Promise.all(
      Array.from({ length: 500 }, (_, i) => {
        const k = all[i % all.length]!;
        return i % 2 === 0 ? settle(client.set(k, `q-${i}`), TIMEOUT + 2000, `set ${k}`) : settle(client.get(k), TIMEOUT + 2000, `get ${k}`);
      }),
    );
    const failures = burst.filter((o) => !o.ok).map((o) => `${o.ms.toFixed(0)}ms ${describeError(o.error)}`);
    expect(failures.slice(0, 5), `${failures.length} of 500 burst requests failed ${(now() - upAt).toFixed(0)} ms after serverUp `
      + `(server up ${(upAt - killedAt).toFixed(0)} ms after the kill)`).toEqual([]);
  });
});

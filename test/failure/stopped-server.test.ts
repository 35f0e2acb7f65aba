/**
 * Scenario 1: one of three servers is stopped with SIGSTOP. Its kernel still completes TCP
 * handshakes and takes writes, so only a real request with a deadline can notice.
 */
import { describe, expect, it } from 'vitest';
import { MemclusterError, ServerUnavailableError, TimeoutError } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { expectWithinPromise } from '../support/timing.js';
import { describeError, expectAllAtOnce, expectMcError, expectWithin, FAST, type Outcome, keys, now, ownersOf, recordEvents, settle, sleep, useClients, waitFor } from './helpers.js';

const TIMEOUT = FAST.timeoutMs!;

describe('a stopped (SIGSTOP) server', () => {
  const servers = useMemcached(3);
  const newClient = useClients({ before: () => { for (const s of servers) s.thaw(); } });

  it('fails its keys within the timeout, naming it; marks it down; other keys keep working; SIGCONT brings it back', async () => {
    const client = newClient(servers.map((s) => s.address));
    const events = recordEvents(client);
    const owners = await ownersOf(client, servers, keys('stop', 90));
    const victim = servers[1] as MemcachedServer;
    const victimKeys = owners.get(victim.address)!;
    const otherKeys = [...owners].filter(([a]) => a !== victim.address).flatMap(([, ks]) => ks);
    expect(victimKeys.length).toBeGreaterThan(3);
    // Warm every pool, then let the sockets go idle (they will be validated at the next borrow).
    for (const k of [...victimKeys, ...otherKeys]) expect((await settle(client.get(k), 2000)).value).toBe(`v-${k}`);

    await victim.freeze();
    const frozenAt = now();

    // Other keys are served during the whole freeze, by a loop running beside the victim's requests.
    let stopOthers = false;
    const otherResults: Array<{ ok: boolean; err?: string }> = [];
    const othersLoop = (async () => {
      for (let i = 0; !stopOthers; i++) {
        const k = otherKeys[i % otherKeys.length]!;
        const o = i % 2 === 0 ? await settle(client.get(k), TIMEOUT + 2000, `get ${k}`) : await settle(client.set(k, `v-${k}`), TIMEOUT + 2000, `set ${k}`);
        otherResults.push({ ok: o.ok && (i % 2 === 0 ? o.value === `v-${k}` : o.value === true), err: o.ok ? undefined : describeError(o.error) });
        await sleep(5);
      }
    })();

    // Until it is marked down, each request for its keys fails within the timeout bound, naming it.
    const beforeDown: Array<Outcome<unknown>> = [];
    for (let i = 0; !events.some((e) => e.name === 'serverDown'); i++) {
      expect(i, 'server never marked down').toBeLessThan(20);
      const k = victimKeys[i % victimKeys.length]!;
      const o = await settle(i % 2 === 0 ? client.get(k) : client.set(k, 'x'), TIMEOUT + 2000, `request ${i} for ${k}`);
      expect(o.ok, `request for a frozen server's key succeeded`).toBe(false);
      beforeDown.push(o);
    }
    const down = events.find((e) => e.name === 'serverDown')!;
    expect(down.server).toBe(victim.address);
    expect(events.filter((e) => e.name === 'serverDown').map((e) => e.server)).toEqual([victim.address]);
    expectWithinPromise(down.at - frozenAt, 4 * TIMEOUT, 'a frozen server is marked down within a few request timeouts');
    for (const o of beforeDown) {
      const err = o.error;
      expect(err).toBeInstanceOf(MemclusterError);
      expect((err as MemclusterError).server, describeError(err)).toBe(victim.address);
      // A request waiting for the frozen server times out; one issued after the down mark fails fast.
      expect([TimeoutError, ServerUnavailableError].some((c) => err instanceof c), describeError(err)).toBe(true);
      expectWithin(o, TIMEOUT);
    }

    // Marked down: its keys reject at once with ServerUnavailableError, no waiting on the socket.
    const fast: Array<Outcome<unknown>> = [];
    for (const k of victimKeys.slice(0, 10)) {
      const o = await settle(client.get(k), 1000, `get ${k} while down`);
      expectMcError(o.error, ServerUnavailableError, 'MC_ERR_SERVER_UNAVAILABLE', victim.address);
      fast.push(o);
      const s = await settle(client.set(k, 'y'), 1000, `set ${k} while down`);
      expectMcError(s.error, ServerUnavailableError, 'MC_ERR_SERVER_UNAVAILABLE', victim.address);
      fast.push(s);
    }
    expectAllAtOnce(fast, 'requests for a server marked down');
    expect(client.serverStats().find((s) => s.server === victim.address)!.state).toBe('down');

    // Keep the freeze a little longer so the probes see it too, then thaw: a probe must bring it back.
    await sleep(300);
    expect(events.some((e) => e.name === 'serverUp'), 'serverUp while still frozen').toBe(false);
    victim.thaw();
    const thawedAt = now();
    const up = await waitFor(() => events.find((e) => e.name === 'serverUp'), 3000, 'serverUp after SIGCONT');
    expect(up.server).toBe(victim.address);
    // The next probe is due within maxRetryDelayMs; it connects and validates.
    expectWithinPromise(up.at - thawedAt, FAST.maxRetryDelayMs! + FAST.connectTimeoutMs! + FAST.validateTimeoutMs!, 'serverUp within one probe interval plus a connect and a validation after SIGCONT');
    expect(up.at).toBeGreaterThan(down.at);

    stopOthers = true;
    await othersLoop;
    expect(otherResults.length).toBeGreaterThan(10);
    expect(otherResults.filter((r) => !r.ok), 'other servers keep serving during the freeze').toEqual([]);

    // Its keys are served again (set then get, every key).
    for (const k of victimKeys) {
      const s = await settle(client.set(k, `back-${k}`), 2000, `set ${k} after thaw`);
      expect(s.ok, describeError(s.error)).toBe(true);
      expect(s.value).toBe(true);
      const g = await settle(client.get(k), 2000, `get ${k} after thaw`);
      expect(g.value).toBe(`back-${k}`);
    }
    expect(client.serverStats().find((s) => s.server === victim.address)!.state).toBe('up');
  });

  it('counts one failed validation as one failure: failureThreshold 3 needs three failed attempts', async () => {
    const victim = servers[0] as MemcachedServer;
    const client = newClient([victim.address], { ...FAST, timeoutMs: 1200 });
    const events = recordEvents(client);
    expect(await client.set('one', 1)).toBe(true);
    // The socket goes back to the pool and will be validated at the next borrow.
    await waitFor(() => client.serverStats()[0]!.free === 1, 1000, 'the socket back in the pool');
    await victim.freeze();
    const issuedAt = now();
    // One request, so one borrow at a time: each attempt (borrow validation, then create + validation)
    // must wait validateTimeoutMs for the frozen server before it can count as a failure.
    const o = await settle(client.get('one'), 1200 + 2000, 'get while frozen');
    const down = await waitFor(() => events.find((e) => e.name === 'serverDown'), 3000, 'serverDown');
    const stats = client.serverStats()[0]!;
    expectMcError(o.error, ServerUnavailableError, 'MC_ERR_SERVER_UNAVAILABLE', victim.address);
    expect(down.server).toBe(victim.address);
    expect(
      down.at - issuedAt,
      `marked down ${(down.at - issuedAt).toFixed(0)} ms after the first request; three sequential ${FAST.validateTimeoutMs} ms validation timeouts take at least ${3 * FAST.validateTimeoutMs!} ms `
        + `(validations=${stats.validations} validationFailures=${stats.validationFailures} evicted=${stats.evicted} lastError=${stats.lastError})`,
    ).toBeGreaterThanOrEqual(3 * FAST.validateTimeoutMs! - 10);
  });
});

/**
 * Scenario 8 (part): routing while a server is down. With `failover: true` its keys go to the next
 * live server on the ring (reads miss there, writes succeed); with the default `failover: false`
 * they are refused with ServerUnavailableError.
 */
import { describe, expect, it } from 'vitest';
import { MemclusterError, ServerUnavailableError } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { describeError, expectMcError, FAST, keys, ownersOf, rawGetMulti, recordEvents, settle, useClients, waitFor } from './helpers.js';

const TIMEOUT = FAST.timeoutMs!;

describe('a down server with failover on and off', () => {
  const servers = useMemcached(3);
  const newClient = useClients();

  it('failover: true sends its keys to a live server (miss, then writes succeed); failover: false rejects them', async () => {
    const addresses = servers.map((s) => s.address);
    const withFailover = newClient(addresses, { ...FAST, failover: true });
    const without = newClient(addresses);
    const events = [recordEvents(withFailover), recordEvents(without)] as const;
    const owners = await ownersOf(without, servers, keys('fo', 60));
    const victim = servers[0] as MemcachedServer;
    const victimKeys = owners.get(victim.address)!;
    expect(victimKeys.length).toBeGreaterThan(3);
    // Both clients route alike while all are up.
    for (const k of victimKeys) expect(await withFailover.get(k)).toBe(`v-${k}`);

    await victim.kill();
    // Drive both clients until each has marked the killed server down.
    for (const [i, client] of [withFailover, without].entries()) {
      for (let n = 0; !events[i].some((e) => e.name === 'serverDown'); n++) {
        expect(n, 'never marked down').toBeLessThan(20);
        const o = await settle(client.get(victimKeys[n % victimKeys.length]!), TIMEOUT + 2000, 'get while detecting');
        if (!o.ok) expect((o.error as MemclusterError).server, describeError(o.error)).toBe(victim.address);
      }
      expect(events[i].find((e) => e.name === 'serverDown')!.server).toBe(victim.address);
    }

    // failover: false (default): refused at once, naming the down server.
    for (const k of victimKeys.slice(0, 5)) {
      const g = await settle(without.get(k), 1000, `get ${k}`);
      expectMcError(g.error, ServerUnavailableError, 'MC_ERR_SERVER_UNAVAILABLE', victim.address);
      const s = await settle(without.set(k, 'no'), 1000, `set ${k}`);
      expectMcError(s.error, ServerUnavailableError, 'MC_ERR_SERVER_UNAVAILABLE', victim.address);
    }

    // failover: true: a read misses on the stand-in (the data lived on the dead server), a write
    // succeeds and reads back, and it landed on a live server, never the dead one.
    const live = servers.filter((s) => s !== victim);
    for (const k of victimKeys) {
      const miss = await settle(withFailover.get(k), TIMEOUT + 500, `failover get ${k}`);
      expect(miss.ok, describeError(miss.error)).toBe(true);
      expect(miss.value).toBeUndefined();
      const set = await settle(withFailover.set(k, `fo-${k}`), TIMEOUT + 500, `failover set ${k}`);
      expect(set.value, describeError(set.error)).toBe(true);
      const hit = await settle(withFailover.get(k), TIMEOUT + 500, `failover get ${k} again`);
      expect(hit.value).toBe(`fo-${k}`);
    }
    const landed = await Promise.all(live.map((s) => rawGetMulti(s.port, victimKeys)));
    for (const k of victimKeys) expect(landed.filter((m) => m.get(k) === `fo-${k}`).length, `${k} stored on exactly one live server`).toBe(1);
    // Keys of live servers are untouched by failover routing.
    for (const s of live) {
      for (const k of owners.get(s.address)!.slice(0, 5)) expect(await withFailover.get(k)).toBe(`v-${k}`);
    }

    // Back up: both clients route the keys home again.
    await victim.restart();
    await waitFor(() => events.every((ev) => ev.some((e) => e.name === 'serverUp')), 3000, 'serverUp on both clients');
    for (const k of victimKeys.slice(0, 5)) {
      expect((await settle(without.set(k, 'home'), 2000)).value).toBe(true);
      expect((await settle(withFailover.get(k), 2000)).value).toBe('home');
    }
  });
});

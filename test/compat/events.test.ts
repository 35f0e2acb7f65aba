/**
 * 2.2.2's events (`issue`, `failure`, `reconnecting`, `reconnect`, `remove`) with its payload shape,
 * driven by 2.2.2's IssueLog state machine (src/compat/issues.ts) on real servers that are killed and restarted; and
 * `remove: true` with and without `failOverServers` (also with one server, which 2.2.2 ignored).
 */
import { describe, expect, it } from 'vitest';
import type { MemcachedServer } from '../support/memcached.js';
import { useMemcached } from '../support/memcached.js';
import Memcached from '../../src/compat/index.js';
import { eventually } from '../support/timing.js';
import { call, ok, rawItem } from './helpers.js';

type Event = { name: string; details: any };

function record(mc: any): Event[] {
  const events: Event[] = [];
  for (const name of ['issue', 'failure', 'reconnecting', 'reconnect', 'remove']) mc.on(name, (details: unknown) => events.push({ name, details }));
  return events;
}

/** Keys whose server (as the client routes them) is `server`. */
function keysOn(mc: any, server: MemcachedServer, n: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (mc.fleet.nodeFor(`${prefix}${i}`).server === server.address) out.push(`${prefix}${i}`);
  return out;
}

/**
 * Sends requests for `keys` until `cond` holds. As in 2.2.2, a failed server refuses calls for
 * `retry` ms ("not available", not counted), so failures are counted at most one per window.
 */
async function failUntil(mc: any, keys: string[], cond: () => boolean, promisedMs = 3000): Promise<void> {
  let i = 0;
  await eventually(async () => {
    if (cond()) return true;
    await call(mc, 'get', [keys[i++ % keys.length]], 3000);
    return cond();
  }, promisedMs, 'the failures to be counted', 5);
}

describe('events', () => {
  const servers = useMemcached(4);

  it('issue per failure (one per `retry` window, counting down), reconnecting once dead, reconnect when it is back; no failure event (as 2.2.2 with remove: false)', async () => {
    const [a, b] = servers as [MemcachedServer, MemcachedServer];
    const mc = new Memcached([a.address, b.address], { failures: 2, retries: 0, retry: 50, reconnect: 200, timeout: 500 }) as any;
    const events = record(mc);
    try {
      const onB = keysOn(mc, b, 5, 'ev');
      await ok(mc, 'set', onB[0], 'x', 0);
      await b.kill();
      await failUntil(mc, onB, () => events.some((e) => e.name === 'reconnecting'));
      expect(events.map((e) => e.name)).toEqual(['issue', 'issue', 'reconnecting']);
      const refused = `Error: connect ECONNREFUSED ${b.address}`;
      const [first, second, reconnecting] = events.map((e) => e.details);
      // 2.2.2 hands every listener the IssueLog's live messages array; the counters are as of the event.
      expect(first).toMatchObject({ server: b.address, tokens: [String(b.port), '127.0.0.1'], failures: 2, totalFailures: 0 });
      expect(second).toMatchObject({ server: b.address, failures: 1, totalFailures: 1 });
      expect(reconnecting).toMatchObject({ server: b.address, totalReconnectsAttempted: 1, totalReconnectsSuccess: 0, totalReconnectsFailed: 1, totalDownTime: 200 + 2 * 50 });
      expect(reconnecting.messages.slice(0, 3)).toEqual([refused, refused, refused]);
      expect(mc.issues[b.address]).toMatchObject({ failed: true, failures: 0, totalFailures: 2, isScheduledToReconnect: true });
      expect((await call(mc, 'get', [onB[1]])).err.message).toBe(`Server at ${b.address} not available`);
      expect(events.some((e) => e.details.server === a.address)).toBe(false);
      await b.restart();
      await eventually(() => events.some((e) => e.name === 'reconnect'), 1000, 'reconnect');
      const back = events.find((e) => e.name === 'reconnect')!.details;
      expect(back).toMatchObject({ server: b.address });
      expect(back.totalReconnectsAttempted).toBeGreaterThanOrEqual(1);
      expect(mc.issues[b.address]).toMatchObject({ failed: false, failures: 2, isScheduledToReconnect: false, messages: [] });
      expect(await ok(mc, 'set', onB[1], 'back', 0)).toBe(true);
      expect(events.some((e) => e.name === 'remove' || e.name === 'failure')).toBe(false);
    } finally {
      mc.end();
    }
  });

  it('remove: true takes a dead server out of the ring: remove, then failure; its keys go to the others', async () => {
    const [a, b] = servers as [MemcachedServer, MemcachedServer];
    if (!b.isRunning) await b.restart();
    const mc = new Memcached([a.address, b.address], { failures: 1, retries: 0, remove: true, retry: 50, timeout: 500 }) as any;
    const events = record(mc);
    try {
      const onA = keysOn(mc, a, 10, 'rm');
      const onB = keysOn(mc, b, 10, 'rm');
      for (const k of onA) await ok(mc, 'set', k, `a:${k}`, 0);
      await b.kill();
      await failUntil(mc, onB, () => events.some((e) => e.name === 'failure'));
      const names = events.map((e) => e.name);
      expect(names).toContain('remove');
      expect(names.indexOf('remove')).toBeLessThan(names.lastIndexOf('failure'));
      expect(events.find((e) => e.name === 'remove')!.details.server).toBe(b.address);
      await eventually(() => mc.fleet.nodeFor(onB[0]).server === a.address, 1000, 'the removal');
      for (const k of onB) expect(await ok(mc, 'set', k, 'moved', 0)).toBe(true); // now on a
      for (const k of onB) expect(await rawItem(a.port, k)).toBeDefined();
      for (const k of onA) expect(await ok(mc, 'get', k)).toBe(`a:${k}`); // a's keys did not move
    } finally {
      mc.end();
      await b.restart();
    }
  });

  it('failOverServers: the replacement takes exactly the dead server\'s keys; the others keep theirs', async () => {
    const [a, b, f] = servers as [MemcachedServer, MemcachedServer, MemcachedServer];
    const mc = new Memcached([a.address, b.address], { failures: 1, retries: 0, remove: true, failOverServers: [f.address], retry: 50, timeout: 500 }) as any;
    const events = record(mc);
    try {
      const onA = keysOn(mc, a, 20, 'fo');
      const onB = keysOn(mc, b, 20, 'fo');
      for (const k of onA) await ok(mc, 'set', k, `a:${k}`, 0);
      await b.kill();
      await failUntil(mc, onB, () => events.some((e) => e.name === 'remove'));
      await eventually(() => mc.fleet.nodeFor(onB[0]).server === f.address, 1000, 'the swap');
      for (const k of onB) expect(mc.fleet.nodeFor(k).server).toBe(f.address);
      for (const k of onA) expect(mc.fleet.nodeFor(k).server).toBe(a.address);
      for (const k of onB) expect(await ok(mc, 'set', k, 'on f', 0)).toBe(true);
      for (const k of onB) expect((await rawItem(f.port, k))?.data.toString()).toBe('on f');
      for (const k of onA) expect(await ok(mc, 'get', k)).toBe(`a:${k}`);
      expect(events.filter((e) => e.name === 'failure' && e.details.server === b.address)).toHaveLength(0);
      const versions = await ok(mc, 'version');
      expect(versions.map((v: any) => v.server).sort()).toEqual([a.address, f.address].sort());
    } finally {
      mc.end();
      await b.restart();
    }
  });

  it('failOverServers work with a single server too (2.2.2 ignored them)', async () => {
    const [, b, , spare] = servers as [MemcachedServer, MemcachedServer, MemcachedServer, MemcachedServer];
    const mc = new Memcached(b.address, { failures: 1, retries: 0, remove: true, failOverServers: spare.address, retry: 50, timeout: 500 }) as any;
    const events = record(mc);
    try {
      expect(await ok(mc, 'set', 'solo', 'on b', 0)).toBe(true);
      await b.kill();
      await failUntil(mc, ['solo'], () => events.some((e) => e.name === 'remove'));
      await eventually(() => mc.fleet.nodeFor('solo').server === spare.address, 1000, 'the swap');
      expect(await ok(mc, 'set', 'solo', 'on spare', 0)).toBe(true);
      expect((await rawItem(spare.port, 'solo'))?.data.toString()).toBe('on spare');
    } finally {
      mc.end();
      await b.restart();
    }
  });
});

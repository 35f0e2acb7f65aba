/**
 * 2.2.2's events (`issue`, `failure`, `reconnecting`, `reconnect`, `remove`) with its payload shape,
 * driven by memcluster's health tracking on real servers that are killed and restarted; and
 * `remove: true` with and without `failOverServers` (also with one server, which 2.2.2 ignored).
 */
import { describe, expect, it } from 'vitest';
import type { MemcachedServer } from '../support/memcached.js';
import { useMemcached } from '../support/memcached.js';
import Memcached from '../../src/compat/index.js';
import { call, ok, rawItem, sleep } from './helpers.js';

type Event = { name: string; details: any };

function record(mc: any): Event[] {
  const events: Event[] = [];
  for (const name of ['issue', 'failure', 'reconnecting', 'reconnect', 'remove']) mc.on(name, (details: unknown) => events.push({ name, details }));
  return events;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Keys whose server (as the client routes them) is `server`. */
function keysOn(mc: any, server: MemcachedServer, n: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (mc.fleet.nodeFor(`${prefix}${i}`).server === server.address) out.push(`${prefix}${i}`);
  return out;
}

/** Sends requests for `keys` until `cond` holds (each failure counts against the server). */
async function failUntil(mc: any, keys: string[], cond: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !cond(); i++) {
    await call(mc, 'get', [keys[i % keys.length]], 3000);
    await sleep(5);
  }
}

describe('events', () => {
  const servers = useMemcached(4);

  it('issue, then failure and reconnecting when a server is marked down, then reconnect when it is back', async () => {
    const [a, b] = servers as [MemcachedServer, MemcachedServer];
    const mc = new Memcached([a.address, b.address], { failures: 2, retry: 50, reconnect: 200, timeout: 500 }) as any;
    const events = record(mc);
    try {
      const onB = keysOn(mc, b, 5, 'ev');
      await ok(mc, 'set', onB[0], 'x', 0);
      await b.kill();
      await failUntil(mc, onB, () => events.some((e) => e.name === 'failure'));
      await until(() => events.some((e) => e.name === 'reconnecting'), 1000, 'reconnecting');
      const names = events.map((e) => e.name);
      expect(names.slice(0, 2)).toEqual(['issue', 'issue']);
      expect(names.indexOf('failure')).toBeLessThan(names.indexOf('reconnecting'));
      const [first, second] = events;
      expect(first!.details).toEqual({ server: b.address, tokens: [String(b.port), '127.0.0.1'], messages: [expect.any(String)], failures: 2, totalFailures: 1 });
      expect(second!.details).toMatchObject({ failures: 1, totalFailures: 2 });
      expect(second!.details.messages).toHaveLength(2);
      const failure = events.find((e) => e.name === 'failure')!.details;
      expect(failure).toMatchObject({ server: b.address, tokens: [String(b.port), '127.0.0.1'], totalReconnectsAttempted: 0, totalReconnectsSuccess: 0 });
      expect(events.find((e) => e.name === 'reconnecting')!.details.totalReconnectsAttempted).toBe(1);
      expect(events.some((e) => e.name === 'issue' && e.details.server === a.address)).toBe(false);
      await b.restart();
      await until(() => events.some((e) => e.name === 'reconnect'), 3000, 'reconnect');
      const back = events.find((e) => e.name === 'reconnect')!.details;
      expect(back).toMatchObject({ server: b.address, totalReconnectsSuccess: 1, totalReconnectsFailed: 0 });
      expect(back.totalDownTime).toBeGreaterThan(0);
      expect(await ok(mc, 'set', onB[1], 'back', 0)).toBe(true);
      expect(events.some((e) => e.name === 'remove')).toBe(false);
    } finally {
      mc.end();
    }
  });

  it('remove: true takes a dead server out of the ring: remove, then failure; its keys go to the others', async () => {
    const [a, b] = servers as [MemcachedServer, MemcachedServer];
    if (!b.isRunning) await b.restart();
    const mc = new Memcached([a.address, b.address], { failures: 1, remove: true, retry: 50, timeout: 500 }) as any;
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
      await sleep(20);
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
    const mc = new Memcached([a.address, b.address], { failures: 1, remove: true, failOverServers: [f.address], retry: 50, timeout: 500 }) as any;
    const events = record(mc);
    try {
      const onA = keysOn(mc, a, 20, 'fo');
      const onB = keysOn(mc, b, 20, 'fo');
      for (const k of onA) await ok(mc, 'set', k, `a:${k}`, 0);
      await b.kill();
      await failUntil(mc, onB, () => events.some((e) => e.name === 'remove'));
      await until(() => mc.fleet.nodeFor(onB[0]).server === f.address, 1000, 'the swap');
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
    const mc = new Memcached(b.address, { failures: 1, remove: true, failOverServers: spare.address, retry: 50, timeout: 500 }) as any;
    const events = record(mc);
    try {
      expect(await ok(mc, 'set', 'solo', 'on b', 0)).toBe(true);
      await b.kill();
      await failUntil(mc, ['solo'], () => events.some((e) => e.name === 'remove'));
      await until(() => mc.fleet.nodeFor('solo').server === spare.address, 1000, 'the swap');
      expect(await ok(mc, 'set', 'solo', 'on spare', 0)).toBe(true);
      expect((await rawItem(spare.port, 'solo'))?.data.toString()).toBe('on spare');
    } finally {
      mc.end();
      await b.restart();
    }
  });
});

/**
 * Per-call options: every call takes `{ signal, timeoutMs }` last. An aborted call rejects at once
 * with AbortError, leaves nothing queued, abandons a written request without harming its socket,
 * and the client keeps serving.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, Client, InvalidArgumentError, PartialFailureError, TimeoutError } from '../../src/index.js';
import { startServers, stopAll, type MemcachedServer } from '../support/memcached.js';
import { BlackHole } from '../support/black-hole.js';
import { Fake } from '../support/fake-memcached.js';
import { eventually, settlesWithin } from '../support/timing.js';
import { rejection } from '../support/assert.js';

let server: MemcachedServer;
let mc: Client;
beforeAll(async () => { [server] = await startServers(1) as [MemcachedServer]; });
afterAll(stopAll);
afterEach(async () => { await mc?.close(); });

/** Resolves after the current macrotask (a tick plus the microtasks it queued). */
const tick = () => new Promise<void>((r) => setImmediate(r));

// The fake speaks the classic text protocol only (it answers ERROR to meta commands).
describe('per-call options', () => {
  it('a signal already aborted rejects with AbortError before anything is written', async () => {
    mc = new Client([server.address]);
    const ac = new AbortController();
    ac.abort();
    const err = await rejection(() => mc.get('k', { signal: ac.signal }));
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).name).toBe('AbortError');
    expect((err as AbortError).code).toBe('MC_ERR_ABORTED');
    expect(mc.serverStats()[0]!.created).toBe(0); // no socket was even opened
  });

  it('aborting a request already written rejects within a tick; its socket stays and keeps serving', async () => {
    // A server that answers a get only after 300 ms: the get is written and waits.
    const fake = await Fake.start();
    let ended = false;
    fake.onLine = (line, sock) => line.startsWith('get ') && (setTimeout(() => { ended = true; sock.write('END\r\n'); }, 300), true);
    const c = new Client([fake.address], { timeoutMs: 10_000, maxConnections: 1, protocol: 'text' });
    try {
      const ac = new AbortController();
      let settled: unknown = 'pending';
      const p = c.get('k', { signal: ac.signal }).then((v) => (settled = v), (e) => (settled = e));
      await settlesWithin((async () => { while (!fake.lines.includes('get k')) await tick(); })(), 2000, 'the get reaches the server');
      expect(settled).toBe('pending');
      ac.abort();
      await tick();
      expect(settled).toBeInstanceOf(AbortError);
      await p;
      // The same socket still carries requests: once the late END has been read and discarded, a
      // version round trip works and nothing was evicted. (The fake would answer a version sent
      // earlier before the held END, which no real server does.)
      await eventually(() => ended, 300, 'the server answers the abandoned get');
      expect((await c.version()).size).toBe(1);
      const stats = c.serverStats()[0]!;
      expect(stats.evicted).toBe(0);
      expect(stats.created).toBe(1);
      expect(fake.accepted).toBe(1);
    } finally {
      await c.close().catch(() => {});
      await fake.close();
    }
  });

  it('aborting a call queued behind a busy socket leaves nothing queued', async () => {
    const fake = await Fake.start();
    fake.onLine = (line, sock) => line.startsWith('get ') && (setTimeout(() => sock.write('END\r\n'), 300), true);
    const c = new Client([fake.address], { timeoutMs: 10_000, maxConnections: 1, maxPipeline: 1, protocol: 'text' });
    try {
      const first = c.get('a').catch((e) => e); // takes the only pipeline slot for 300 ms
      await settlesWithin((async () => { while (!fake.lines.includes('get a')) await tick(); })(), 2000, 'the first get reaches the server');
      const ac = new AbortController();
      const queued = c.get('b', { signal: ac.signal }).catch((e) => e);
      await tick();
      expect(c.serverStats()[0]!.queued).toBe(1);
      ac.abort();
      expect(await queued).toBeInstanceOf(AbortError);
      expect(c.serverStats()[0]!.queued).toBe(0);
      expect(await first).toBeUndefined(); // a miss, answered after 300 ms
      expect(fake.lines).not.toContain('get b'); // never written
    } finally {
      await c.close().catch(() => {});
      await fake.close();
    }
  });

  it('a multi-key call aborted midway rejects with AbortError and the client keeps serving', async () => {
    mc = new Client([server.address]);
    const keys = Array.from({ length: 20_000 }, (_, i) => `ab:${i}`);
    const ac = new AbortController();
    const p = mc.getMulti(keys, { signal: ac.signal });
    ac.abort(new Error('user went away'));
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as Error).message).toContain('user went away');
    await mc.set('after', 1);
    expect(await mc.getMulti(['after'])).toEqual(new Map([['after', 1]]));
  });

  it('timeoutMs per call bounds that call, and only that call', async () => {
    const hole = await BlackHole.start();
    const c = new Client([hole.address], { timeoutMs: 30_000, validation: 'version' });
    try {
      const o = await settlesWithin(c.get('k', { timeoutMs: 150 }), 150, 'get with timeoutMs 150');
      expect(o.ok).toBe(false);
      expect(o.ok ? undefined : o.error).toBeInstanceOf(TimeoutError);
      const m = await settlesWithin(c.getMulti(['a', 'b', 'c'], { timeoutMs: 150 }), 150, 'getMulti with timeoutMs 150');
      expect(m.ok ? undefined : m.error).toBeInstanceOf(PartialFailureError);
    } finally {
      await c.close().catch(() => {});
      await hole.close();
    }
  });

  it('bad call options are refused before anything is written', async () => {
    mc = new Client([server.address]);
    expect(await rejection(() => mc.get('k', { timeoutMs: 0 }))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(() => mc.set('k', 1, { signal: {} as AbortSignal }))).toBeInstanceOf(InvalidArgumentError);
    expect(mc.serverStats()[0]!.created).toBe(0);
  });
});

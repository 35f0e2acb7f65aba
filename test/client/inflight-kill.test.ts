/**
 * A server that dies or stops while a request is on the wire: the request settles within its
 * timeout with a typed error naming that server, never with `undefined`, and the client recovers
 * once the server is back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Client, MemclusterError, PartialFailureError, TimeoutError, type ClientOptions,
} from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { expectWithinPromise } from '../support/timing.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Codes that say "the connection or the server failed" (as opposed to bad input or a server reply). */
const CONNECTION_LEVEL = ['MC_ERR_CONNECTION', 'MC_ERR_TIMEOUT'];

interface Settled {
  ms: number;
  status: 'fulfilled' | 'rejected';
  value?: unknown;
  reason?: unknown;
}

/** Tracks when and how a promise settles, measured from now. */
function track(p: Promise<unknown>): Promise<Settled> {
  const t0 = performance.now();
  return p.then(
    (value) => ({ ms: performance.now() - t0, status: 'fulfilled' as const, value }),
    (reason: unknown) => ({ ms: performance.now() - t0, status: 'rejected' as const, reason }),
  );
}

/** Polls `fn` until it returns true (errors count as false) or `ms` (plus nothing: callers assert the result) runs out. */
async function eventually(fn: () => Promise<boolean>, ms: number, every = 100): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await fn()) return true;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) return false;
    await sleep(every);
  }
}

/**
 * SIGSTOP is delivered asynchronously: until every thread of the process is really stopped, a
 * request sent right after `freeze()` may still be answered. Freeze, then wait for state `T` on
 * every thread (Linux /proc).
 */
async function freeze(server: MemcachedServer): Promise<void> {
  server.freeze();
  const deadline = Date.now() + 2000;
  for (;;) {
    const tasks = readdirSync(`/proc/${server.pid}/task`);
    const states = tasks.map((t) => /\) (\S) /.exec(readFileSync(`/proc/${server.pid}/task/${t}/stat`, 'utf8'))?.[1]);
    if (states.every((st) => st === 'T')) return;
    if (Date.now() > deadline) throw new Error(`memcached ${server.pid} not stopped after 2 s: ${states.join(',')}`);
    await sleep(2);
  }
}

function inFlight(mc: Client, server: MemcachedServer): number {
  return mc.serverStats().find((s) => s.server === server.address)?.inFlight ?? -1;
}

describe('a server killed or stopped with a request in flight', () => {
  const servers = useMemcached(1);
  let server: MemcachedServer;
  const clients: Client[] = [];
  const client = (opts: ClientOptions): Client => {
    const mc = new Client([server.address], opts);
    clients.push(mc);
    return mc;
  };

  beforeEach(async () => {
    server = servers[0]!;
    if (server.isFrozen) server.thaw();
    if (!server.isRunning) await server.restart();
  });
  afterEach(async () => {
    if (server.isFrozen) server.thaw();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    if (!server.isRunning) await server.restart();
  });

  it('SIGKILL while a get is written but unanswered: it rejects on the socket\'s death (not its timeout), naming the server, never undefined', async () => {
    // trustRecentMs: the warm socket is reused without a validation round trip, so the get itself
    // is what sits on the wire when the server dies. A long timeout: only the death can settle it.
    const mc = client({ timeoutMs: 10_000, trustRecentMs: 60_000 });
    expect(await mc.set('k', 'v')).toBe(true);
    expect(await mc.get('k')).toBe('v');
    await freeze(server);
    const settled = track(mc.get('k'));
    expect(await eventually(async () => inFlight(mc, server) === 1, 1000, 5)).toBe(true);
    await server.kill();
    const r = await settled;
    expect(r.status).toBe('rejected');
    expect(r.value).toBeUndefined();
    const err = r.reason as MemclusterError;
    expect(err).toBeInstanceOf(MemclusterError);
    expect(err.code, 'the socket\'s death is reported, not waited out').toBe('MC_ERR_CONNECTION');
    expect(err.server).toBe(server.address);
    expect(err.message).toContain(server.address);
    expect(inFlight(mc, server)).toBe(0);
  });

  it('SIGKILL with several pipelined requests in flight: every one rejects naming the server, within its timeout', async () => {
    const mc = client({ timeoutMs: 2000, trustRecentMs: 60_000, coalesce: false });
    await mc.setMulti([['a', 1], ['b', 2], ['c', 3]]);
    expect(await mc.get('a')).toBe(1);
    await freeze(server);
    const calls = [mc.get('a'), mc.get('b'), mc.gets('c'), mc.set('d', 4), mc.incr('a'), mc.getMulti(['a', 'b', 'c'])].map(track);
    expect(await eventually(async () => inFlight(mc, server) >= 1, 1000, 5)).toBe(true);
    await server.kill();
    const results = await Promise.all(calls);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expectWithinPromise(r.ms, 2000, 'a pipelined request to a killed server settles within timeoutMs');
      const err = r.reason as MemclusterError;
      expect(err).toBeInstanceOf(MemclusterError);
      if (err instanceof PartialFailureError) {
        expect([...err.values.keys()]).toEqual([]);
        expect([...err.errors.keys()].sort()).toEqual(['a', 'b', 'c']);
        for (const e of err.errors.values()) expect(e.server).toBe(server.address);
      } else {
        expect(err.server).toBe(server.address);
      }
    }
  });

  it('SIGKILL while the borrow-time validation is in flight (default options): the get rejects within its timeout, naming the server', async () => {
    const mc = client({ timeoutMs: 2000 });
    expect(await mc.set('k', 'v')).toBe(true);
    // The socket goes back to the pool, so the next borrow validates it.
    expect(await eventually(async () => mc.serverStats()[0]!.free === 1, 1000, 5), 'the socket back in the pool').toBe(true);
    await freeze(server);
    const settled = track(mc.get('k'));
    await sleep(50); // deliberate: the validation request is on the wire by now (it cannot be awaited)
    await server.kill();
    const r = await settled;
    expect(r.status).toBe('rejected');
    expectWithinPromise(r.ms, 2000, 'a get whose validation meets a killed server settles within timeoutMs');
    const err = r.reason as MemclusterError;
    expect(err).toBeInstanceOf(MemclusterError);
    expect(err.server).toBe(server.address);
    expect([...CONNECTION_LEVEL, 'MC_ERR_VALIDATION', 'MC_ERR_SERVER_UNAVAILABLE', 'MC_ERR_CONNECT_TIMEOUT']).toContain(err.code);
  });

  it('after a kill and a restart (an empty server), the client serves requests again', async () => {
    const mc = client({ timeoutMs: 1000, trustRecentMs: 60_000 });
    expect(await mc.set('k', 'v')).toBe(true);
    await freeze(server);
    const settled = track(mc.get('k'));
    expect(await eventually(async () => inFlight(mc, server) === 1, 1000, 5)).toBe(true);
    await server.kill();
    expect((await settled).status).toBe('rejected');
    await server.restart();
    const back = await eventually(async () => (await mc.set('k', 'again')) === true, 12_000, 100);
    expect(back).toBe(true);
    expect(await mc.get('k')).toBe('again');
  });

  it('a frozen server: a get with timeoutMs 300 rejects with TimeoutError naming it, not before 300 ms nor long after; after thaw gets succeed again', async () => {
    const mc = client({ timeoutMs: 300 });
    expect(await mc.set('k', 'frozen-value')).toBe(true);
    expect(await mc.get('k')).toBe('frozen-value');
    expect(await eventually(async () => mc.serverStats()[0]!.free === 1, 1000, 5), 'the socket back in the pool').toBe(true);
    await freeze(server);
    const r = await track(mc.get('k'));
    expect(r.status).toBe('rejected');
    const err = r.reason as MemclusterError;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.code).toBe('MC_ERR_TIMEOUT');
    expect(err.server).toBe(server.address);
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expectWithinPromise(r.ms, 300, 'TimeoutError within timeoutMs');

    server.thaw();
    let value: unknown;
    const back = await eventually(async () => {
      value = await mc.get('k');
      return true;
    }, 12_000, 100);
    expect(back).toBe(true);
    expect(value).toBe('frozen-value');
  });

  it('a frozen server and a request already on the wire: TimeoutError at timeoutMs (300 ms), then recovery after thaw', async () => {
    const mc = client({ timeoutMs: 300, trustRecentMs: 60_000 });
    expect(await mc.set('k', 'x')).toBe(true);
    await freeze(server);
    const settled = track(mc.get('k'));
    const r = await settled;
    expect(r.status).toBe('rejected');
    expect(r.reason).toBeInstanceOf(TimeoutError);
    expect((r.reason as MemclusterError).server).toBe(server.address);
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expectWithinPromise(r.ms, 300, 'TimeoutError within timeoutMs');
    server.thaw();
    expect(await eventually(async () => (await mc.get('k')) === 'x', 12_000, 100)).toBe(true);
  });

  it('a cold client against a frozen server: TimeoutError at timeoutMs (300 ms) (the kernel accepts the connect)', async () => {
    await freeze(server);
    const mc = client({ timeoutMs: 300 });
    const r = await track(mc.get('k'));
    expect(r.status).toBe('rejected');
    expect(r.reason).toBeInstanceOf(TimeoutError);
    expect((r.reason as MemclusterError).server).toBe(server.address);
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expectWithinPromise(r.ms, 300, 'TimeoutError within timeoutMs');
    server.thaw();
    expect(await eventually(async () => (await mc.set('k', 'y')) === true, 12_000, 100)).toBe(true);
  });
});

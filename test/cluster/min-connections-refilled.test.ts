/**
 * (Found in review; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * minConnections ("sockets per server kept open while idle") must be restored once the sockets it
 * kept are gone: after the server restarts, and after the server itself closes idle sockets
 * (`-o idle_timeout`), and once a server that was down at start comes up. Checked on the server
 * side (`curr_connections`) and in serverStats().
 *
 * Cause: generic-pool tops up `min` only in start() and after it destroys a resource. A socket that
 * dies while idle is only marked (ServerPool.deadIdle) and stays in generic-pool's free list until a
 * borrow or an idle eviction (idleTimeoutMs) takes it out; a failed create never tops up again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { freePort, MemcachedServer, startServers } from '../support/memcached.js';
import { sleep } from '../failure/helpers.js';

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Idle client sockets the server holds open, counted in `stats conns` (the listener and this stats
 * socket left out). curr_connections minus a baseline read once was off by one for a whole CI run's
 * wait (likely a harness socket whose close the server had not processed when the baseline was read).
 */
async function clientSockets(s: MemcachedServer): Promise<number> {
  const reply = await s.command('stats conns\r\n');
  return [...reply.matchAll(/^STAT \d+:state (\S+)/gm)].filter((m) => m[1] === 'conn_read' || m[1] === 'conn_waiting' || m[1] === 'conn_new_cmd').length;
}

describe('minConnections is refilled', () => {
  let mc: Client | undefined;
  let servers: MemcachedServer[] = [];
  afterEach(async () => {
    await mc?.close();
    mc = undefined;
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('after the server restarts, the pool opens minConnections sockets again without waiting for a call', async () => {
    servers = await startServers(1);
    const s = servers[0]!;
    mc = new Client([s.address], { minConnections: 2, idleTimeoutMs: 60_000, retryDelayMs: 200 });
    await waitFor(async () => (await clientSockets(s)) === 2, 5000, 'the two minConnections sockets');
    await s.restart();
    // Generous: the pool has seen EOF on both sockets at once; 10 s is far beyond any backoff.
    const state = async () => ({ serverSideSockets: await clientSockets(s), poolSize: mc!.serverStats()[0]!.size });
    // The state last seen is asserted: a probe socket opened and closed meanwhile may still be
    // counted by the server for a moment (it is not the pool's).
    let seen = await state();
    await waitFor(async () => JSON.stringify(seen = await state()) === JSON.stringify({ serverSideSockets: 2, poolSize: 2 }), 10_000, 'two sockets again').catch(() => {});
    expect(seen).toEqual({ serverSideSockets: 2, poolSize: 2 });
    expect(mc.serverStats()[0]!.state).toBe('up');
  }, 20_000);

  it('after the server closes the idle sockets (-o idle_timeout=2), minConnections is restored', async () => {
    servers = await startServers(1, { args: ['-o', 'idle_timeout=2'] });
    const s = servers[0]!;
    mc = new Client([s.address], { minConnections: 2, idleTimeoutMs: 60_000, retryDelayMs: 200 });
    await waitFor(async () => (await clientSockets(s)) === 2, 5000, 'the two minConnections sockets');
    // memcached kicks idle sockets after idle_timeout (checked about once a second).
    await waitFor(async () => Number((await s.stats()).idle_kicks) >= 2, 10_000, 'the server kicking the idle sockets');
    // The pool should hold (or be reopening) two live sockets, not dead ones counted as idle.
    await waitFor(async () => mc!.serverStats()[0]!.size === 2 && (await clientSockets(s)) === 2, 10_000, 'two live sockets').catch(() => {});
    expect({ poolSize: mc.serverStats()[0]!.size }).toEqual({ poolSize: 2 });
  }, 30_000);

  it('a server that was down when the client started: once it is up, minConnections sockets are opened', async () => {
    const port = await freePort();
    mc = new Client([`127.0.0.1:${port}`], { minConnections: 2, idleTimeoutMs: 60_000, retryDelayMs: 200 });
    await sleep(500); // the pool's first creates are refused
    const s = await MemcachedServer.start({ port });
    servers = [s];
    const state = () => { const st = mc!.serverStats()[0]!; return { state: st.state, poolSize: st.size, free: st.free }; };
    await waitFor(async () => JSON.stringify(state()) === JSON.stringify({ state: 'up', poolSize: 2, free: 2 }), 10_000, 'two free sockets').catch(() => {});
    expect(state()).toEqual({ state: 'up', poolSize: 2, free: 2 });
  }, 20_000);
});

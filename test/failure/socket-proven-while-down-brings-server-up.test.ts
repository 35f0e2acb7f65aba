/**
 * (Found when CI saw a third server-side socket after a restart in min-connections-refilled.)
 * When a restart takes long enough for the pool's minConnections top-ups to fail `failureThreshold`
 * times, the server is marked down; a later top-up then opens and proves a socket (a real request
 * answered, the same evidence a probe gives), yet the server stayed down until the probe timer fired
 * (up to `retryDelayMs`), refusing every call while two proven sockets sat in its pool, and the
 * probe then opened a socket of its own. A socket the pool proves while the server is down now
 * brings it up at once, as a passed probe does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { freePort, MemcachedServer, startServers } from '../support/memcached.js';
import { sleep } from './helpers.js';

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

describe('a socket the pool proves while its server is marked down', () => {
  let mc: Client | undefined;
  let proxy: CuttingProxy | undefined;
  let servers: MemcachedServer[] = [];
  afterEach(async () => {
    await mc?.close();
    mc = undefined;
    await proxy?.close();
    proxy = undefined;
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('brings the server up without waiting for the probe, and the calls succeed', async () => {
    servers = await startServers(1);
    const s = servers[0]!;
    const deadPort = await freePort();
    // The proxy reads its upstream on every connect: pointing it at a port nobody listens on makes
    // every new socket fail its proving request (the proxy accepts, then closes), like a restart.
    const upstream = { port: s.port };
    proxy = await CuttingProxy.start(upstream, { maxLineBytes: Infinity });
    // The probe of a down server waits 30-60 s: far beyond this test, so only the pool's own
    // top-up can bring the server back here.
    mc = new Client([proxy.address], { minConnections: 2, idleTimeoutMs: 60_000, failureThreshold: 3, retryDelayMs: 60_000, maxRetryDelayMs: 60_000 });
    await waitFor(() => mc!.serverStats()[0]!.free === 2, 5000, 'the two minConnections sockets');
    const events: string[] = [];
    mc.on('serverDown', () => {
      events.push('down');
      upstream.port = s.port; // the "restart" is over: the next top-up reaches memcached
    });
    mc.on('serverUp', () => events.push('up'));
    upstream.port = deadPort;
    proxy.cutAll();
    await waitFor(() => events.includes('down'), 10_000, 'the server marked down by the failed top-ups');
    await waitFor(() => mc!.serverStats()[0]!.state === 'up', 10_000, 'the server up again').catch(() => {});
    const st = mc.serverStats()[0]!;
    expect({ state: st.state, events }).toEqual({ state: 'up', events: ['down', 'up'] });
    await mc.set('k', 'v');
    expect(await mc.get('k')).toBe('v');
  }, 30_000);
});

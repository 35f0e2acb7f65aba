/**
 * Issue 12, finding 8: `validation: 'auto'` re-learns per socket. The address a client uses is
 * swapped (a proxy whose upstream changes, then every connection cut) from a memcached 1.6 that
 * answers `mn` to something that answers `version` but not `mn`: a real twemproxy (it closes the
 * socket on `mn`), or a server answering `ERROR` to `mn`. New sockets and health probes fall back to
 * `version`, and the server is served again within a few sockets/probes, down or not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { Fake } from '../support/fake-memcached.js';
import { useMemcached } from '../support/memcached.js';
import { eventually } from '../support/timing.js';
import { closeWithin, describeError, recordEvents } from '../failure/helpers.js';
import { Twemproxy } from './support.js';

// validateTimeoutMs well above a loopback round trip: the warm-up must not fail on a busy machine.
const OPTS = { timeoutMs: 500, validateTimeoutMs: 1000, retryDelayMs: 50, maxRetryDelayMs: 200 } as const;

/** Calls until one succeeds; returns how many were made. Bounded by `eventually`. */
async function untilServed(call: () => Promise<unknown>, what: string): Promise<{ tries: number; errors: string[] }> {
  const errors: string[] = [];
  let tries = 0;
  await eventually(async () => {
    tries++;
    return call().then(() => true, (e: unknown) => (errors.push(describeError(e)), false));
  }, 3000, what, 25);
  return { tries, errors };
}

describe('an address that stops speaking mn', () => {
  const servers = useMemcached(2);
  let twem: Twemproxy;
  let front: DelayProxy;
  beforeAll(async () => { twem = await Twemproxy.start([servers[1]!]); });
  afterAll(async () => { await twem.stop(); });
  beforeAll(async () => { front = await DelayProxy.start(servers[0]!); });
  afterAll(async () => { await front.close(); });

  it('memcached -> twemproxy (closes the socket on mn): new sockets and probes fall back to version; served again', async () => {
    await front.setUpstream(servers[0]!);
    const client = new Client([front.address], { ...OPTS, failureThreshold: 1 });
    try {
      const events = recordEvents(client);
      expect(await client.set('relearn:a', 'v1')).toBe(true);
      expect(client.serverStats()[0]!.state).toBe('up');
      // Swap what answers the address, with requests in flight so the cut is counted (down at once).
      await front.setUpstream(twem);
      // Settled handlers attached at once: the cut below rejects these while the test awaits it.
      const inFlight = Promise.allSettled(Array.from({ length: 20 }, () => client.get('relearn:a')));
      await front.cutAll();
      await inFlight;
      const served = await untilServed(() => client.set('relearn:b', 'v2'), 'a set through twemproxy succeeds');
      expect(await client.get('relearn:b')).toBe('v2');
      expect((await servers[1]!.stats()).cmd_set, 'the set went through twemproxy to its backend').not.toBe('0');
      if (events.some((e) => e.name === 'serverDown')) {
        expect(events.some((e) => e.name === 'serverUp'), `a probe brought it back: ${JSON.stringify(served)}`).toBe(true);
      }
      expect(client.serverStats()[0]!.state).toBe('up');
    } finally {
      await closeWithin(client, 3000);
    }
  });

  it('memcached -> a server answering ERROR to mn: the same socket validates with version; served again', async () => {
    const fake = await Fake.start();
    fake.onLine = (line, sock) => {
      if (line === 'mn') return void sock.write('ERROR\r\n'), true;
      if (line.startsWith('touch ')) return void sock.write('TOUCHED\r\n'), true;
      return false;
    };
    await front.setUpstream(servers[0]!);
    const client = new Client([front.address], { ...OPTS, failureThreshold: 1 });
    try {
      expect(await client.set('relearn:c', 'v')).toBe(true);
      await front.setUpstream(fake);
      // Settled handlers attached at once: the cut below rejects these while the test awaits it.
      const inFlight = Promise.allSettled(Array.from({ length: 20 }, () => client.get('relearn:c')));
      await front.cutAll();
      await inFlight;
      await untilServed(() => client.touch('relearn:c', 10), 'a touch answered by the server without mn succeeds');
      expect(await client.get('relearn:c')).toBeUndefined(); // the fake answers every get with END
      expect(fake.lines.filter((l) => l === 'mn').length, 'mn was tried, then not on every request').toBeGreaterThan(0);
      expect(client.serverStats()[0]!.state).toBe('up');
    } finally {
      await closeWithin(client, 3000);
      await fake.close();
    }
  });
});

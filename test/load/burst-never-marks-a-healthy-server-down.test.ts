/**
 * Issue 12, finding 1: a burst of 3,000 concurrent sets against a healthy server 30 ms away with
 * `timeoutMs: 200`. Calls that cannot be answered in time fail alone with `TimeoutError` (their own
 * deadline); the server, which keeps answering, is never counted down, no socket that kept answering
 * is evicted, and a `get` right after the burst succeeds.
 *
 * "Kept answering" is checked, not assumed: the delay proxy (on its own thread) measures how
 * promptly the server and the proxy itself ran during the burst. Only when the machine really held
 * them up for half the stall time or more may a socket have gone quiet; then evictions (and what
 * follows) are the rule working, not the client blaming a healthy server, and the test says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { useMemcached } from '../support/memcached.js';
import { settlesWithin } from '../support/timing.js';
import { closeWithin, describeError, recordEvents } from '../failure/helpers.js';
import { tally } from './support.js';

const TIMEOUT = 200;
const BURST = 3000;
const DISTANCE = 30;

describe('a burst against a healthy server 30 ms away', () => {
  const servers = useMemcached(1);
  let proxy: DelayProxy;
  beforeAll(async () => { proxy = await DelayProxy.start(servers[0]!, { replyDelayMs: DISTANCE, watch: true }); });
  afterAll(async () => { await proxy.close(); });

  it('fails only the calls that ran out of time (TimeoutError), never marks the server down or evicts a socket, and a get right after succeeds', async () => {
    const client = new Client([proxy.address], { timeoutMs: TIMEOUT });
    try {
      const events = recordEvents(client);
      expect(await client.set('burst:before', 'kept', { timeoutMs: 5000 })).toBe(true); // setup on a cold client: its own time
      await proxy.promptness(true);

      const calls = Array.from({ length: BURST }, (_, i) => client.set(`burst:${i}`, `v${i}`));
      const settled = await settlesWithin(Promise.allSettled(calls), TIMEOUT, `${BURST} concurrent sets settle within timeoutMs`);
      const results = settled.ok ? settled.value : [];
      const kinds = tally(results);
      const after = await client.get('burst:before').then((v) => v, (e: unknown) => describeError(e));
      const far = await proxy.promptness();
      const blamed = events.map((e) => `${e.name}: ${describeError((e.payload as { reason?: unknown }).reason)}`);
      const context = `outcomes ${JSON.stringify(kinds)}; server/proxy promptness ${JSON.stringify(far)}; events ${JSON.stringify(blamed)}`;
      if (process.env.MEMCLUSTER_LOAD_VERBOSE) console.info(context);

      // Every call settled as itself: a success, or its own TimeoutError naming the server.
      for (const r of results) {
        if (r.status === 'fulfilled') expect(r.value).toBe(true);
        else expect((r.reason as { server?: string }).server).toBe(proxy.address);
      }
      const starved = Math.max(far.maxLoopGapMs, far.maxUpstreamRttMs) >= TIMEOUT / 2;
      if (starved && blamed.length > 0) {
        // The machine held the server or the network up for half the stall time or more: the
        // quiet sockets were really quiet. Only what follows from a stall may have happened.
        console.warn(`burst test: the machine held the server up (${context}); stall evictions allowed this run`);
        expect(Object.keys(kinds).filter((k) => !['ok', 'TimeoutError', 'ConnectionError', 'ServerUnavailableError'].includes(k)), context).toEqual([]);
        for (const e of events) {
          if (e.name === 'connectionEvicted') expect(describeError((e.payload as { reason: unknown }).reason), context).toMatch(/no reply for \d+ ms/);
        }
        return;
      }
      // How many time out depends on the machine's speed; what they are does not.
      expect(Object.keys(kinds).filter((k) => k !== 'ok' && k !== 'TimeoutError'), context).toEqual([]);
      expect(blamed, `the server kept answering, yet: ${context}`).toEqual([]);
      const stats = client.serverStats()[0]!;
      expect(stats.state).toBe('up');
      expect(stats.evicted).toBe(0);
      expect(stats.failures).toBe(0);
      // The very next call is served, by the same healthy server.
      expect(after, context).toBe('kept');
      expect(await client.get(`burst:${BURST - 1}`, { timeoutMs: 5000 })).toSatisfy((v) => v === undefined || v === `v${BURST - 1}`);
    } finally {
      await closeWithin(client, TIMEOUT + 2000);
    }
  });
});

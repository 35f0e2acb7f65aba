/**
 * Scenario 7: a network partition. One of three servers sits in its own network namespace behind a
 * veth link; taking the link down drops every packet (SYNs unanswered, not refused), which is what
 * a real partition looks like and what neither SIGSTOP nor a closed port can show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemclusterError, ServerUnavailableError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { NetnsMemcached, netnsUnavailableReason } from '../support/netns.js';
import { expectWithinPromise } from '../support/timing.js';
import { describeError, expectAllAtOnce, expectMcError, expectWithin, FAST, keys, now, type Outcome, ownersOf, recordEvents, settle, sleep, useClients, waitFor } from './helpers.js';

const TIMEOUT = FAST.timeoutMs!;
const unavailable = netnsUnavailableReason();
if (unavailable) console.log(`partition test skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('a partitioned server (veth link down)', () => {
  const locals = useMemcached(2);
  let remote: NetnsMemcached | undefined;
  const newClient = useClients();
  beforeAll(async () => {
    remote = await NetnsMemcached.start();
  });
  afterAll(async () => {
    await remote?.stop();
  });

  it('fails its keys within the timeout naming it, marks it down, serves the others, and comes back when the link does', async () => {
    const cut = remote!;
    const client = newClient([cut.address, ...locals.map((s) => s.address)]);
    const events = recordEvents(client);
    const owners = await ownersOf(client, [cut, ...locals], keys('part', 90));
    const cutKeys = owners.get(cut.address)!;
    const otherKeys = locals.flatMap((s) => owners.get(s.address)!);
    expect(cutKeys.length).toBeGreaterThan(3);
    for (const k of [...cutKeys, ...otherKeys]) expect((await settle(client.get(k), 2000)).value).toBe(`v-${k}`);

    cut.cut();
    const cutAt = now();
    // Proof that the link drops rather than refuses: a raw connect neither succeeds nor fails fast.
    const raw = await settle(cut.command('version\r\n', 300), 2000, 'raw version over the cut link');
    expect(raw.ok).toBe(false);
    expect(raw.ms).toBeGreaterThanOrEqual(290);

    let stopOthers = false;
    const otherFailures: string[] = [];
    let otherOk = 0;
    const othersLoop = (async () => {
      for (let i = 0; !stopOthers; i++) {
        const k = otherKeys[i % otherKeys.length]!;
        const o = await settle(client.get(k), TIMEOUT + 2000, `get ${k}`);
        if (o.ok && o.value === `v-${k}`) otherOk++;
        else otherFailures.push(`${k}: ${o.ok ? String(o.value) : describeError(o.error)}`);
        await sleep(5);
      }
    })();

    for (let i = 0; !events.some((e) => e.name === 'serverDown'); i++) {
      expect(i, 'server never marked down').toBeLessThan(20);
      const k = cutKeys[i % cutKeys.length]!;
      const o = await settle(i % 2 ? client.set(k, 'x') : client.get(k), TIMEOUT + 2000, `request for ${k} while cut`);
      expect(o.ok, 'a request over a cut link succeeded').toBe(false);
      expect(o.error, describeError(o.error)).toBeInstanceOf(MemclusterError);
      expect((o.error as MemclusterError).server).toBe(cut.address);
      expectWithin(o, TIMEOUT);
    }
    const down = events.find((e) => e.name === 'serverDown')!;
    expect(down.server).toBe(cut.address);
    expectWithinPromise(down.at - cutAt, 4 * TIMEOUT, 'a partitioned server is marked down within a few request timeouts');
    const whileDown: Array<Outcome<unknown>> = [];
    for (const k of cutKeys.slice(0, 8)) {
      const o = await settle(client.get(k), 1000, `get ${k} while down`);
      expectMcError(o.error, ServerUnavailableError, 'MC_ERR_SERVER_UNAVAILABLE', cut.address);
      whileDown.push(o);
    }
    expectAllAtOnce(whileDown, 'requests for a server marked down');

    await sleep(300);
    expect(events.some((e) => e.name === 'serverUp'), 'serverUp while the link is down').toBe(false);
    cut.restore();
    const restoredAt = now();
    const up = await waitFor(() => events.find((e) => e.name === 'serverUp'), 4000, 'serverUp after the link came back');
    expect(up.server).toBe(cut.address);
    // A probe is due within maxRetryDelayMs; on the restored veth link the first SYN may still be lost.
    expectWithinPromise(up.at - restoredAt, 3000, 'serverUp within a few probe intervals after the link came back');
    stopOthers = true;
    await othersLoop;
    expect(otherFailures, 'other servers are unaffected by the partition').toEqual([]);
    expect(otherOk).toBeGreaterThan(10);

    // Nothing was lost on the other side of the partition: its keys read back.
    for (const k of cutKeys) {
      const g = await settle(client.get(k), 2000, `get ${k} after restore`);
      expect(g.ok, describeError(g.error)).toBe(true);
      expect(g.value === `v-${k}` || g.value === 'x').toBe(true);
      const s = await settle(client.set(k, `after-${k}`), 2000, `set ${k} after restore`);
      expect(s.value, describeError(s.error)).toBe(true);
    }
  });
});

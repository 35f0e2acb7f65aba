/**
 * Replies are handled in slices, as a multi-key call's own work is (README, Limits). libuv reads up
 * to 32 chunks of a ready socket in one poll, and each chunk is parsed, checked and decoded at
 * once; src/connection/read-slice.ts pauses a socket once the reads of one event-loop turn have run
 * 4 ms, and resumes it a turn later.
 *
 * What is asserted is that behaviour, counted in values rather than milliseconds: with a
 * deserializer that costs at least 20 us per value, no event-loop turn decodes more than one
 * slice's worth of values (4 ms: at most 200 of them) plus the rest of the chunk that crossed it (a
 * read is at most 64 KB: under 600 of these values). Without the slicing, one poll decodes every
 * chunk the kernel holds: thousands of values. How long the loop is held is a benchmark figure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { defaultSerializer, type Serializer } from '../../src/client/values.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { useMemcached } from '../support/memcached.js';

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('a burst of replies is decoded in slices, letting the event loop turn', () => {
  const servers = useMemcached(1);
  const keys = Array.from({ length: 20_000 }, (_, i) => `slice:${i}`);
  const value = (k: string): string => `${k}:${'v'.repeat(90)}`;

  it('getMulti of 20,000 values at >= 20 us each: every value, and no turn decodes more than 1,000 of them', async () => {
    // Seeding is not what is shown here: a busy machine may take seconds over it.
    const seed = new Client([servers[0]!.address], { timeoutMs: 30_000 });
    await seed.setMulti(keys.map((k) => [k, value(k)] as const));
    await seed.close();

    let sinceTurn = 0;
    let mostInOneTurn = 0;
    let turns = 0;
    const slow: Serializer = {
      serialize: defaultSerializer.serialize,
      deserialize: (data, flags) => {
        spin(0.02);
        sinceTurn++;
        return defaultSerializer.deserialize(data, flags);
      },
    };
    const mc = new Client([servers[0]!.address], { serializer: slow, timeoutMs: 60_000 });
    let settled = false;
    const tick = (): void => {
      mostInOneTurn = Math.max(mostInOneTurn, sinceTurn);
      sinceTurn = 0;
      turns++;
      if (!settled) setImmediate(tick);
    };
    try {
      setImmediate(tick);
      const got = await mc.getMulti<string>(keys);
      settled = true;
      mostInOneTurn = Math.max(mostInOneTurn, sinceTurn);
      console.log(`[multi] 20,000 slow values decoded over ${turns} turns, at most ${mostInOneTurn} in one turn`);
      expect(got.size).toBe(keys.length);
      for (const k of keys) if (got.get(k) !== value(k)) expect.fail(`wrong value for ${k}`);
      expect(mostInOneTurn, 'values decoded in one event-loop turn').toBeLessThanOrEqual(1_000);
    } finally {
      await mc.close();
    }
  });
});

/**
 * A reply held back by the slicing has arrived: it is not late. The connection judges a call late
 * only on a deadline check that ran on time and after a poll phase could read what the kernel holds
 * (a busy loop is not the server's fault, nor the call's). A socket paused by the slicing holds such
 * bytes until a turn later, after that graced check: the check must wait for it.
 *
 * Shown with two servers behind delay proxies (their own threads): a getMulti whose values decode
 * at >= 20 us each, and a get with a 300 ms timeout. Both requests leave; the loop is then busy for
 * 600 ms, while the getMulti's reply (after 100 ms) and the get's (after 150 ms) arrive. When the
 * loop comes back, the get's deadline has passed; the poll reads the getMulti's first chunk (about
 * 500 values: over the 4 ms slice, under the 25 ms that makes a check late) and puts the get's chunk
 * back unread. The get must still resolve with its value (without the wait for a paused socket in
 * Connection.checkDeadline, it rejected with TimeoutError in every run).
 */
describe('a reply held back by the slicing is not judged late', () => {
  const servers = useMemcached(2);
  const proxies: DelayProxy[] = [];
  beforeAll(async () => {
    proxies.push(await DelayProxy.start(servers[0]!, { replyDelayMs: 100 }), await DelayProxy.start(servers[1]!, { replyDelayMs: 150 }));
  });
  afterAll(async () => { await Promise.all(proxies.map((p) => p.close())); });

  it('a get whose reply arrived while the loop was busy resolves with its value, though the slicing held it a turn', async () => {
    const keys = Array.from({ length: 3_000 }, (_, i) => `held:${i}`);
    // Each client talks to one server, so all of these land where its client reads.
    const bulk = new Client([servers[0]!.address], { timeoutMs: 30_000 });
    await bulk.setMulti(keys.map((k) => [k, `${k}:${'v'.repeat(90)}`] as const));
    await bulk.close();
    const one = new Client([servers[1]!.address], { timeoutMs: 30_000 });
    expect(await one.set('held:one', 'the value')).toBe(true);
    await one.close();

    let decoded = 0;
    const slow: Serializer = {
      serialize: defaultSerializer.serialize,
      deserialize: (data, flags) => {
        spin(0.02);
        decoded++;
        return defaultSerializer.deserialize(data, flags);
      },
    };
    // trustRecentMs: after the warm-up call, no borrow-time validation (a round trip through the
    // proxy) comes before the requests below.
    const a = new Client([proxies[0]!.address], { serializer: slow, timeoutMs: 30_000, trustRecentMs: 60_000 });
    const b = new Client([proxies[1]!.address], { timeoutMs: 10_000, trustRecentMs: 60_000 });
    try {
      let shown = 0;
      for (let round = 0; round < 5 && shown < 2; round++) {
        expect(await a.get('held:0')).toBe(`held:0:${'v'.repeat(90)}`);
        expect(await b.get('held:one')).toBe('the value');
        decoded = 0;
        const many = a.getMulti<string>(keys);
        let readAt = -1;
        const single = b.get<string>('held:one', { timeoutMs: 300 }).then((v) => { readAt = performance.now(); return v; }, (e: unknown) => e);
        // Both requests go out at the end of this tick; the replies are 100 and 150 ms away.
        let busyEnd = 0;
        let setUp = false;
        await new Promise<void>((resolve) => setTimeout(() => {
          setUp = decoded === 0 && readAt < 0;
          spin(600);
          busyEnd = performance.now();
          resolve();
        }, 2));
        expect((await many).size).toBe(keys.length);
        // Whatever happened, the get gets its value: its reply came well within its timeout.
        expect(await single, `round ${round}: the get's reply arrived in time`).toBe('the value');
        // The case above was shown when both replies were still unread at the busy stretch (a
        // machine too busy to reach it within 100 ms shows nothing, and the round does not count).
        if (setUp) {
          expect(readAt, 'the get was read after the busy stretch').toBeGreaterThan(busyEnd);
          shown++;
        }
      }
      expect(shown, 'rounds where both replies arrived during the busy stretch').toBeGreaterThan(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

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
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { defaultSerializer, type Serializer } from '../../src/client/values.js';
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
    const seed = new Client([servers[0]!.address]);
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

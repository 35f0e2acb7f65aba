/**
 * Issue 12, finding 7: `setMulti` and `deleteMulti` of 4,000 keys against a server 500 ms away with
 * `timeoutMs: 1500` settle within `timeoutMs` (plus the shared slack): the keys answered in time
 * carry their results, every other key rejects with `TimeoutError` inside the
 * `PartialFailureError`, and nothing more is sent after the deadline. Real memcached behind a delay proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, PartialFailureError, TimeoutError } from '../../src/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { useMemcached } from '../support/memcached.js';
import { clock, settlesWithin } from '../support/timing.js';
import { closeWithin, describeError, recordEvents } from '../failure/helpers.js';
import { tally } from './support.js';

const TIMEOUT = 1500;
const N = 4000;

describe('multi-key writes against a server 500 ms away', () => {
  const servers = useMemcached(1);
  let proxy: DelayProxy;
  beforeAll(async () => { proxy = await DelayProxy.start(servers[0]!, { replyDelayMs: 500 }); });
  afterAll(async () => { await proxy.close(); });

  /** Checks a settled multi-key write: results for answered keys, TimeoutError for the rest, all keys accounted for. */
  function expectPartial(out: Awaited<ReturnType<typeof settlesWithin<Map<string, boolean>>>>, keys: string[], answered: (v: boolean) => boolean): number {
    if (out.ok) {
      expect([...out.value.keys()].sort()).toEqual([...keys].sort());
      for (const v of out.value.values()) expect(answered(v)).toBe(true);
      return out.value.size;
    }
    expect(out.error, describeError(out.error)).toBeInstanceOf(PartialFailureError);
    const e = out.error as PartialFailureError<boolean>;
    const kinds = tally([...e.errors.values()].map((reason) => ({ status: 'rejected', reason }) as const));
    expect(Object.keys(kinds), `per-key errors ${JSON.stringify(kinds)}`).toEqual(['TimeoutError']);
    for (const err of e.errors.values()) expect(err).toBeInstanceOf(TimeoutError);
    for (const v of e.values.values()) expect(answered(v)).toBe(true);
    expect(e.values.size + e.errors.size, 'every key is either answered or a TimeoutError').toBe(keys.length);
    expect([...e.values.keys(), ...e.errors.keys()].sort()).toEqual([...keys].sort());
    return e.values.size;
  }

  it('setMulti and deleteMulti of 4,000 keys settle within timeoutMs; unanswered keys are TimeoutError inside PartialFailureError', async () => {
    // A server this far needs a validation timeout above two round trips (version, then mn), and
    // sockets proven once are trusted for the test's length so the call itself is what is timed.
    const client = new Client([proxy.address], { timeoutMs: TIMEOUT, validateTimeoutMs: 1200, trustRecentMs: 60_000 });
    try {
      const events = recordEvents(client);
      // Warm up: open and prove the pool's sockets (a few round trips of 500 ms) outside the timed calls.
      const warm = Array.from({ length: 256 }, (_, i) => [`multi:warm:${i}`, 'w'] as const);
      await client.setMulti(warm).catch(() => undefined); // its first keys wait out the proving
      expect([...(await client.setMulti(warm)).values()].every(Boolean), 'the warmed pool answers').toBe(true);
      const keys = Array.from({ length: N }, (_, i) => `multi:${i}`);
      const set = await settlesWithin(client.setMulti(keys.map((k) => [k, `v-${k}`] as const)), TIMEOUT, `setMulti of ${N} keys 500 ms away`);
      const stored = expectPartial(set, keys, (v) => v === true);

      // Nothing more is sent after the deadline: once a later call through the same 500 ms has been
      // answered, the server has seen every set it will ever see from that call.
      const setsAtSettle = Number((await servers[0]!.stats()).cmd_set);
      await client.get('multi:probe');
      expect(Number((await servers[0]!.stats()).cmd_set), 'sets written after setMulti settled').toBe(setsAtSettle);
      expect(setsAtSettle).toBeGreaterThanOrEqual(stored);

      const started = clock();
      const del = await settlesWithin(client.deleteMulti(keys), TIMEOUT, `deleteMulti of ${N} keys 500 ms away`, started);
      // DELETED (true) for keys the setMulti stored, NOT_FOUND (false) for keys it never wrote.
      expectPartial(del, keys, (v) => typeof v === 'boolean');
      expect(events.filter((e) => e.name === 'serverDown')).toEqual([]);
    } finally {
      await closeWithin(client, TIMEOUT + 3000);
    }
  });
});

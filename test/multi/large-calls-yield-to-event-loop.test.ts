/**
 * A large multi-key call gives the event loop back while it checks, routes and serializes its
 * items (README, Limits: "Keys are checked, routed and serialized in slices of about 4 ms of work
 * per event-loop turn"). The design (src/client/batch.ts, makeSlicer): every 256 items the clock is
 * read, and once 4 ms of work have passed since the last turn, the call yields one setImmediate.
 *
 * What is asserted is that behaviour: other callbacks (setImmediate) run during the call, again and
 * again, before it settles. How long the loop is held at most is a benchmark figure
 * (`npm run bench`), never a test bound: it depends on the machine and its load.
 */
import { describe, expect, it } from 'vitest';
import { Client, InvalidKeyError, InvalidValueError } from '../../src/index.js';
import { makeSlicer } from '../../src/client/batch.js';
import { defaultSerializer, type Serializer } from '../../src/client/values.js';

/** Busy-waits `ms` of wall-clock time: work the slicer must account for, whatever the machine. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/**
 * Runs `call()` while a self-renewing setImmediate ticker counts event-loop turns; returns how
 * many turns ran before the call settled, and how it settled.
 */
async function turnsDuring(call: () => Promise<unknown>): Promise<{ turns: number; error: unknown }> {
  let turns = 0;
  let settled = false;
  const tick = (): void => {
    if (settled) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  let error: unknown;
  try {
    await call();
  } catch (err) {
    error = err;
  }
  settled = true;
  return { turns, error };
}

describe('the slicer of multi-key calls (makeSlicer)', () => {
  it('yields at a 256-item boundary once 4 ms of work have passed, never between boundaries, and lets queued callbacks run first', async () => {
    const slice = makeSlicer();
    spin(6); // more than SLICE_MS of work
    for (let i = 1; i < 256; i++) expect(slice(i), `item ${i} is not a boundary`).toBeUndefined();
    let ran = false;
    setImmediate(() => { ran = true; });
    const pause = slice(256);
    expect(pause, 'a boundary after 4 ms of work yields').toBeInstanceOf(Promise);
    expect(ran).toBe(false);
    await pause;
    expect(ran, 'a callback queued before the yield ran before the work resumed').toBe(true);
  });

  it('yields at every boundary when each 256 items take more than 4 ms', async () => {
    const slice = makeSlicer();
    let yields = 0;
    for (let i = 1; i <= 256 * 5; i++) {
      spin(0.02); // 256 items: at least 5.12 ms
      const pause = slice(i);
      if (pause) {
        expect(i % 256, `yielded at item ${i}`).toBe(0);
        yields++;
        await pause;
      }
    }
    expect(yields).toBe(5);
  });
});

describe('large multi-key calls let the event loop turn before they settle', () => {
  // Nothing listens here: every call below is refused while its items are checked, so only that
  // synchronous-looking pass runs (no socket, no timer), and each loop turn seen comes from a yield.
  // The timeout is far off: a call whose time is up stops checking (TimeoutError), and a busy
  // machine must not turn these into that case.
  const nowhere = '127.0.0.1:1';

  it('setMulti serializing 2,561 items of >= 20 us each yields at each of its 10 boundaries', async () => {
    // A serializer that costs a known minimum per item, so every 256 items exceed the 4 ms slice
    // on any machine (a busy one only makes them longer).
    const slow: Serializer = {
      serialize: (v) => { spin(0.02); return defaultSerializer.serialize(v); },
      deserialize: defaultSerializer.deserialize,
    };
    const mc = new Client([nowhere], { timeoutMs: 60_000, serializer: slow });
    try {
      const entries: Array<[string, unknown]> = Array.from({ length: 2560 }, (_, i) => [`yield-set:${i}`, i]);
      entries.push(['yield-set:bad', undefined]); // refused at the end: nothing is written
      const r = await turnsDuring(() => mc.setMulti(entries));
      expect(r.error).toBeInstanceOf(InvalidValueError);
      // 10 boundaries (256 .. 2560) each yield once; the ticker sees at least one turn per yield but the last.
      expect(r.turns, `event-loop turns during the call: ${r.turns}`).toBeGreaterThanOrEqual(9);
    } finally {
      await mc.close();
    }
  });

  // 100,000 keys take tens of ms to check on any machine (300,000 held the loop 100+ ms before
  // deleteMulti was sliced): several 4 ms slices, so several yields.
  const keys = Array.from({ length: 100_000 }, (_, i) => `yield-multi:${i}`);
  keys.push('bad key'); // refused at the end: nothing is written

  for (const [name, call] of [
    ['getMulti', (mc: Client) => mc.getMulti(keys)],
    ['getMultiSettled', (mc: Client) => mc.getMultiSettled(keys)],
    ['gatMulti', (mc: Client) => mc.gatMulti(keys, 60)],
    // Was a bug (fixed; this guards it): deleteMulti checked every key in one synchronous pass.
    ['deleteMulti', (mc: Client) => mc.deleteMulti(keys)],
  ] as const) {
    it(`${name} of 100,001 keys lets the loop turn repeatedly while it checks them`, async () => {
      const mc = new Client([nowhere], { timeoutMs: 60_000 });
      try {
        const r = await turnsDuring(() => call(mc));
        console.log(`[multi] ${name} of ${keys.length} keys: ${r.turns} event-loop turns before it settled`);
        expect(r.error).toBeInstanceOf(InvalidKeyError);
        expect(r.turns, `event-loop turns during ${name}: ${r.turns}`).toBeGreaterThanOrEqual(2);
      } finally {
        await mc.close();
      }
    });
  }
});

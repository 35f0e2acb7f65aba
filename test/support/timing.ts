/**
 * The one place a test may check a duration. Tests assert behaviour, never speed: a bound in a test
 * is a product promise ("settles within timeoutMs"), and a busy machine (CI shares two cores with
 * the servers under test) must not turn a kept promise into a red test. So every bound gets the same
 * stated slack on top of the promise: a hang still fails, a slow scheduler does not.
 *
 * Throughput, latency and event-loop stalls are measured by `npm run bench`, not here.
 */
import { expect } from 'vitest';
import { performance } from 'node:perf_hooks';

/** Room for a busy machine on top of any promised duration (ms). Override with MEMCLUSTER_TEST_SLACK_MS. */
export const SLACK_MS = Number(process.env.MEMCLUSTER_TEST_SLACK_MS ?? 1000);

/** Monotonic ms, for measuring an elapsed time to pass to `expectWithinPromise`. */
export const clock = (): number => performance.now();

/**
 * Asserts that `elapsedMs` kept a promise of `promisedMs` (plus `SLACK_MS`). `what` names the promise
 * in the failure message, e.g. 'get against a stopped server settles within timeoutMs'.
 */
export function expectWithinPromise(elapsedMs: number, promisedMs: number, what: string): void {
  const bound = promisedMs + SLACK_MS;
  expect(elapsedMs, `${what}: took ${Math.round(elapsedMs)} ms, promised ${promisedMs} ms (+${SLACK_MS} ms slack)`).toBeLessThanOrEqual(bound);
}

/** The outcome of a promise plus how long it took to settle. */
export type Timed<T> = { elapsedMs: number } & ({ ok: true; value: T } | { ok: false; error: unknown });

/**
 * Awaits `p` (never rejects), and asserts it settled within `promisedMs` plus `SLACK_MS`.
 * `startedAt` defaults to now; pass the time the call was made when `p` was created earlier.
 */
export async function settlesWithin<T>(p: Promise<T>, promisedMs: number, what: string, startedAt = clock()): Promise<Timed<T>> {
  let out: Timed<T>;
  try {
    const value = await p;
    out = { ok: true, value, elapsedMs: clock() - startedAt };
  } catch (error) {
    out = { ok: false, error, elapsedMs: clock() - startedAt };
  }
  expectWithinPromise(out.elapsedMs, promisedMs, what);
  return out;
}

/**
 * Waits for `cond()` to become true, checking every `everyMs`, for at most `promisedMs` plus
 * `SLACK_MS`; fails with `what` if it never does. Use it instead of a fixed sleep when the test
 * waits for an event it cannot subscribe to.
 */
export async function eventually(cond: () => boolean | Promise<boolean>, promisedMs: number, what: string, everyMs = 10): Promise<void> {
  const until = clock() + promisedMs + SLACK_MS;
  for (;;) {
    if (await cond()) return;
    if (clock() > until) throw new Error(`${what}: not true within ${promisedMs} ms (+${SLACK_MS} ms slack)`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

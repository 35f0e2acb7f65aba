/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * A server that passes every probe (answers `version` and `mn`) but never answers a real command:
 * a memcached whose worker threads are wedged but whose probes land on a good one, a proxy whose
 * backend hangs. Each time it is marked down, a probe brings it back after one first retry delay
 * (ServerHealth.markDown resets probeAttempt to 0), traffic goes back, every call waits out its
 * timeout, it is marked down again, and so on forever at the same rate: the backoff that
 * `retryDelayMs`/`maxRetryDelayMs` promise never grows, although no real command has been answered
 * since the first serverDown. The probe delay should keep growing across consecutive down periods
 * until a real reply proves the server (recordSuccess), so a half-broken server is not hammered and
 * its callers do not spend failureThreshold x timeoutMs every ~retryDelayMs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { Fake } from '../support/fake-memcached.js';
import { now, recordEvents, settle, sleep } from './helpers.js';

const RETRY = 200;

describe('a server that answers probes but no command', () => {
  let fake: Fake;
  beforeAll(async () => {
    fake = await Fake.start();
    // Validation requests are answered (Fake's defaults); reads are swallowed.
    fake.onLine = (line) => line.startsWith('get ') || line.startsWith('mg ');
  });
  afterAll(async () => { await fake?.close(); });

  it('is probed back with a growing delay: consecutive down periods without any answered command back off', async () => {
    const mc = new Client([fake.address], {
      timeoutMs: 300, connectTimeoutMs: 300, validateTimeoutMs: 250, failureThreshold: 1, retryDelayMs: RETRY, maxRetryDelayMs: 10_000,
    });
    const events = recordEvents(mc);
    try {
      const ups = (): number[] => events.filter((e) => e.name === 'serverUp').map((e) => (e.payload as { downForMs: number }).downForMs);
      const started = now();
      // Steady traffic until the fourth time it comes back (bounded: with backoff 100-200, 200-400,
      // 400-800, 800-1600 ms plus four 300 ms stalls this takes about 4 s).
      while (ups().length < 4 && now() - started < 15_000) {
        await settle(mc.get('k'), 300);
        await sleep(10);
      }
      const downs = ups();
      expect(downs.length, 'serverUp events seen').toBeGreaterThanOrEqual(4);
      // No command was ever answered, so the fourth down period follows three failed rounds: with the
      // documented doubling and equal jitter it lasts at least RETRY * 2^3 / 2 ms.
      expect(downs.map((d) => Math.round(d)), 'downForMs of consecutive serverUp events').toSatisfy(
        (d: number[]) => d[3]! >= (RETRY * 2 ** 3) / 2,
      );
    } finally {
      await mc.close();
    }
  }, 30_000);
});

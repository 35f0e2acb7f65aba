/**
 * (Found in review of this session's own changes; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * Review 9, item 1 (connection.ts `stallAt`). README, failure table: a server that "accepts but
 * never answers (stopped process ...)": "in-flight requests hit their deadline and the socket is
 * destroyed; marked down after failureThreshold", "then ServerUnavailableError at once". And
 * "When a server counts as failed ... stalls: a socket with requests outstanding that received no
 * byte for timeoutMs".
 *
 * Scenario: a proven socket, the server is then frozen (SIGSTOP). One call with its own long
 * timeoutMs (the README's own advice for a large call) is the oldest request on the socket. Every
 * later call with the client's bound pipelines behind it and times out alone (not counted). The
 * socket is not judged stalled until the long call's budget: the server stays `up` that long, and
 * nothing fails fast.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Client, ServerUnavailableError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { describeError, settle, sleep } from './helpers.js';

describe('a frozen server while one long per-call-timeout request heads the socket', () => {
  const servers = useMemcached(1);
  afterAll(() => { servers[0]?.thaw(); });

  it('is still marked down within a few client timeouts (calls then fail fast with ServerUnavailableError)', async () => {
    const s = servers[0]!;
    const mc = new Client([s.address], { timeoutMs: 400, connectTimeoutMs: 300, validateTimeoutMs: 250, failureThreshold: 2, retryDelayMs: 5000, maxRetryDelayMs: 5000 });
    try {
      await mc.set('r9:k', 'v');
      expect(await mc.get('r9:k')).toBe('v');
      await s.freeze();
      // A large call given its own bound (README: "Give a large call its own { timeoutMs }").
      const long = mc.get('r9:k', { timeoutMs: 60_000 });
      long.catch(() => {});
      await sleep(20);
      const outcomes: string[] = [];
      const t0 = performance.now();
      // 12 client-bound calls in a row: ~5 s of a server that never answers a byte.
      for (let i = 0; i < 12; i++) {
        const o = await settle(mc.get('r9:k'), 400, `get ${i}`);
        outcomes.push(o.ok ? `ok ${String(o.value)}` : (o.error as Error).constructor.name);
      }
      const elapsed = performance.now() - t0;
      const state = mc.serverStats()[0]!.state;
      expect({ state, last: outcomes.at(-1) }, `after ${elapsed.toFixed(0)} ms of silence: ${outcomes.join(', ')}`)
        .toEqual({ state: 'down', last: ServerUnavailableError.name });
    } finally {
      s.thaw();
      await mc.close().catch((e: unknown) => describeError(e));
    }
  }, 30_000);
});

/**
 * The connection's deadline timer follows the earliest pending deadline: a borrow-time validation
 * (validateTimeoutMs) fails on time even when the socket still has a timer armed for an earlier
 * command's longer deadline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, ServerUnavailableError, ValidationFailedError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { expectWithinPromise } from '../support/timing.js';
import { settle, waitFor } from './helpers.js';

describe('connection deadline timer with mixed deadlines', () => {
  const servers = useMemcached(1);
  let mc: Client | undefined;
  afterEach(async () => {
    servers[0]!.thaw();
    await mc?.close();
  });

  // Was a bug (fixed; this test guards it): src/connection/connection.ts:193 (`if (this.timer === undefined) this.armTimer(deadline)`)
  // with connection.ts:273-274 (the timer deliberately stays armed after the queue empties). A
  // socket kept borrowed by back-to-back sets had its timer armed at (last set + timeoutMs); it went
  // back to the pool with that timer armed, and the next borrow's `mn` (deadline now + 100) was not
  // checked until the set's old deadline: against a frozen server the validation failed after
  // ~timeoutMs instead of 100 ms (measured with timeoutMs 1500: the get settled after 1370 ms). With timeoutMs >>
  // validateTimeoutMs the caller just gets a TimeoutError and the server is not marked down in
  // time. Same with `auth`: a new socket's validation inherits the auth deadline (connectTimeoutMs).
  // Fix: remember when the armed timer is due and re-arm in send() when `deadline` is earlier.
  it('fails the borrow-time validation within validateTimeoutMs, not at an older command deadline', async () => {
    const s = servers[0]!;
    mc = new Client([s.address], { timeoutMs: 3000, validateTimeoutMs: 100, failureThreshold: 1, retryDelayMs: 5000, coalesce: false });
    // Back-to-back requests keep one socket borrowed past its creation-time validation's deadline,
    // so a command re-arms the socket's timer at (its send time + 3000).
    const start = performance.now();
    while (performance.now() - start < 200) await mc.set('k', 'v');
    // The socket goes back to the pool (50 ms linger), with a timer that may still be armed for ~3 s.
    await waitFor(() => mc!.serverStats()[0]!.free === 1, 1000, 'the socket back in the pool');
    expect(mc.serverStats()[0]).toMatchObject({ size: 1, free: 1 });
    await s.freeze();
    const o = await settle(mc.get('k'), 5000, 'get');
    // Expected: validation fails at ~100 ms, failureThreshold 1 marks the server down, the queued
    // get is rejected with ServerUnavailableError (cause: ValidationFailedError), long before the
    // set's old deadline (~3 s).
    expect(o.ok).toBe(false);
    expect(o.error).toBeInstanceOf(ServerUnavailableError);
    expect((o.error as Error).cause).toBeInstanceOf(ValidationFailedError);
    expectWithinPromise(o.ms, 100, 'the borrow-time validation fails within validateTimeoutMs');
  });
});

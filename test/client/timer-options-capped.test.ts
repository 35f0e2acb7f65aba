/**
 * Millisecond options are capped at what Node timers can wait (2^31-1 ms): a larger timeoutMs is
 * refused up front (or honoured), never turned into a 1 ms timer.
 */
import { describe, expect, it } from 'vitest';
import { Client, InvalidOptionError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { settle } from '../failure/helpers.js';

describe('timer-sized options', () => {
  const servers = useMemcached(1);

  // Was a bug (fixed; this test guards it): src/client/options.ts:84-100 accepts any safe integer for timeoutMs (and connectTimeoutMs,
  // validateTimeoutMs, retryDelayMs, maxRetryDelayMs, idleTimeoutMs). timeoutMs becomes
  // generic-pool's acquireTimeoutMillis (src/cluster/cluster.ts:112), whose setTimeout overflows
  // and fires after 1 ms: every call that needs a new socket fails at once with
  // "TimeoutError: no usable socket within 2147483648 ms". (The connection/queue timers re-arm
  // every 1 ms instead, and emit a warning each time.)
  // Fix: cap these options at 2^31-1 (throw InvalidOptionError above it), or clamp every timer.
  it('either refuses timeoutMs >= 2^31 up front or honours it', async () => {
    let mc: Client | undefined;
    const warn = process.listeners('warning');
    process.removeAllListeners('warning');
    process.on('warning', () => {});
    try {
      try {
        mc = new Client([servers[0]!.address], { timeoutMs: 2 ** 31 });
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidOptionError);
        return;
      }
      const o = await settle(mc.set('k', 'v'), 3000, 'set');
      expect(o.error === undefined ? 'ok' : String(o.error)).toBe('ok');
    } finally {
      await mc?.close();
      process.removeAllListeners('warning');
      for (const l of warn) process.on('warning', l);
    }
  });
});

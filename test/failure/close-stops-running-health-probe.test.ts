/**
 * close() stops a health probe that is still opening its socket (connect + auth): no probe socket
 * outlives close().
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { BlackHole } from '../support/black-hole.js';
import { settle, sleep, waitFor } from './helpers.js';

describe('health probe vs close()', () => {
  let hole: BlackHole | undefined;
  afterEach(async () => { await hole?.close(); });

  // Was a bug (fixed; this test guards it): src/cluster/health.ts:82-87 + 99-104. close() destroys `this.probing`, but `probing` is
  // only set after Connection.open() resolved; while the probe is inside open() (TCP/TLS connect,
  // and with `auth` the credentials round trip, bounded by connectTimeoutMs) close() neither sees nor
  // cancels it, and close() resolves with the probe's socket still open (and, during a TLS
  // handshake or connect, its ref'd connect timer still armed).
  // Fix: track the probe's open promise (or an AbortSignal passed to Connection.open) and make
  // close() abort it / destroy the socket as soon as open() settles, and have close() await the
  // running probe.
  it('leaves no probe socket open once close() has resolved', async () => {
    hole = await BlackHole.start();
    const mc = new Client([hole.address], {
      timeoutMs: 200, connectTimeoutMs: 400, failureThreshold: 1, retryDelayMs: 20, maxRetryDelayMs: 40,
      auth: { username: 'u', password: 'p' },
    });
    const down = new Promise((resolve) => mc.once('serverDown', resolve));
    const o = await settle(mc.get('k'), 2000, 'get');
    expect(o.ok).toBe(false);
    await down; // the create's auth timed out (400 ms): marked down, probe in 10-20 ms
    await waitFor(() => hole!.connections >= 2, 1000, 'the probe to connect');
    await mc.close(); // the probe is waiting for its auth reply inside Connection.open()
    // The hole (in this process) sees a destroyed socket's FIN at its next loop turn; a short grace,
    // shorter than the probe's own connect timeout, which would also end a leaked socket.
    await sleep(50);
    expect(hole.openConnections).toBe(0);
  });
});

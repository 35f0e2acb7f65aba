/**
 * Shows: a call waiting for a socket settles by its own per-call `timeoutMs`, wherever it waits in
 * the server's queue. Calls with short timeouts queued behind and between calls with long ones
 * each reject with `TimeoutError` naming the server within their own timeout (not when the head's
 * deadline passes, nor when a socket frees), and the long calls queued around them are untouched:
 * they are written once the socket frees, and succeed.
 *
 * Found in review: the queue armed its one timer for the head's deadline only and expired from the
 * head only, so a 200 ms call queued behind a 5 s one settled after 3 s (when the socket freed).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, TimeoutError } from '../../src/index.js';
import { Fake } from '../support/fake-memcached.js';
import { describeError, settle } from '../failure/helpers.js';
import { expectWithinPromise } from '../support/timing.js';

describe('a queued call with a short timeoutMs behind calls with longer ones', () => {
  let fake: Fake | undefined;
  let mc: Client | undefined;
  afterEach(async () => {
    await mc?.close().catch(() => {});
    await fake?.close();
  });

  it('rejects each short call by its own deadline; the long calls around them succeed once the socket frees', async () => {
    fake = await Fake.start();
    // `get slow` is answered 3 s late; everything else at once. The server is healthy.
    fake.onLine = (line: string, sock: net.Socket) => {
      if (line === 'get slow') {
        setTimeout(() => sock.write('END\r\n'), 3000);
        return true;
      }
      if (line.startsWith('delete ')) {
        sock.write('NOT_FOUND\r\n');
        return true;
      }
      return false;
    };
    mc = new Client([fake.address], { timeoutMs: 6000, maxConnections: 1, maxPipeline: 1, protocol: 'text' });
    expect(await mc.get('warm')).toBeUndefined(); // one socket, borrowed and lingering

    const slow = mc.get('slow', { timeoutMs: 6000 }); // occupies the only socket for 3 s
    // The queue, head first: long, short (200 ms), long, shorter-than-the-head (400 ms).
    const head = mc.delete('head', { timeoutMs: 5000 });
    const short = mc.delete('short', { timeoutMs: 200 });
    const middle = mc.delete('middle', { timeoutMs: 5000 });
    const tail = mc.delete('tail', { timeoutMs: 400 });
    expect(mc.serverStats()[0]!.queued, 'four calls wait for the one socket').toBe(4);

    const [s, t] = await Promise.all([settle(short, 5000, 'short call'), settle(tail, 5000, 'tail call')]);
    for (const [o, ms, what] of [[s, 200, 'a queued call with timeoutMs 200'], [t, 400, 'a queued call with timeoutMs 400']] as const) {
      expect(o.ok, what).toBe(false);
      expect(o.error, describeError(o.error)).toBeInstanceOf(TimeoutError);
      expect((o.error as TimeoutError).server).toBe(fake.address);
      expectWithinPromise(o.ms, ms, what);
    }
    expect(mc.serverStats()[0]!.queued, 'the long calls still wait').toBe(2);

    const rest = await Promise.all([settle(slow, 6000, 'slow get'), settle(head, 6000, 'head'), settle(middle, 6000, 'middle')]);
    expect(rest.map((o) => (o.ok ? o.value : describeError(o.error)))).toEqual([undefined, false, false]);
  }, 20_000);
});

/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * A getMulti whose whole-call deadline (`timeout`) passes on the CLIENT's side, before some of its
 * batches were even written, fails those keys with a `TimeoutError` that carries the server's name
 * (src/client/batch.ts `submit`: `callTimeout(node.server)`), and compat's getMulti hands every
 * batch error to `state.failed(server, err)`, which counts a `TimeoutError` as a failure OF THE
 * SERVER (src/compat/errors.ts `isServerFailure`). So a healthy server that never received those
 * keys gets an `issue` event and is refused ("Server at ... not available") for `retry` ms: one
 * slow turn of the application's own event loop during a large getMulti takes servers out of
 * service. 2.2.2 had no request timeout at all, so nothing like this could mark a server failed;
 * the compat docs count a request timeout as a server failure because the server did not answer
 * in time, which is not the case here.
 *
 * Determinism: 120,000 keys cannot be checked in one 4 ms slice, so getMulti yields to the event
 * loop at least once; a task queued right behind it then blocks the loop for 900 ms, three times
 * `timeout`, so the deadline has passed when the remaining keys are batched. Nothing here depends
 * on how fast the machine is beyond that.
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { call } from './helpers.js';

function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* the application's own synchronous work */ }
}

describe('a getMulti that runs out of time on the client side', () => {
  const servers = useMemcached(1);

  it('does not mark the (healthy, never asked) server failed', async () => {
    const mc = new Memcached(servers[0]!.address, { timeout: 300, retry: 60_000, failures: 5 }) as any;
    const events: string[] = [];
    for (const e of ['issue', 'failure', 'remove']) mc.on(e, () => events.push(e));
    try {
      expect((await call(mc, 'set', ['present', 'yes', 0])).data).toBe(true);
      const keys = Array.from({ length: 120_000 }, (_, i) => `many:${i}`);
      const multi = call(mc, 'getMulti', [keys], 20_000);
      setImmediate(() => blockFor(900));
      const r = await multi;
      // Keys not answered in time may fail: the call is bounded by `timeout` (documented).
      expect(Array.isArray(r.err)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));

      // But the server did nothing wrong: it stays in service.
      expect(events).toEqual([]);
      expect(mc.issues[servers[0]!.address]?.failed ?? false).toBe(false);
      const after = await call(mc, 'get', ['present']);
      expect([after.err?.message, after.data]).toEqual([undefined, 'yes']);
    } finally {
      mc.end();
    }
  });
});

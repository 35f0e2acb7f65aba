/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * `reconnect` after `end()`. A client whose server died (remove: false, so it is retried every
 * `reconnect` ms) is ended, as apps do between jobs or Lambda invocations, and used again later.
 * Meanwhile the server came back. 2.2.2's reconnect attempt does not depend on the client's
 * sockets (it pinged the host), so the server is back after `reconnect` ms and the reused client
 * reaches it. compat's attempt is a request on the client's current sockets: with none after
 * `end()`, every attempt fails (a `reconnecting` event each) and the server stays "not available",
 * also for the first calls after the client is used again.
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { call, sleep } from './helpers.js';

describe('a dead server that comes back while the client is ended', () => {
  const servers = useMemcached(1);

  it('is seen back by the reconnect attempts, and the reused client reaches it', async () => {
    const s = servers[0]!;
    const mc = new Memcached(s.address, { retries: 0, timeout: 1000, retry: 50, failures: 0, reconnect: 200 }) as any;
    const events: string[] = [];
    for (const e of ['issue', 'reconnecting', 'reconnect', 'remove', 'failure']) mc.on(e, () => events.push(e));
    try {
      expect((await call(mc, 'set', ['back', 'v', 0])).data).toBe(true);
      await s.kill();
      const down = await call(mc, 'get', ['back'], 5000);
      expect(String(down.err)).toBe(`Error: connect ECONNREFUSED ${s.address}`);
      expect(mc.issues[s.address]).toMatchObject({ failed: true, isScheduledToReconnect: true });
      mc.end();
      await s.restart();
      await sleep(2000); // ten `reconnect` intervals with the server up
      const attempts = events.filter((e) => e === 'reconnecting').length;
      expect(attempts).toBeGreaterThan(0);
      expect(events, 'a reconnect attempt with the server up succeeds').toContain('reconnect');
      expect(mc.issues[s.address].failed).toBe(false);
      const reused = await call(mc, 'set', ['back', 'again', 0], 5000);
      expect([reused.err && String(reused.err), reused.data]).toEqual([undefined, true]);
    } finally {
      mc.end();
      if (!s.isRunning) await s.restart();
    }
  });
});

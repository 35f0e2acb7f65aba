/**
 * Shows: only replies to real commands reset a server's consecutive-failure count; the pool's
 * borrow-time validation reply (`version`/`mn`) does not. A server whose sockets answer the light
 * validation request but never a command (a proxy in front of a dead backend) is marked down after
 * exactly `failureThreshold` consecutive unanswered calls, even when every call borrows a pooled
 * socket that first answers its validation.
 *
 * Found in review: a socket went back to the pool still carrying the server's reply hook, so its
 * borrow-time validation reply counted as a success and wiped the count; with four pooled sockets
 * the server survived many more failed calls than the threshold.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { Fake } from '../support/fake-memcached.js';
import { recordEvents, settle, waitFor } from './helpers.js';

describe('health: borrow-time validation of a pooled socket', () => {
  let fake: Fake | undefined;
  let mc: Client | undefined;
  afterEach(async () => {
    await mc?.close().catch(() => {});
    await fake?.close();
  });

  it('does not reset the consecutive-failure count of a server whose commands go unanswered', async () => {
    fake = await Fake.start();
    let backendDead = false;
    // version/mn always answered (the proxy itself); `get` answered only while the backend lives.
    fake.onLine = (line: string, sock: net.Socket) => {
      if (!line.startsWith('get ')) return false;
      if (!backendDead) setTimeout(() => sock.write('END\r\n'), 50); // slow enough to need four sockets
      return true;
    };
    mc = new Client([fake.address], {
      // Connect and validation bounds with room for a busy machine: the fake answers validation at
      // once, and what is under test is the failure count, not these bounds.
      timeoutMs: 300, connectTimeoutMs: 2000, validateTimeoutMs: 2000, failureThreshold: 3,
      retryDelayMs: 10_000, maxRetryDelayMs: 10_000, maxConnections: 4, maxPipeline: 1, protocol: 'text', coalesce: false,
    });
    const events = recordEvents(mc);
    // Four sockets carried real traffic and went back to the pool.
    const warm = { timeoutMs: 5000 }; // setup: its own time
    await Promise.all([mc.get('w1', warm), mc.get('w2', warm), mc.get('w3', warm), mc.get('w4', warm)]);
    await waitFor(() => mc!.serverStats()[0]!.free === 4, 2000, 'four sockets back in the pool');
    const validationsBefore = mc.serverStats()[0]!.validations;

    backendDead = true;
    const failuresAfterEach: number[] = [];
    let calls = 0;
    for (; calls < 8 && !events.some((e) => e.name === 'serverDown'); calls++) {
      const evictedBefore = mc.serverStats()[0]!.evicted;
      const o = await settle(mc.get(`dead${calls}`), 300);
      expect(o.ok).toBe(false);
      // The silent socket is dropped (stall) and counted in the same step: wait for the drop, not
      // for the count, so a count that a validation reset still shows in the assertion below.
      await waitFor(() => mc!.serverStats()[0]!.evicted > evictedBefore || mc!.serverStats()[0]!.state === 'down', 2000, `the socket of dead${calls} dropped`);
      failuresAfterEach.push(mc.serverStats()[0]!.failures);
    }
    expect(mc.serverStats()[0]!.validations - validationsBefore, 'the calls borrowed pooled sockets, each validated').toBeGreaterThanOrEqual(2);
    expect(
      { calls, failuresAfterEach, down: events.some((e) => e.name === 'serverDown') },
      'marked down after failureThreshold (3) consecutive unanswered calls',
    ).toEqual({ calls: 3, failuresAfterEach: [1, 2, 3], down: true });
  }, 20_000);
});

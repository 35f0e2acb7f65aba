/**
 * A server (or proxy) that answers the validation request but never a real command is marked down
 * after failureThreshold command timeouts: a passed validation does not reset the streak.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, ServerUnavailableError, TimeoutError } from '../../src/index.js';
import { settle } from './helpers.js';
import { Fake } from '../support/fake-memcached.js';

// The fake speaks the classic text protocol only (it answers ERROR to meta commands).
describe('health: command timeouts between validations', () => {
  let fake: Fake | undefined;
  let mc: Client | undefined;
  afterEach(async () => {
    await mc?.close();
    await fake?.close();
  });

  // Was a bug (fixed; this test guards it): src/cluster/server-node.ts:83-86 (onConnected -> health.recordSuccess) and :214-216
  // (acquire success -> health.recordSuccess) treat a passed `mn`/`version` as a success of the
  // server, so "consecutive failures" never reach failureThreshold when every failure is a command
  // timeout: each timeout destroys the socket (failures = 1), the replacement socket validates and
  // resets failures to 0. A proxy answering `version` itself (mcrouter/twemproxy with a dead
  // backend) or a server whose workers hang keeps costing every caller the full timeoutMs, forever.
  // Fix: only a reply to a real command (afterReply) should reset the command-failure count; keep
  // validation successes from clearing failures that were command timeouts (e.g. separate counters).
  it('marks a server down after failureThreshold consecutive command timeouts', async () => {
    fake = await Fake.start();
    fake.onLine = (line) => line.startsWith('get '); // swallow every get: never answered
    mc = new Client([fake.address], { timeoutMs: 150, failureThreshold: 2, retryDelayMs: 5000, coalesce: false, protocol: 'text' });
    let down = 0;
    mc.on('serverDown', () => down++);
    const errors: string[] = [];
    // Until marked down (a first connect slower than timeoutMs on a busy machine costs a call more).
    for (let i = 0; i < 10 && down === 0; i++) {
      const o = await settle(mc.get('k'), 2000, 'get');
      errors.push(o.error instanceof TimeoutError ? 'timeout' : String(o.error));
    }
    // Once down, the next call is refused at once.
    const next = await settle(mc.get('k'), 2000, 'get after down');
    expect(next.error, 'the call after down').toBeInstanceOf(ServerUnavailableError);
    expect(next.atOnce, `the call after down settles at once (${next.ms.toFixed(1)} ms)`).toBe(true);
    errors.push(next.error instanceof TimeoutError ? 'timeout' : String(next.error));
    // Each socket that stalls (no reply for timeoutMs after a request was written) counts once; the
    // call itself times out at its own deadline, a moment before its socket's stall is declared, so a
    // call issued in between rides the doomed socket and times out too. After the second stall the
    // server is down and later calls get ServerUnavailableError at once (how many calls rode a doomed
    // socket depends on scheduling; that the streak ends in `down` does not).
    const timeouts = errors.filter((e) => e === 'timeout').length;
    expect(down).toBe(1);
    expect(timeouts).toBeGreaterThanOrEqual(2);
    expect(errors.slice(timeouts).every((e) => e.includes('ServerUnavailableError'))).toBe(true);
    expect(errors[errors.length - 1]).toContain('ServerUnavailableError');
  });
});

/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * A call's own `{ timeoutMs }` "replaces the client's bound for that call" (README, Per call), and
 * "Give a large call its own { timeoutMs }". A client tuned for fast reads (timeoutMs 200) that
 * gives one call 4 s, against a healthy memcached whose replies take 600 ms to arrive (a far link,
 * shown with the delay proxy), must get that call's value, not a TimeoutError at 200 ms; and such
 * calls must not evict sockets or mark the server down ("a slow server: late calls time out alone;
 * serverDown only if it stops answering").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { describeError, recordEvents, settle } from './helpers.js';

const CLIENT_TIMEOUT = 200;
const CALL_TIMEOUT = 4000;
const REPLY_DELAY = 600;

describe('a call with its own timeoutMs longer than the client timeoutMs, on a server slower than the client timeoutMs', () => {
  const servers = useMemcached(1);
  let proxy: DelayProxy;
  beforeAll(async () => { proxy = await DelayProxy.start(servers[0]!, { replyDelayMs: REPLY_DELAY }); });
  afterAll(async () => { await proxy?.close(); });

  it('a socket proven while the link was fast: the call gets its value within its own timeout; no socket evicted', async () => {
    expect(await servers[0]!.command('set slow:p 0 0 6\r\nproven\r\n')).toBe('STORED\r\n');
    await proxy.setDelays({ replyDelayMs: 0 });
    // trustRecentMs: the socket proven below is lent again without a new validation request, so
    // only the call itself meets the slow link.
    const mc = new Client([proxy.address], { timeoutMs: CLIENT_TIMEOUT, trustRecentMs: 60_000, failureThreshold: 3 });
    const events = recordEvents(mc);
    try {
      expect(await mc.get('slow:p', { timeoutMs: 5000 })).toBe('proven'); // warm-up on a cold client: its own time
      await proxy.setDelays({ replyDelayMs: REPLY_DELAY });
      const o = await settle(mc.get('slow:p', { timeoutMs: CALL_TIMEOUT }), CALL_TIMEOUT, 'get with its own timeoutMs');
      expect(o.ok ? o.value : describeError(o.error)).toBe('proven');
      expect(events.map((e) => `${e.name}: ${describeError((e.payload as { reason?: unknown }).reason)}`)).toEqual([]);
    } finally {
      await mc.close();
      await proxy.setDelays({ replyDelayMs: REPLY_DELAY });
    }
  });

  it('a new socket (validateTimeoutMs 3000 > the link) and three calls: each gets its value; no socket evicted, the server never marked down', async () => {
    expect(await servers[0]!.command('set slow:k 0 0 5\r\nhello\r\n')).toBe('STORED\r\n');
    // Connect and validation bounds that fit the link: only the per-call timeout is under test.
    const mc = new Client([proxy.address], {
      timeoutMs: CLIENT_TIMEOUT, connectTimeoutMs: 2000, validateTimeoutMs: 3000, failureThreshold: 3, retryDelayMs: 50, maxRetryDelayMs: 500,
    });
    const events = recordEvents(mc);
    try {
      const outcomes = [];
      for (let i = 0; i < 3; i++) {
        const o = await settle(mc.get('slow:k', { timeoutMs: CALL_TIMEOUT }), CALL_TIMEOUT, `get ${i} with its own timeoutMs`);
        outcomes.push(o.ok ? o.value : describeError(o.error));
      }
      expect(outcomes).toEqual(['hello', 'hello', 'hello']);
      expect(events.map((e) => `${e.name}: ${describeError((e.payload as { reason?: unknown }).reason)}`)).toEqual([]);
      expect(mc.serverStats()[0]!.state).toBe('up');
    } finally {
      await mc.close();
    }
  });
});

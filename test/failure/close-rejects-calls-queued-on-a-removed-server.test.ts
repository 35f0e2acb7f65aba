/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * close() "refuses new calls, lets in-flight ones settle, closes every socket and timer": calls
 * still waiting for a socket are rejected at once with ClientClosedError (src/cluster/server-node.ts
 * close -> queue.close). Not so for a server that was just removed (removeServer) and is draining:
 * Cluster#close only awaits its retirement, so calls queued there keep waiting for a socket from a
 * server that never answers, until their own deadline, and close() waits with them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { BlackHole } from '../support/black-hole.js';
import { Ring } from '../../src/cluster/ring.js';
import { describeError, FAST, keys, settle, sleep } from './helpers.js';

const CALL_TIMEOUT = 4000;

describe('close() while a removed server still has calls waiting for a socket', () => {
  const servers = useMemcached(1);
  let hole: BlackHole;
  beforeAll(async () => { hole = await BlackHole.start(); });
  afterAll(async () => { await hole?.close(); });

  for (const removed of [false, true]) {
    it(`calls queued on the ${removed ? 'removed' : 'in-ring'} black hole reject with ClientClosedError when close() is called`, async () => {
      // failureThreshold high: the hole is not marked down meanwhile (that would reject them too).
      const mc = new Client([servers[0]!.address, hole.address], { ...FAST, failureThreshold: 1000 });
      // Routed as the client routes them (the ring of the same list), without writing to the hole.
      const ring = new Ring([servers[0]!.address, hole.address]);
      const holeKeys = keys(`cq${removed}`, 60).filter((k) => ring.get(k) === hole.address);
      expect(holeKeys.length).toBeGreaterThan(3);
      const calls = holeKeys.map((k) => settle(mc.get(k, { timeoutMs: CALL_TIMEOUT }), CALL_TIMEOUT, `get ${k}`));
      await sleep(50); // they wait for a socket the hole never proves
      const removal = removed ? settle(mc.removeServer(hole.address), CALL_TIMEOUT) : undefined;
      await sleep(50);
      const closing = settle(mc.close(), CALL_TIMEOUT, 'close()');
      const [outcomes, closed] = await Promise.all([Promise.all(calls), closing]);
      const seen = [...new Set(outcomes.map((o) => (o.ok ? 'resolved' : `${(o.error as Error).name}(${(o.error as { code?: string }).code})`)))];
      expect(seen, `first outcome: ${outcomes[0]!.ok ? 'resolved' : describeError(outcomes[0]!.error)} after ${Math.round(outcomes[0]!.ms)} ms; close() took ${Math.round(closed.ms)} ms`)
        .toEqual(['ClientClosedError(MC_ERR_CLOSED)']);
      expect(closed.ok).toBe(true);
      if (removal) expect((await removal).ok).toBe(true);
    });
  }
});

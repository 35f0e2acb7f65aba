/**
 * Scenario 3: one "server" accepts connections and never answers (a wedged host behind a live
 * kernel), beside a real memcached. Nothing may hang, the real server's keys are served, and the
 * black hole must never receive anything but the validation request: a socket that has not
 * answered `mn`/`version` is never given a command.
 */
import { describe, expect, it } from 'vitest';
import { MemclusterError, ServerUnavailableError, TimeoutError } from '../../src/index.js';
import { BlackHole } from '../support/black-hole.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { describeError, expectWithin, FAST, keys, recordEvents, settle, sleep, useClients, waitFor } from './helpers.js';

const TIMEOUT = FAST.timeoutMs!;

describe('a black-hole server beside a real one', () => {
  const servers = useMemcached(1);
  let hole: BlackHole | undefined;
  const newClient = useClients({ after: () => hole?.close() });

  for (const validation of ['auto', 'mn'] as const) {
    it(`(validation: ${validation}) settles every request in time, serves the real server, writes only the validation request to the hole`, async () => {
      hole = await BlackHole.start();
      const real = servers[0] as MemcachedServer;
      const client = newClient([hole.address, real.address], { ...FAST, validation });
      const events = recordEvents(client);
      // Which keys go where, from the errors themselves: every key either works (real) or names the hole.
      const ks = keys(`hole-${validation}`, 40);
      const results = await Promise.all(ks.map((k, i) => settle(i % 2 ? client.get(k) : client.set(k, `v-${k}`), TIMEOUT + 2000, `first ${k}`)));
      // Then a while of mixed traffic, sequential and concurrent, while the hole is found and marked down.
      for (let round = 0; round < 6; round++) {
        results.push(...(await Promise.all(ks.map((k, i) => settle((i + round) % 2 ? client.get(k) : client.set(k, `v-${k}`), TIMEOUT + 2000, `${k} round ${round}`)))));
        await sleep(60);
      }
      // getMulti spans both servers: partial failure, never a hang.
      const multi = await settle(client.getMulti(ks), TIMEOUT + 2000, 'getMulti');
      expect(multi.ok).toBe(false);
      expectWithin(multi, TIMEOUT, 'getMulti');

      const holeErrors = results.filter((o) => !o.ok);
      expect(holeErrors.length).toBeGreaterThan(0);
      for (const o of holeErrors) {
        expect(o.error, describeError(o.error)).toBeInstanceOf(MemclusterError);
        expect((o.error as MemclusterError).server, describeError(o.error)).toBe(hole.address);
        expect([TimeoutError, ServerUnavailableError].some((c) => o.error instanceof c), describeError(o.error)).toBe(true);
        expectWithin(o, TIMEOUT);
      }
      // The real server's keys all worked (every key is on one of the two servers).
      const realOk = results.filter((o) => o.ok);
      expect(realOk.length).toBeGreaterThan(0);
      expect(realOk.length + holeErrors.length).toBe(results.length);

      const down = await waitFor(() => events.find((e) => e.name === 'serverDown'), 2000, 'serverDown for the hole');
      expect(down.server).toBe(hole.address);
      expect(events.filter((e) => e.name === 'serverDown' && e.server === real.address)).toEqual([]);
      // Let a few probes hit the hole too (each opens a new connection to it).
      const seen = hole.connections;
      await waitFor(() => hole!.connections >= seen + 2, FAST.maxRetryDelayMs! * 2 + 2 * (FAST.connectTimeoutMs! + FAST.validateTimeoutMs!), 'two health probes to reach the hole');

      expect(hole.received.length, 'the hole was connected to').toBeGreaterThan(0);
      // `mn` mode asks `version` too until a socket has told it (it says which meta the server speaks).
      const allowed = ['version\r\n', 'mn\r\n'];
      const lines = hole.lines();
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((l) => !allowed.includes(l)), `bytes the black hole received: ${JSON.stringify(lines.slice(0, 20))}`).toEqual([]);
      // One validation request per connection: nothing is pipelined behind an unanswered one.
      for (const b of hole.received) expect(b.toString('latin1').split('\r\n').length - 1).toBeLessThanOrEqual(1);
    });
  }
});

/**
 * A call's deadline must fire (late, but fire) while the host application keeps its event loop
 * busy in steady slices (every turn > 25 ms, yielding with setImmediate between slices).
 *
 * Connection.checkDeadline (src/connection/connection.ts) defers its judgement with a 0 ms timer
 * whenever a check runs more than LATE_MS (25 ms) after it was planned, so that replies that arrived
 * while the loop was busy are read first. When every turn of the loop took longer than that, every
 * check was "late" and deferred again: the request neither timed out nor was its socket judged
 * stalled until the application went idle. Now the MAX_LATE_CHECKS-th late check judges anyway
 * (polls have run in between, and read what had arrived).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { Connection, now } from '../../src/connection/connection.js';
import { ConnectionError } from '../../src/errors.js';
import { BlackHole } from '../support/black-hole.js';
import { startServers, stopAll } from '../support/memcached.js';
import { expectWithinPromise, SLACK_MS } from '../support/timing.js';

function busy(ms: number): void {
  const until = now() + ms;
  while (now() < until) { /* the application's synchronous work */ }
}

/** The application: `sliceMs` of work per turn, yielding between slices, for `totalMs`. */
function busyInSlices(sliceMs: number, totalMs: number): Promise<void> {
  const started = now();
  return new Promise<void>((resolve) => {
    const step = () => {
      if (now() - started > totalMs) return resolve();
      busy(sliceMs);
      setImmediate(step);
    };
    setImmediate(step);
  });
}

afterAll(stopAll);

/** Longer than the promise and its slack, so a call that waits for the loop to go idle fails. */
const BUSY_MS = 200 + SLACK_MS + 1500;

describe('deadlines under a steadily busy event loop (30 ms slices)', () => {
  let hole: BlackHole | undefined;
  afterAll(async () => { await hole?.close(); });

  it('Connection: a request to a silent server settles near its 200 ms deadline', async () => {
    hole = await BlackHole.start();
    const conn = await Connection.open({
      host: hole.host, port: hole.port, server: hole.address, connectTimeoutMs: 1000, maxValueBytes: 1 << 20, stallTimeoutMs: 200,
    });
    const started = now();
    let settledAt = -1;
    let outcome = 'pending';
    conn.send('version\r\n', 'version', started + 200).then(
      () => { outcome = 'resolved'; settledAt = now(); },
      (e: Error) => { outcome = e.name; settledAt = now(); },
    );
    await busyInSlices(30, BUSY_MS);
    await new Promise((r) => setTimeout(r, 50));
    conn.destroy(new ConnectionError('test done', { server: hole.address }));
    expect(outcome).toBe('TimeoutError');
    expectWithinPromise(settledAt - started, 200, 'a request settles by its deadline while the loop stays busy');
  });

  it('Client: get on a frozen memcached settles near timeoutMs (200 ms)', async () => {
    const [server] = await startServers(1);
    const mc = new Client([server!.address], { timeoutMs: 200 });
    try {
      expect(await mc.set('busy:k', 'v')).toBe(true);
      await server!.freeze();
      const started = now();
      let settledAt = -1;
      let outcome = 'pending';
      mc.get('busy:k').then(
        () => { outcome = 'resolved'; settledAt = now(); },
        (e: Error) => { outcome = e.name; settledAt = now(); },
      );
      await busyInSlices(30, BUSY_MS);
      await new Promise((r) => setTimeout(r, 50));
      expect(outcome).toBe('TimeoutError');
      expectWithinPromise(settledAt - started, 200, 'get on a frozen server settles within timeoutMs while the loop stays busy');
    } finally {
      server!.thaw();
      await mc.close();
    }
  });
});

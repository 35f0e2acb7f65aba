/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * A proxy whose backend is dead answers `version`/`mn` (the pool's proof) but no command. Before
 * 4c8f0b4, once marked down it stayed down until the probe timer (retryDelayMs/2..retryDelayMs,
 * growing). With minConnections > 0, the socket that died holding the stalled request is destroyed,
 * generic-pool tops the pool up at once, the new socket passes `version`, and `health.proven()`
 * brings the server up within milliseconds: the probe backoff no longer bounds the flapping.
 * Now a proven socket brings a server up only when no socket died holding requests since its last
 * reply (a restart); a server whose commands stopped being answered waits for its probe.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { Fake } from '../support/fake-memcached.js';
import { recordEvents, settle, sleep, now } from './helpers.js';

const RETRY = 10_000;

describe('proxy in front of a dead backend (answers version and mn, never get or mg), minConnections 1', () => {
  let fake: Fake | undefined;
  let mc: Client | undefined;
  afterEach(async () => {
    await mc?.close();
    await fake?.close();
  });

  /** A client of a fake that validates sockets but never answers a command. */
  async function deadBackend(retryDelayMs: number, maxRetryDelayMs: number): Promise<Client> {
    fake = await Fake.start();
    fake.onLine = (line) => line.startsWith('get ') || line.startsWith('mg ');
    mc = new Client([fake.address], {
      minConnections: 1, idleTimeoutMs: 60_000,
      timeoutMs: 300, connectTimeoutMs: 300, validateTimeoutMs: 250, failureThreshold: 1,
      retryDelayMs, maxRetryDelayMs,
    });
    return mc;
  }

  it('stays down at least retryDelayMs/2 after serverDown (no flapping faster than the probe backoff)', async () => {
    const mc = await deadBackend(RETRY, 20_000);
    const events = recordEvents(mc);
    await settle(mc.get('k'), 300 + 1000);
    const start = now();
    while (!events.some((e) => e.name === 'serverDown') && now() - start < 5000) await sleep(10);
    const downAt = events.find((e) => e.name === 'serverDown')?.at;
    expect(downAt, 'serverDown seen').toBeDefined();
    // Well under RETRY / 2 = 5000 ms, the earliest a probe could bring it back.
    await sleep(800);
    const seen = events.filter((e) => e.name !== 'connectionEvicted').map((e) => `${e.name}@+${Math.round(e.at - downAt!)}ms`);
    expect({ state: mc.serverStats()[0]!.state, events: seen }).toEqual({ state: 'down', events: ['serverDown@+0ms'] });
  }, 30_000);

  it('is marked down no more often than the probe backoff allows (retryDelayMs 2000: at most 3 downs in 4 s)', async () => {
    const mc = await deadBackend(2000, 10_000);
    const events = recordEvents(mc);
    const start = now();
    let timedOut = 0;
    // Down periods with the documented backoff last >= 1000, >= 2000, ... ms, plus a 300 ms stall
    // before each down: within 4 s at most 3 serverDown events.
    while (now() - start < 4000) {
      const o = await settle(mc.get('k'), 300 + 1000);
      if (!o.ok && (o.error as { code?: string }).code === 'MC_ERR_TIMEOUT') timedOut++;
      await sleep(10);
    }
    const downs = events.filter((e) => e.name === 'serverDown').length;
    expect(downs, `serverDown events in 4 s (calls that waited out the timeout: ${timedOut})`).toBeLessThanOrEqual(3);
  }, 30_000);
});

/**
 * A multi-key call checks every key before it writes a byte, in 4 ms slices (README, Limits). Its
 * `timeoutMs` bounds the whole call and its signal aborts it at once, so the checking itself must
 * stop when either comes: a 300,000-key call with `timeoutMs: 50` must not check all its keys first
 * and only then time out (it took 0.6-1.4 s before), nor an aborted setMulti/deleteMulti.
 *
 * Shown by what the call read, not by how long it took: the keys are an array behind a Proxy that
 * counts reads (setMulti: a serializer that counts values), so a call that stopped early read only a
 * small part of them. How long it took is checked only as the promise it is (timeoutMs + slack).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, Client, TimeoutError } from '../../src/index.js';
import { defaultSerializer, type Serializer } from '../../src/client/values.js';
import { startServers, stopAll, type MemcachedServer } from '../support/memcached.js';
import { clock, expectWithinPromise } from '../support/timing.js';

let server: MemcachedServer;
beforeAll(async () => { [server] = await startServers(1) as [MemcachedServer]; });
afterAll(stopAll);

const N = 300_000;
const plain = Array.from({ length: N }, (_, i) => `some:reasonably:long:key:prefix:${i}`);

/** The keys, counting the reads of its elements. */
function counted(): { keys: string[]; reads: () => number } {
  let reads = 0;
  const keys = new Proxy(plain, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop.length > 0 && prop.charCodeAt(0) >= 48 && prop.charCodeAt(0) <= 57) reads++;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { keys, reads: () => reads };
}

type Call = 'getMulti' | 'deleteMulti' | 'setMulti';

/** Runs `call` over the N keys; `checked()` says how many keys (or values) it read. */
function start(call: Call, o: { timeoutMs?: number; signal?: AbortSignal }): { client: Client; p: Promise<unknown>; checked: () => number } {
  let serialized = 0;
  const countingSerializer: Serializer = {
    serialize: (v) => { serialized++; return defaultSerializer.serialize(v); },
    deserialize: defaultSerializer.deserialize,
  };
  const client = new Client([server.address], { serializer: countingSerializer });
  if (call === 'setMulti') {
    const p = client.version().then(() => client.setMulti(plain.map((k) => [k, 'v'] as const), o));
    return { client, p, checked: () => serialized };
  }
  const { keys, reads } = counted();
  const p = client.version().then(() => (call === 'getMulti' ? client.getMulti(keys, o) : client.deleteMulti(keys, o)));
  return { client, p, checked: reads };
}

describe('a large multi-key call stops checking its keys when its time is up or it is aborted', () => {
  for (const call of ['getMulti', 'deleteMulti', 'setMulti'] as const) {
    it(`${call} of ${N.toLocaleString('en-US')} keys with timeoutMs 50: TimeoutError, most keys never checked`, async () => {
      const run = start(call, { timeoutMs: 50 });
      try {
        await run.client.version();
        const t = clock();
        const err = await run.p.then(() => 'resolved', (e: unknown) => e);
        expectWithinPromise(clock() - t, 50, `${call} with timeoutMs 50 settles within it`);
        expect(err).toBeInstanceOf(TimeoutError);
        expect(run.checked(), 'keys checked before the call gave up').toBeLessThan(N / 2);
      } finally { await run.client.close(); }
    });
  }
  for (const call of ['getMulti', 'deleteMulti', 'setMulti'] as const) {
    it(`${call} of ${N.toLocaleString('en-US')} keys aborted 20 ms in: AbortError, most keys never checked`, async () => {
      const ac = new AbortController();
      const run = start(call, { signal: ac.signal });
      try {
        await run.client.version();
        let abortedAt = 0;
        setTimeout(() => { abortedAt = clock(); ac.abort(); }, 20);
        const err = await run.p.then(() => 'resolved', (e: unknown) => e);
        expectWithinPromise(clock() - abortedAt, 0, `${call} settles at once when aborted`);
        expect(err).toBeInstanceOf(AbortError);
        expect(run.checked(), 'keys checked before the call gave up').toBeLessThan(N / 2);
      } finally { await run.client.close(); }
    });
  }
});

/**
 * Promise-returning methods must reject with a typed error, never throw synchronously, and bad
 * options must be refused with a typed error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, MemclusterError, NoServersError } from '../../src/index.js';
import { startServers, stopAll, type MemcachedServer } from '../support/memcached.js';
import { rejection } from '../support/assert.js';

let server: MemcachedServer;
beforeAll(async () => { [server] = await startServers(1) as [MemcachedServer]; });
afterAll(stopAll);

describe('no synchronous throws from promise-returning methods', () => {
  it('set on a client whose last server was removed rejects with NoServersError (as get does)', async () => {
    const mc = new Client([server.address]);
    try {
      await mc.removeServer(server.address);
      expect(await rejection(() => mc.get('k'), 'get')).toBeInstanceOf(NoServersError);
      expect(await rejection(() => mc.set('k', 'v'), 'set')).toBeInstanceOf(NoServersError);
    } finally { await mc.close(); }
  });

  const calls: Array<[string, (mc: Client) => Promise<unknown>]> = [
    ['get', (mc) => mc.get('k', null as never)],
    ['set', (mc) => mc.set('k', 'v', null as never)],
    ['getMulti', (mc) => mc.getMulti(['k'], null as never)],
    ['delete', (mc) => mc.delete('k', null as never)],
  ];
  for (const [name, call] of calls) {
    it(`${name} with call options null rejects with a typed error`, async () => {
      const mc = new Client([server.address]);
      try {
        expect(await rejection(() => call(mc), name)).toBeInstanceOf(MemclusterError);
      } finally { await mc.close(); }
    });
  }
});

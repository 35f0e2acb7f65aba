/**
 * `await using` closes the client (Symbol.asyncDispose). The `allowExitOnIdle` child-process test
 * lives in test/failure/close-lifecycle.test.ts, beside the other "nothing keeps the process alive" tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, ClientClosedError } from '../../src/index.js';
import { startServers, stopAll, type MemcachedServer } from '../support/memcached.js';

let server: MemcachedServer;
beforeAll(async () => { [server] = await startServers(1) as [MemcachedServer]; });
afterAll(stopAll);

describe('client lifecycle', () => {
  it('await using closes the client at the end of the block', async () => {
    let outer: Client | undefined;
    {
      await using mc = new Client([server.address]);
      outer = mc;
      await mc.set('dispose:k', 'v');
      expect(await mc.get('dispose:k')).toBe('v');
    }
    await expect(outer!.get('dispose:k')).rejects.toBeInstanceOf(ClientClosedError);
  });
});

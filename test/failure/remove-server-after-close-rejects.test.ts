/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * README: `close()` — "later calls reject with ClientClosedError". addServer and replaceServer do
 * (they throw ClientClosedError), but removeServer on a closed client resolves and changes the ring
 * of a client that no longer serves anything, as if the fleet change had happened.
 */
import { describe, expect, it } from 'vitest';
import { Client, ClientClosedError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { describeError, settle } from './helpers.js';

describe('fleet changes after close()', () => {
  const servers = useMemcached(2);

  it('removeServer on a closed client rejects with ClientClosedError, like addServer and replaceServer', async () => {
    const [a, b] = servers.map((s) => s.address) as [string, string];
    const mc = new Client([a, b], { timeoutMs: 500 });
    expect(await mc.set('rc:k', 'v')).toBe(true);
    await mc.close();

    expect(() => mc.addServer('127.0.0.1:1')).toThrow(ClientClosedError);
    await expect(mc.replaceServer(b, '127.0.0.1:2')).rejects.toBeInstanceOf(ClientClosedError);

    const removed = await settle(mc.removeServer(b), 500, 'removeServer after close');
    expect(removed.ok ? 'resolved' : describeError(removed.error), 'removeServer after close()').toMatch(/^ClientClosedError/);
    // The closed client's fleet is left as it was.
    expect(mc.serverStats().map((s) => s.server).sort()).toEqual([a, b].sort());
  });
});

/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * A healthy memcached whose replies take 400 ms (a loaded or far-away server) is well within the
 * default `timeout` (5000 ms). memcached 2.2.2 serves it normally. compat must too: no error, no
 * `issue`, and the server must not be marked "not available" for `retry` ms.
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { useMemcached } from '../support/memcached.js';
import { call, Legacy } from './helpers.js';

const EVENTS = ['issue', 'failure', 'reconnecting', 'reconnect', 'remove'];

async function run(client: any): Promise<{ set: any; get: any; events: string[] }> {
  const events: string[] = [];
  for (const e of EVENTS) client.on(e, () => events.push(e));
  try {
    const set = await call(client, 'set', ['far', 'v', 0], 15_000);
    const get = await call(client, 'get', ['far'], 15_000);
    return { set: [set.err && String(set.err), set.data], get: [get.err && String(get.err), get.data], events };
  } finally {
    client.end();
  }
}

describe('a server 400 ms away, default options', () => {
  const servers = useMemcached(1);

  it('is served as 2.2.2 serves it: results, no issue, not marked unavailable', async () => {
    const proxy = await DelayProxy.start(servers[0]!, { replyDelayMs: 400 });
    try {
      const legacy = await run(new Legacy(proxy.address, { reconnect: 600_000 }));
      // The control: 2.2.2 works against this server.
      expect(legacy).toEqual({ set: [undefined, true], get: [undefined, 'v'], events: [] });
      const compat = await run(new Memcached(proxy.address, { reconnect: 600_000 }));
      expect(compat).toEqual(legacy);
    } finally {
      await proxy.close();
    }
  });
});

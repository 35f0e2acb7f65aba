/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * `remove: true` with a `failOverServers` entry that is also one of the servers: 2.2.2 swaps the
 * dead server's ring points to it (hashring's swap), so the dead server's keys go there and work.
 * compat's exposed `HashRing` makes the same swap, but its routing does not: the keys keep going to
 * the dead server and fail "not available" for good, while `HashRing.get` names the live one.
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { call, closedPort, Legacy, sleep } from './helpers.js';

async function run(client: any, dead: string): Promise<unknown> {
  const events: string[] = [];
  for (const e of ['issue', 'failure', 'remove']) client.on(e, () => events.push(e));
  try {
    const key = Array.from({ length: 200 }, (_, i) => `fo${i}`).find((k) => client.HashRing.get(k) === dead)!;
    const first = await call(client, 'set', [key, 'v', 0], 5000);
    await sleep(150); // past `retry`
    const again = await call(client, 'set', [key, 'v', 0], 5000);
    const get = await call(client, 'get', [key], 5000);
    return {
      first: String(first.err),
      again: [again.err && String(again.err), again.data],
      get: [get.err && String(get.err), get.data],
      events,
      ringSaysDeadServer: client.HashRing.get(key) === dead,
    };
  } finally {
    client.end();
  }
}

describe('failOverServers naming a server of the ring', () => {
  const servers = useMemcached(1);

  it('the dead server\'s keys go to it, as HashRing says (2.2.2 stores them there)', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    const live = servers[0]!.address;
    // Fresh options per client: 2.2.2 shifts the caller's failOverServers array itself.
    const opts = () => ({ retries: 0, timeout: 1000, retry: 50, failures: 0, remove: true, failOverServers: [live], reconnect: 600_000 });
    const legacy = await run(new Legacy([live, dead], opts() as never), dead);
    const compat = await run(new Memcached([live, dead], opts() as never), dead);
    expect(legacy).toEqual({ first: `Error: connect ECONNREFUSED ${dead}`, again: [undefined, true], get: [undefined, 'v'], events: ['remove'], ringSaysDeadServer: false });
    expect(compat).toEqual(legacy);
  });
});

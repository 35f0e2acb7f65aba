/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * A stale (invalidated) item larger than a client's maxValueBytes: the first mg on it wins the
 * item's refresh right (W). A fetch that reads it and fails with ReplyTooLargeError must not keep
 * that right: otherwise no client in the fleet ever reloads the item (everyone else gets Z).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

const OPTS = { timeoutMs: 2000, connectTimeoutMs: 2000, retryDelayMs: 50, maxRetryDelayMs: 500 } as const;

describe('fetch of a stale item over maxValueBytes', () => {
  const servers = useMemcached(1);
  const open: Client[] = [];
  const client = (extra: object = {}): Client => {
    const c = new Client(servers.map((s) => s.address), { ...OPTS, protocol: 'meta', ...extra });
    open.push(c);
    return c;
  };
  afterEach(async () => { await Promise.all(open.splice(0).map((c) => c.close())); });

  it('a fetch that fails with ReplyTooLargeError on a stale item does not swallow its refresh right', async () => {
    const big = client();
    const small = client({ maxValueBytes: 1000 });
    const key = `tl-stale:${Date.now()}`;
    await big.set(key, 'x'.repeat(5000), { ttl: 60 });
    expect(await big.invalidate(key, { staleTtl: 60 })).toBe(true);
    // The small client is first to read the stale item: it gets W + X and a value too large for it.
    // Holding the item's only refresh right, it must still reload it (its loader's value may fit).
    let calls = 0;
    const loader = async (): Promise<string> => { calls++; return 'fresh'; };
    await expect(small.fetch(key, loader, { ttl: 60 })).rejects.toMatchObject({ code: 'MC_ERR_REPLY_TOO_LARGE' });
    // Nobody in the fleet reloads it if the right was swallowed: later fetches get Z and serve stale.
    const until = Date.now() + 5000;
    while (Date.now() < until && (await big.get(key)) !== 'fresh') {
      await big.fetch(key, loader, { ttl: 60 });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect({ reloads: calls, value: String(await big.get(key)).slice(0, 10) }).toEqual({ reloads: 1, value: 'fresh' });
  });
});

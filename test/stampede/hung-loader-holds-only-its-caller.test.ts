/**
 * (Found in review; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * A lease winner whose loader never settles (a database call with no timeout). After leaseTtl the
 * lease heals for the fleet: another client wins, loads and fills the cache. But in the winner's
 * own client, every later fetch of the key joins the hung flight (flights are keyed by key alone and
 * never bounded), so it never settles, even though the value now sits in the cache, and no
 * waitMs/timeoutMs applies to it.
 */
import { describe, expect, it } from 'vitest';
import { useMemcached } from '../support/memcached.js';
import { clientsFor } from './helpers.js';

/** 'pending' when `p` has not settled within `ms`, else its outcome. */
async function outcomeWithin<T>(p: Promise<T>, ms: number): Promise<string> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<string>((r) => { t = setTimeout(() => r('pending'), ms); });
  const settled = p.then((v) => `value: ${JSON.stringify(v)}`, (e: unknown) => `error: ${(e as Error)?.name}: ${(e as Error)?.message}`);
  try {
    return await Promise.race([settled, timer]);
  } finally {
    clearTimeout(t);
  }
}

describe.each(['meta', 'text'] as const)('fetch: a hung loader (protocol: %s)', (protocol) => {
  const servers = useMemcached(1);
  const client = clientsFor(servers, protocol);

  it('after another client refilled the key, a new fetch in the hung client returns the cached value', async () => {
    const [hung, other] = [client(), client()];
    const key = `hung:${protocol}:${Date.now()}`;
    let started!: () => void;
    const loaderStarted = new Promise<void>((r) => { started = r; });
    // Never settles: the first caller in `hung` is stuck, as its own loader is.
    void hung.fetch(key, () => { started(); return new Promise<string>(() => {}); }, { ttl: 60, leaseTtl: 1, waitMs: 500 }).catch(() => {});
    await loaderStarted;
    // The lease (or lock) expires after 1 s; the other client wins it, loads and fills.
    expect(await other.fetch(key, async () => 'from other', { ttl: 60, leaseTtl: 1, waitMs: 5000 })).toBe('from other');
    expect(await other.get(key)).toBe('from other');
    // A new call in the first client: the value is in the cache. waitMs 500 + timeoutMs 500, plus lots of room.
    const late = await outcomeWithin(hung.fetch(key, async () => 'late load', { ttl: 60, leaseTtl: 1, waitMs: 500 }), 5000);
    expect(late).toBe('value: "from other"');
  });
});

/**
 * Counters created on a miss with a TTL (`incr(key, delta, { initial, ttl })`): one `ma` round trip
 * on meta servers, `incr` + `add` on text. Plain incr/decr are unchanged when neither option is given.
 */
import { describe, expect, it } from 'vitest';
import { useMemcached } from '../support/memcached.js';
import { clientsFor } from './helpers.js';

describe.each(['meta', 'text'] as const)('incr/decr with { initial, ttl } (protocol: %s)', (protocol) => {
  const servers = useMemcached(1);
  const client = clientsFor(servers, protocol);

  it('creates a missing counter holding initial, with the TTL; then counts; the TTL is not extended', async () => {
    const mc = client();
    const key = `ctr:${protocol}:${Date.now()}`;
    expect(await mc.incr(key, 5, { initial: 10, ttl: 60 })).toBe(10);
    expect(await mc.incr(key, 5, { initial: 10, ttl: 60 })).toBe(15);
    // Stored as memcached's own counters are: the digits, flags 0.
    expect(await mc.get(key)).toBe('15');
    expect(await mc.decr(key, 20, { initial: 10, ttl: 600 })).toBe(0);
    // The TTL as the server holds it (read on a socket of its own).
    const ttl = Number(/ t(-?\d+)/.exec(await servers[0]!.command(`mg ${key} t\r\n`))?.[1]);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('decr creates too; ttl alone creates at 0; bigint initial; no ttl means no expiry', async () => {
    const mc = client();
    const base = `ctr2:${protocol}:${Date.now()}`;
    expect(await mc.decr(`${base}:d`, 3, { initial: 7 })).toBe(7);
    expect(await mc.decr(`${base}:d`, 3, { initial: 7 })).toBe(4);
    expect(await mc.incr(`${base}:t`, 2, { ttl: 30 })).toBe(0);
    expect(await mc.incr(`${base}:t`, 2, { ttl: 30 })).toBe(2);
    expect(await mc.incr(`${base}:b`, 1, { initial: 2n ** 40n })).toBe(2 ** 40);
    expect(await servers[0]!.command(`mg ${base}:d t\r\n`)).toBe('HD t-1\r\n');
  });

  it('keeps plain incr/decr when neither option is given: false on a miss, nothing created', async () => {
    const mc = client();
    const key = `plain:${protocol}:${Date.now()}`;
    expect(await mc.incr(key, 1)).toBe(false);
    expect(await mc.decr(key, 1, {})).toBe(false);
    expect(await mc.get(key)).toBeUndefined();
    await mc.set(key, 41);
    expect(await mc.incr(key, 1, { initial: 0, ttl: 5 })).toBe(42);
  });

  it('many concurrent creators from several clients: one counter, every increment counted', async () => {
    const mcs = [client(), client(), client()];
    const key = `race:${protocol}:${Date.now()}`;
    const results = await Promise.all(mcs.flatMap((mc) => Array.from({ length: 30 }, () => mc.incr(key, 1, { initial: 1, ttl: 60 }))));
    // One caller created it (1); the other 89 each added 1.
    expect(results.filter((r) => r === 1)).toHaveLength(1);
    expect(new Set(results).size).toBe(90);
    expect(await mcs[0]!.get(key)).toBe('90');
  });
});

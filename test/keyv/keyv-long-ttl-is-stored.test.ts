/**
 * (Found in review; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * Keyv takes any TTL in milliseconds and stores the exact expiry with the value (it checks it on
 * read). KeyvMemcluster converts the TTL to seconds and hands it to Client#set, which refuses a TTL
 * that reaches past January 2038 (memcached's 32-bit exptime). So `keyv.set(k, v, 20 years)` fails
 * (Keyv returns false and emits the InvalidArgumentError; with throwOnErrors it rejects), where a
 * Map store or @keyv/redis stores it. The store could cap the memcached exptime (or send 0 and
 * let Keyv's own expiry apply) instead of refusing the write.
 */
import Keyv from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyvMemcluster } from '../../src/keyv/index.js';
import { useMemcached } from '../support/memcached.js';

const YEAR_MS = 365 * 24 * 3600 * 1000;

describe('KeyvMemcluster with a TTL past 2038', () => {
  const servers = useMemcached(1);
  const closers: Array<() => unknown> = [];
  afterAll(async () => { await Promise.all(closers.map((c) => c())); });

  it('keyv.set with a 20-year TTL stores the value (as a Map store does)', async () => {
    const store = new KeyvMemcluster(servers.map((s) => s.address));
    closers.push(() => store.disconnect());
    const keyv = new Keyv({ store, namespace: 'long' });
    const errors: unknown[] = [];
    keyv.on('error', (e) => errors.push(e));
    const reference = new Keyv({ namespace: 'long' }); // Keyv's own Map store
    expect(await reference.set('k', 'v', 20 * YEAR_MS)).toBe(true);
    expect(await reference.get('k')).toBe('v');

    expect(await keyv.set('k', 'v', 20 * YEAR_MS)).toBe(true);
    expect(errors.map(String)).toEqual([]);
    expect(await keyv.get('k')).toBe('v');
  });
});

/**
 * (Found in review; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * KeyvMemcluster promises "any string works as a Keyv key": keys over 180 bytes are hashed so the
 * wire key fits 250 bytes "with room for a generation and a client key prefix". The room is fixed
 * (250 - 180 - 16 = 54 bytes), but a shared Client may carry any keyPrefix up to 249 bytes. With a
 * 64-byte prefix (a tenant id, a deploy label) a Keyv key of 170 characters is sent plain and
 * memcached's 250-byte limit rejects it: Keyv users do not control key shape.
 */
import Keyv from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { Client, InvalidOptionError } from '../../src/index.js';
import { KeyvMemcluster } from '../../src/keyv/index.js';
import { useMemcached } from '../support/memcached.js';

describe('KeyvMemcluster on a client with a keyPrefix', () => {
  const servers = useMemcached(2);
  const closers: Array<() => unknown> = [];
  afterAll(async () => { await Promise.all(closers.map((c) => c())); });

  it('a key of any length round-trips when the shared client has a 64-byte keyPrefix', async () => {
    const prefix = `tenant-${'a'.repeat(56)}:`; // 64 bytes, far under the client's own 250-byte limit
    const client = new Client(servers.map((s) => s.address), { keyPrefix: prefix });
    closers.push(() => client.close());
    const keyv = new Keyv({ store: new KeyvMemcluster(client), namespace: 'app', throwOnErrors: true });
    // 'app:' + 170 = 174 bytes: under the store's 180-byte hashing threshold, so it goes plain.
    const key = 'k'.repeat(170);
    await expect(keyv.set(key, 'v')).resolves.toBe(true);
    await expect(keyv.get(key)).resolves.toBe('v');
    await expect(keyv.get([key, 'other'])).resolves.toEqual(['v', undefined]);
    await expect(keyv.delete(key)).resolves.toBe(true);
  });

  it('a keyPrefix that leaves no room for a hashed key and a generation is refused when the store is built', () => {
    const ok = new Client(servers.map((s) => s.address), { keyPrefix: 'p'.repeat(168) });
    const tooLong = new Client(servers.map((s) => s.address), { keyPrefix: 'p'.repeat(169) });
    closers.push(() => ok.close(), () => tooLong.close());
    expect(() => new KeyvMemcluster(ok)).not.toThrow();
    expect(() => new KeyvMemcluster(tooLong)).toThrow(InvalidOptionError);
  });
});

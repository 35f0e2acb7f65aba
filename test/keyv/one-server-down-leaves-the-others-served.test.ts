/**
 * memcluster isolates a bad server: keys of the other servers are served as usual. KeyvMemcluster
 * (default `clear: 'namespace'`) reads the namespace's generation item alongside every call, and
 * that item lives on one server: when that server was down, every get/set of the namespace
 * rejected, also for keys on servers that are up. Now the last generation seen is used meanwhile.
 */
import Keyv from 'keyv';
import { describe, expect, it } from 'vitest';
import { KeyvMemcluster } from '../../src/keyv/index.js';
import { useMemcached } from '../support/memcached.js';

describe('KeyvMemcluster with one server of two down', () => {
  const servers = useMemcached(2);

  it('keys on the live server are still served', async () => {
    const store = new KeyvMemcluster(servers.map((s) => s.address), { timeoutMs: 500, connectTimeoutMs: 200 });
    const keyv = new Keyv({ store, namespace: 'app', throwOnErrors: true });
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    for (const k of keys) await keyv.set(k, k);
    // Stop the server that holds this namespace's generation item.
    const holder = (store.client as unknown as { core: { cluster: { nodeFor(k: string): { server: string } } } }).core.cluster.nodeFor('keyv-generation:app').server;
    const dead = servers.find((s) => s.address === holder)!;
    await dead.stop();

    const outcome = await Promise.all(keys.map((k) => keyv.get(k).then((v) => (v === k ? 'served' : `wrong ${String(v)}`), (e: Error) => `error ${(e as { code?: string }).code ?? e.message}`)));
    const served = outcome.filter((o) => o === 'served').length;
    await store.disconnect();
    // About half of the keys live on the server that is up (20 keys over 2 servers).
    expect(served, `outcomes: ${JSON.stringify(outcome)}`).toBeGreaterThan(0);
  });
});

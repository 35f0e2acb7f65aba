#!/usr/bin/env node
// cache-manager 7 on memcached through Keyv: `memcluster/keyv` is the Keyv store, so anything
// built on Keyv (cache-manager, and the frameworks that use it) caches in a sharded memcached fleet.
//
//   cache.wrap(key, fn, ttlMs)  -> the first call runs fn and stores its result; later calls read it
//   cache.mget(keys)            -> one getMulti (batched per server)
//   cache.clear()               -> clears this Keyv namespace only (see the README's Keyv section)
//
// cache-manager treats a store error as a miss (wrap runs the loader); Keyv reports it as an 'error'
// event: listen to it to see a server that is down.
//
// Run: MEMCLUSTER_SERVERS=127.0.0.1:11211 node examples/keyv-cache-manager.mjs
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { KeyvMemcluster } from 'memcluster/keyv';

const servers = (process.env.MEMCLUSTER_SERVERS || '127.0.0.1:11211').split(',').map((s) => s.trim()).filter(Boolean);

const store = new KeyvMemcluster(servers, { timeoutMs: 2000 });
const keyv = new Keyv({ store, namespace: 'example-users' });
keyv.on('error', (err) => console.error(`cache error: ${err?.name} ${err?.code ?? ''} ${err?.message}`));
const cache = createCache({ stores: [keyv], ttl: 60_000 });
// cache-manager swallows a failed store write too (wrap still returns the loaded value): its 'set'
// event carries the error.
cache.on('set', ({ key, error }) => {
  if (error) console.error(`cache write of ${key} failed: ${error?.name} ${error?.code ?? ''} ${error?.message}`);
});

let lookups = 0;
/** The slow source of truth the cache sits in front of. */
async function loadUser(id) {
  lookups++;
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { id, name: `user ${id}` };
}

try {
  await cache.clear(); // a clean namespace, whatever an earlier run left

  const first = await cache.wrap('user:1', () => loadUser(1), 30_000);
  const second = await cache.wrap('user:1', () => loadUser(1), 30_000);
  console.log(`1. wrap twice: ${JSON.stringify(second)}; loader ran ${lookups} time(s)`);
  if (lookups !== 1 || second.name !== first.name) throw new Error('the second wrap should have been a cache hit');

  await cache.mset([{ key: 'user:2', value: { id: 2 } }, { key: 'user:3', value: { id: 3 }, ttl: 1_500 }]);
  const many = await cache.mget(['user:1', 'user:2', 'user:3', 'user:404']);
  console.log(`2. mget 4 keys: ${many.filter((v) => v !== undefined).length} hits, ${many.filter((v) => v === undefined).length} miss`);
  if (many[3] !== undefined || many.slice(0, 3).some((v) => v === undefined)) throw new Error('mget returned the wrong hits');

  // cache-manager passes TTLs in milliseconds; memcached keeps whole seconds, rounded up.
  console.log(`3. ttl of user:3: ${(await cache.ttl('user:3')) - Date.now()} ms left (asked 1500 ms)`);

  await cache.del('user:2');
  const deleted = await cache.get('user:2');
  console.log(`4. after del: user:2 is ${deleted}`);
  if (deleted !== undefined) throw new Error('del() left user:2');

  await cache.clear();
  console.log(`5. after clear: user:1 is ${await cache.get('user:1')}`);
  if ((await cache.get('user:1')) !== undefined) throw new Error('clear() left an item');
  console.log('keyv-cache-manager example: ok');
} finally {
  await cache.disconnect(); // closes the store's client (it created it)
}

#!/usr/bin/env node
// A read-through cache around a slow function, and the one distinction that matters in it:
//
//   a MISS  (get resolves `undefined`)  -> compute the value, store it, return it;
//   an ERROR (get rejects with a typed MemclusterError: server down, timeout, ...)
//            -> compute the value and return it, but do NOT store it, and log the error.
//
// Why not treat an error as a miss? The error already cost up to `timeoutMs`; a `set` to the same
// unreachable server would cost another. And "miss" is a normal, silent event while an error is
// something an operator must see: which server, which code.
//
// Run: MEMCLUSTER_SERVERS=127.0.0.1:11211 node examples/read-through.mjs
// To show the error case without stopping anything, the example adds one more "server" on a closed
// loopback port to its server list: the keys the ring gives that server fail, the others work.
import net from 'node:net';
import { Client, MemclusterError } from 'memcluster';

const servers = (process.env.MEMCLUSTER_SERVERS || '127.0.0.1:11211').split(',').map((s) => s.trim()).filter(Boolean);

/**
 * Returns the cached value of `key`, or computes it with `compute()`.
 * `onError` hears about cache failures (they are never thrown: the slow path still answers).
 */
async function readThrough(client, key, compute, { ttl = 60, onError = () => {} } = {}) {
  let cached;
  try {
    cached = await client.get(key);
  } catch (err) {
    if (!(err instanceof MemclusterError)) throw err; // a bug, not a cache failure
    onError(err, key);
    return { value: await compute(key), source: 'fallback (cache error, not stored)' };
  }
  if (cached !== undefined) return { value: cached, source: 'cache hit' };

  const value = await compute(key);
  try {
    await client.set(key, value, { ttl });
  } catch (err) {
    // Storing is best effort: the caller still gets the value.
    if (!(err instanceof MemclusterError)) throw err;
    onError(err, key);
  }
  return { value, source: 'miss: computed and stored' };
}

// The "slow function": a pretend database query.
let slowCalls = 0;
async function loadProduct(key) {
  slowCalls++;
  await new Promise((resolve) => setTimeout(resolve, 150));
  return { id: key.split(':').pop(), name: `Product ${key.split(':').pop()}`, price: 9.99 };
}

/** A loopback port nothing listens on: connections to it are refused at once. */
async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const dead = `127.0.0.1:${await closedPort()}`;
console.log(`servers: ${servers.join(', ')} + ${dead} (a closed port, standing in for a dead server)`);
const client = new Client([...servers, dead], { timeoutMs: 500, retryDelayMs: 200 });

// Count what the cache layer does, to show that errors never lead to a store.
let stores = 0;
const set = client.set.bind(client);
client.set = (...args) => (stores++, set(...args));

const errors = [];
const logError = (err, key) => {
  errors.push(err);
  console.log(`  cache error: ${err.constructor.name} code=${err.code} server=${err.server}`);
  console.log(`    ${err.message}`);
};

// Find one key the ring puts on a live server and one it puts on the dead one.
const run = Date.now().toString(36);
let liveKey;
let deadKey;
for (let i = 0; i < 200 && !(liveKey && deadKey); i++) {
  const key = `product:${run}:${i}`;
  try {
    await client.get(key);
    liveKey ??= key;
  } catch (err) {
    if (err instanceof MemclusterError && err.server === dead) deadKey ??= key;
    else throw err;
  }
}
if (!liveKey || !deadKey) throw new Error('could not find keys on both a live and the dead server');
console.log(`ring: ${liveKey} -> a live server, ${deadKey} -> ${dead}`);
console.log(`(found by trying a few keys; the failed tries already got ${dead} marked down)\n`);
const failuresWhileSearching = errors.length;

async function show(label, key) {
  console.log(`${label} ${key}`);
  const started = performance.now();
  const r = await readThrough(client, key, loadProduct, { onError: logError });
  console.log(`  -> ${r.source}, ${Math.round(performance.now() - started)} ms: ${JSON.stringify(r.value)}`);
  return r;
}

const before = { slowCalls, stores };
const a = await show('1. first read (live server)', liveKey);
const b = await show('2. second read (live server)', liveKey);
const c = await show('3. first read (dead server)', deadKey);
const d = await show('4. second read (dead server)', deadKey);

console.log(`\nslow function calls: ${slowCalls - before.slowCalls} (1 miss + 2 fallbacks); stores: ${stores - before.stores} (only the miss)`);
console.log(`cache errors logged: ${errors.length - failuresWhileSearching}, all typed and naming ${dead}`);

const ok = a.source.startsWith('miss') && b.source === 'cache hit' && c.source.startsWith('fallback') && d.source.startsWith('fallback')
  && slowCalls - before.slowCalls === 3 && stores - before.stores === 1
  && errors.slice(failuresWhileSearching).every((e) => e instanceof MemclusterError && e.server === dead);
await client.delete(liveKey).catch(() => {});
await client.close();
console.log(ok ? 'read-through example: ok' : 'read-through example: FAILED');
process.exit(ok ? 0 : 1);

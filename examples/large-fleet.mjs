#!/usr/bin/env node
// Configuring memcluster for a large fleet, and serving partial results from a big multi-get.
//
// Every limit below has a price; the comments say what you pay on each side. Then the example
// stores 20,000 items, reads 25,000 keys with getMultiSettled (5,000 were never stored: misses),
// adds an unreachable server to the ring to show partial results (hits from the healthy servers,
// a typed error per key of the broken one), and removes it again.
//
// Run: MEMCLUSTER_SERVERS=10.0.0.1:11211,10.0.0.2:11211 node examples/large-fleet.mjs
import net from 'node:net';
import { Client, MemclusterError } from 'memcluster';

const fmt = (n) => n.toLocaleString('en-US');
const servers = (process.env.MEMCLUSTER_SERVERS || '127.0.0.1:11211').split(',').map((s) => s.trim()).filter(Boolean);

const options = {
  // --- multi-get batching -------------------------------------------------------------------
  // Keys per request: on meta servers (memcached >= 1.6.10) one batch of quiet `mg` lines fenced
  // by `mn`, on text servers one `get k1 k2 ...` line. Fewer: more requests and round trips for
  // the same keys. More: a bigger read buffer that memcached keeps per connection (one
  // 100,000-key `get` left 126 MB behind on a 64 MB server), and more keys lost when one times out.
  maxBatchKeys: 100,
  // Bytes per `get` line, "get" and CRLF included (meta batches are cut the same way). memcached
  // closes any non-get line over 2048 bytes, and 1.4.x servers cut long get lines too: stay under 2 KB.
  maxBatchBytes: 2000,

  // --- sockets ------------------------------------------------------------------------------
  // Sockets per server, per client process. Each is a connection slot on the server (`-c`,
  // default 1024, shared by every process of every app) and a file descriptor here:
  // 300 processes x 4 = 1,200 connections per server. Fewer sockets: requests queue sooner.
  maxConnections: 4,
  // Requests in flight on one socket before another socket is borrowed. Higher: fewer sockets,
  // but one slow reply delays everything pipelined behind it.
  maxPipeline: 32,
  // Requests that may wait for a socket, per server. Beyond it, calls fail at once with
  // PoolFullError instead of queueing without bound (memory, and latency that only grows).
  maxQueue: 2_000,
  // Close sockets idle this long; 0 keeps them forever (and the server's slots with them).
  idleTimeoutMs: 30_000,

  // --- time bounds --------------------------------------------------------------------------
  // Upper bound of every call: queueing + connect + validation + reply, for a multi-key call the
  // whole call (all its batches). It is the worst latency a hung server adds to your request; too
  // low and a merely busy server counts as failing. A big call passes its own: { timeoutMs }.
  timeoutMs: 500,
  connectTimeoutMs: 250,
  validateTimeoutMs: 150,
  // Skip the borrow-time `mn` round trip (one RTT) for sockets that answered within this many ms.
  // The price: a socket that died in that window is found by your request instead (which fails).
  trustRecentMs: 1_000,

  // --- failure handling ---------------------------------------------------------------------
  // Consecutive failures that mark a server down. While down its keys fail at once with
  // ServerUnavailableError, and a probe (a fresh socket that must answer `mn`) retries after
  // retryDelayMs, doubling up to maxRetryDelayMs. Lower threshold: quicker to give up on a
  // server, and more likely to give up on one that only hiccuped.
  failureThreshold: 3,
  retryDelayMs: 250,
  maxRetryDelayMs: 10_000,
  // Send a down server's keys to the next server on the ring. More hits during an outage, but
  // when the server flaps, a write can land on one server and a later read on the other: stale
  // values. Off unless the data tolerates that.
  failover: false,
};

const client = new Client(servers, options);
console.log(`servers (${servers.length}): ${servers.join(', ')}`);
console.log(`limits: ${['maxBatchKeys', 'maxBatchBytes', 'maxConnections', 'maxQueue', 'timeoutMs', 'failover'].map((k) => `${k}=${options[k]}`).join(' ')}\n`);

const run = `fleet:${Date.now().toString(36)}`;
const STORED = 20_000;
const keys = Array.from({ length: STORED + 5_000 }, (_, i) => `${run}:item:${i}`);
const valueOf = (key) => ({ key, price: Number(key.split(':').pop()) % 97 });
// The calls below move thousands of keys: each gets its own whole-call bound (CallOptions.timeoutMs).
const BIG = { timeoutMs: 5_000 };

// 1. Store 20,000 items. setMulti pipelines per server; chunks keep each call short (one call
//    serializes all of its items before the first byte goes out).
let t = performance.now();
for (let i = 0; i < STORED; i += 1_000) {
  await client.setMulti(keys.slice(i, Math.min(i + 1_000, STORED)).map((k) => [k, valueOf(k)]), { ttl: 300, ...BIG });
}
console.log(`1. stored ${fmt(STORED)} items in ${Math.round(performance.now() - t)} ms`);

// 2. One getMultiSettled for 25,000 keys. Hits are in `values`, failed keys in `errors`, and a
//    miss is in neither.
t = performance.now();
let r = await client.getMultiSettled(keys, BIG);
const misses = keys.length - r.values.size - r.errors.size;
console.log(`2. getMultiSettled(${fmt(keys.length)} keys, { timeoutMs: ${fmt(BIG.timeoutMs)} }) in ${Math.round(performance.now() - t)} ms: ${fmt(r.values.size)} hits, ${fmt(misses)} misses, ${r.errors.size} errors`);
let ok = r.values.size === STORED && misses === 5_000 && r.errors.size === 0;
ok &&= keys.slice(0, STORED).every((k) => r.values.get(k)?.price === valueOf(k).price);
for (const s of client.serverStats()) {
  console.log(`   ${s.server}: ${s.created} sockets opened (maxConnections ${options.maxConnections}), ${s.validations} borrow validations`);
  ok &&= s.created <= options.maxConnections;
}

// 3. Partial results. A server joins the ring but cannot be reached (here: a closed port). The
//    ring moves only the keys it now owns, about 1/(n+1) of them; those fail with a typed error
//    naming it, everything else is still served.
const dead = await closedPortAddress();
client.addServer(dead);
t = performance.now();
r = await client.getMultiSettled(keys.slice(0, STORED), BIG);
console.log(`3. added ${dead} (unreachable) to the ring; getMultiSettled(${fmt(STORED)} keys) in ${Math.round(performance.now() - t)} ms:`);
console.log(`   ${fmt(r.values.size)} hits from the healthy servers, ${fmt(r.errors.size)} errors (${((100 * r.errors.size) / STORED).toFixed(1)}% of the keys moved to the new server)`);
const kinds = new Map();
for (const e of r.errors.values()) kinds.set(`${e.constructor.name} ${e.code} ${e.server}`, (kinds.get(`${e.constructor.name} ${e.code} ${e.server}`) ?? 0) + 1);
for (const [k, n] of kinds) console.log(`   ${fmt(n)} x ${k}`);
ok &&= r.errors.size > 0 && r.values.size + r.errors.size === STORED;
ok &&= [...r.errors.values()].every((e) => e instanceof MemclusterError && e.server === dead);

// Serving a page from partial results: hits as they are, failed keys from the slow path (and
// not written back: their server is unreachable anyway).
let fromCache = 0;
let fromSource = 0;
for (const key of keys.slice(0, STORED)) {
  if (r.values.has(key)) fromCache++;
  else if (r.errors.has(key)) fromSource++; // e.g. loadFromDatabase(key)
}
console.log(`   serving it: ${fmt(fromCache)} items from the cache, ${fmt(fromSource)} from the source of truth (not written back)`);

// 4. Remove it again: its keys route back to where they were stored, and hit.
await client.removeServer(dead);
r = await client.getMultiSettled(keys.slice(0, STORED), BIG);
console.log(`4. removed ${dead}: ${fmt(r.values.size)} hits, ${r.errors.size} errors (the moved keys are back on their old servers)`);
ok &&= r.values.size === STORED && r.errors.size === 0;

await client.deleteMulti(keys.slice(0, STORED), BIG).catch(() => {});
await client.close();
console.log(ok ? 'large-fleet example: ok' : 'large-fleet example: FAILED');
process.exit(ok ? 0 : 1);

/** `127.0.0.1:<port>` where nothing listens: connections are refused at once. */
async function closedPortAddress() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return `127.0.0.1:${port}`;
}

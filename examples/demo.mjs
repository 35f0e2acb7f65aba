#!/usr/bin/env node
// memcluster demo (`npm run demo`): a 3-server memcached cluster on this machine, and what the client
// does with it: consistent hashing, capped multi-get batches (on the meta protocol, counted by the
// servers themselves), a frozen server (SIGSTOP), a killed and restarted server (SIGKILL), and the
// pool statistics. Every claim it prints is checked; it exits 0
// only when all of them held, and 1 with the reason otherwise.
//
// With MEMCLUSTER_SERVERS=host:port,host:port it uses those servers instead of starting its own, and
// skips the steps that need to stop or kill a local process.
//
// Run it after a build (`npm run demo` does both), from the repository root or anywhere else.
import { Client, MemclusterError } from 'memcluster';
import { MemcachedServer, stopAll } from 'memcluster/testing';
import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import os from 'node:os';

// Short timeouts so failures show up in well under a second.
const OPTIONS = { timeoutMs: 500, retryDelayMs: 100, maxRetryDelayMs: 1000, maxBatchKeys: 100, maxBatchBytes: 2000 };
// timeoutMs bounds a whole call, a multi-key one included: the big calls pass their own.
const BIG_CALL = { timeoutMs: 10_000 };
const SPREAD_KEYS = 3_000;
const PAGES = 400;
const FRAGMENTS_PER_PAGE = 50; // 400 pages x 50 fragments = 20,000 keys
// What a new socket sends before its first request: "version\r\n" (learns whether the server speaks
// meta) and "mn\r\n" (proves the socket); a pooled socket is proven again with "mn\r\n" on borrow.
const NEW_SOCKET_BYTES = 'version\r\n'.length + 'mn\r\n'.length;
const VALIDATION_BYTES = 'mn\r\n'.length;
const STATS_BYTES = 'stats\r\n'.length;
const CALLS_AFTER_RESTART = 2_000;
const DEADLINE_MS = 50_000;

const external = (process.env.MEMCLUSTER_SERVERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const t0 = performance.now();
const started = []; // every memcached pid this demo started, in order
const summary = []; // [step, result, seconds]
let client;
let servers = []; // MemcachedServer (local mode) or undefined
let stepName = 'start';
let interrupted = false;

// ---------------------------------------------------------------- output helpers

const fmt = (n) => n.toLocaleString('en-US');
const ms = (x) => (x < 10 ? `${x.toFixed(1)} ms` : `${Math.round(x)} ms`);
const secs = (x) => `${(x / 1000).toFixed(1)} s`;
const at = () => `+${((performance.now() - t0) / 1000).toFixed(2)} s`;
// After Ctrl-C, only the interrupt handler still prints (the steps may fail on the way out).
const say = (line = '') => void (interrupted || process.stdout.write(`${line}\n`));
const sayAlways = (line = '') => void process.stdout.write(`${line}\n`);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function table(header, rows, indent = '  ') {
  // Numbers are right-aligned (with thousands separators), text left-aligned.
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? { text: fmt(c), right: true } : { text: String(c), right: /^[\d,.]+( ms| s|%)?$/.test(String(c)) })));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].text.length)));
  const line = (row) => indent + row.map((c, i) => (c.right ? lpad(c.text, widths[i]) : pad(c.text, widths[i]))).join('  ').trimEnd();
  say(line(header.map((h, i) => ({ text: h, right: cells.length > 0 && cells[0][i].right }))));
  say(indent + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells) say(line(r));
}

class StepFailed extends Error {}
function check(ok, message) {
  if (!ok) throw new StepFailed(message);
}

/** What the client's 'auto' protocol picks for a server of this version (>= 1.6.10: meta). */
function speaksMetaByVersion(version) {
  const [major, minor, patch] = String(version).split('.').map((x) => parseInt(x, 10));
  return major > 1 || (major === 1 && (minor > 6 || (minor === 6 && patch >= 10)));
}

/**
 * Runs `fn` while listening to the client's `memcluster:batch` trace (one per multi-key request sent
 * to one server) and returns its result with the batches seen: server -> key counts.
 */
async function withBatchTrace(fn) {
  const channel = diagnostics.tracingChannel('memcluster:batch');
  const seen = new Map();
  const handlers = { start: (ctx) => void (seen.get(ctx.server) ?? seen.set(ctx.server, []).get(ctx.server)).push(ctx.keys) };
  channel.subscribe(handlers);
  try {
    return [await fn(), seen];
  } finally {
    channel.unsubscribe(handlers);
  }
}

/** Waits (up to 2 s) until every pool of `c` has all its sockets back and none opening. */
async function poolsAtRest(c) {
  for (let i = 0; i < 200; i++) {
    await new Promise((res) => setTimeout(res, 10));
    if (c.serverStats().every((s) => s.borrowed === 0 && s.size === s.free)) return;
  }
  throw new StepFailed(`the pools did not come to rest: ${c.serverStats().map((s) => `${s.server} size ${s.size} free ${s.free} borrowed ${s.borrowed}`).join('; ')}`);
}

function describeError(err) {
  return `${err.constructor.name}  code ${err.code}  server ${err.server}`;
}

/** Counts errors by class + code + server: the shape a person needs to see. */
function errorKinds(errors) {
  const kinds = new Map();
  for (const e of errors.values()) {
    const k = e instanceof MemclusterError ? describeError(e) : String(e);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  return kinds;
}

/** 'T' for a stopped process, 'S'/'R' running, 'Z' zombie; undefined where there is no /proc. */
function procState(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
  } catch {
    return undefined;
  }
}

function isGone(pid) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'ESRCH';
  }
  return procState(pid) === 'Z';
}

/** Resolves with the next `event` for `server`, or rejects after `timeoutMs`. */
function nextEvent(event, server, timeoutMs) {
  const p = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, on);
      reject(new StepFailed(`no ${event} event for ${server} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (p) => {
      if (p.server !== server) return;
      clearTimeout(timer);
      client.off(event, on);
      resolve(p);
    };
    client.on(event, on);
  });
  p.catch(() => {}); // awaited later; a step that fails before that must not leave it unhandled
  return p;
}

async function timed(fn) {
  const s = performance.now();
  const value = await fn();
  return [value, performance.now() - s];
}

// ---------------------------------------------------------------- setup and cleanup

let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    // A ref'd timer keeps the process alive until everything below has settled.
    const keepAlive = setInterval(() => {}, 1000);
    await client?.close().catch(() => {});
    await stopAll();
    clearInterval(keepAlive);
  })();
  return cleaning;
}

// Ctrl-C: stop (and reap) the servers first, then exit with the conventional status. This handler
// stays registered, so the harness's own signal handler (which SIGKILLs its servers at once) does
// not re-raise the signal before the servers are confirmed gone. A second Ctrl-C exits at once.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    const code = sig === 'SIGINT' ? 130 : 143;
    if (interrupted) process.exit(code);
    sayAlways(`\ninterrupted (${sig}) during ${stepName}: stopping the memcached servers this demo started`);
    interrupted = true;
    setInterval(() => {}, 1000); // stay alive until the servers are reaped
    stopAll().finally(() => {
      const alive = started.filter((pid) => !isGone(pid));
      sayAlways(`memcached pids started: ${started.join(' ')}; still running: ${alive.length === 0 ? 'none' : alive.join(' ')}`);
      process.exit(code);
    });
  });
}

const watchdog = setTimeout(() => {
  say(`\nFAILED: the demo did not finish within ${DEADLINE_MS / 1000} s (stuck in: ${stepName})`);
  process.exitCode = 1;
  cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);
watchdog.unref();

// ---------------------------------------------------------------- the steps

async function main() {
  say('memcluster demo');
  say('===============');
  let addresses;
  if (external.length > 0) {
    addresses = external;
    say(`MEMCLUSTER_SERVERS is set: using ${external.length} existing server(s); the freeze and kill steps need`);
    say('processes this demo started, so they are skipped. Keys get a unique prefix and a 5-minute TTL.');
  } else {
    stepName = 'starting memcached';
    say('Starting 3 memcached servers on free loopback ports (they are stopped when the demo ends, also on Ctrl-C):');
    servers = await Promise.all([0, 1, 2].map(() => MemcachedServer.start({ args: ['-t', '1'] })));
    addresses = servers.map((s) => s.address);
    for (const s of servers) started.push(s.pid);
  }
  const keyPrefix = external.length > 0 ? `demo-${Date.now().toString(36)}:` : '';
  const ttl = external.length > 0 ? 300 : 0;
  client = new Client(addresses, { ...OPTIONS, keyPrefix });
  // The client's own labels (host:port), which its events, errors and stats use.
  addresses = client.serverStats().map((s) => s.server);
  const names = new Map(addresses.map((a, i) => [a, String.fromCharCode(65 + i)])); // A, B, C...
  const name = (server) => names.get(server) ?? server;
  for (const [i, a] of addresses.entries()) say(`  ${name(a)}  ${a}${servers[i] ? `  pid ${servers[i].pid}` : ''}`);
  if (started.length > 0) say(`memcached pids started: ${started.join(' ')}`);
  say(`Client options: ${Object.entries(OPTIONS).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  say(`  timeoutMs is short on purpose (steps 3 and 4 show calls settling within it). It bounds a whole call,`);
  say(`  so the big multi-key calls of steps 1 and 2 pass their own: { timeoutMs: ${fmt(BIG_CALL.timeoutMs)} }.`);

  const evicted = []; // connectionEvicted payloads, for per-step counts
  client.on('connectionEvicted', (p) => evicted.push(p));
  client.on('serverDown', (p) => say(`  <- event serverDown  ${name(p.server)} ${p.server} after ${p.failures} consecutive failures (${at()})`));
  client.on('serverUp', (p) => say(`  <- event serverUp    ${name(p.server)} ${p.server} after ${ms(p.downForMs)} down (${at()})`));
  client.on('error', (e) => say(`  <- event error ${e.message}`));

  const versions = await client.version();
  say(`Versions: ${addresses.map((a) => `${name(a)} ${versions.get(a)}`).join(', ')}`);
  const metaServers = addresses.filter((a) => speaksMetaByVersion(versions.get(a)));
  say(`Protocol: option protocol 'auto' (the default) speaks meta to servers that prove they support it`);
  say(`  (memcached >= 1.6.10), classic text to others. By their versions: ${addresses.map((a) => `${name(a)} ${metaServers.includes(a) ? 'meta' : 'text'}`).join(', ')}`);

  // ---- 1. consistent hashing
  stepName = 'step 1 (key spread)';
  say('');
  say(`[1/5] Consistent hashing: ${fmt(SPREAD_KEYS)} keys spread over ${addresses.length} servers`);
  const s1 = performance.now();
  const userKeys = Array.from({ length: SPREAD_KEYS }, (_, i) => `user:${String(i + 1).padStart(5, '0')}`);
  const userValue = (k) => ({ id: k, name: `user ${k.slice(5)}`, plan: 'free' });
  const before1 = await client.stats();
  for (let i = 0; i < userKeys.length; i += 1000) {
    await client.setMulti(userKeys.slice(i, i + 1000).map((k) => [k, userValue(k)]), { ttl, ...BIG_CALL });
  }
  const after1 = await client.stats();
  const read1 = await client.getMulti(userKeys, BIG_CALL);
  check(read1.size === SPREAD_KEYS, `read back ${read1.size} of ${SPREAD_KEYS} keys`);
  for (const k of userKeys) check(JSON.stringify(read1.get(k)) === JSON.stringify(userValue(k)), `value of ${k} differs`);
  const held = new Map(addresses.map((a) => [a, Number(after1.get(a).curr_items) - Number(before1.get(a).curr_items)]));
  say(`  setMulti in 3 calls of 1,000; curr_items on each server (from client.stats()):`);
  table(['server', 'address', 'keys', 'share'], addresses.map((a) => {
    const n = held.get(a);
    return [name(a), a, n, `${lpad(((100 * n) / SPREAD_KEYS).toFixed(1), 4)}%  ${'#'.repeat(Math.round((60 * n) / SPREAD_KEYS))}`];
  }));
  const total1 = [...held.values()].reduce((x, y) => x + y, 0);
  if (external.length === 0) check(total1 === SPREAD_KEYS, `servers hold ${total1} new items, expected ${SPREAD_KEYS}`);
  for (const [a, n] of held) check(n > 0, `server ${a} got no keys`);
  say(`  ok: every key stored on exactly one server (${fmt(total1)} items in total), all ${fmt(SPREAD_KEYS)} read back and equal`);
  summary.push(['1 keys spread by consistent hashing', addresses.map((a) => `${name(a)} ${fmt(held.get(a))}`).join(' / '), performance.now() - s1]);

  // ---- 2. capped batches
  summary.push(await batchStep(name, keyPrefix, ttl, addresses, metaServers));

  if (external.length > 0) {
    say('');
    say('[3/5] Frozen server: skipped (MEMCLUSTER_SERVERS is set; this demo did not start those processes)');
    say('[4/5] Killed and restarted server: skipped (MEMCLUSTER_SERVERS is set)');
    summary.push(['3 frozen server (SIGSTOP)', 'skipped: MEMCLUSTER_SERVERS is set', 0]);
    summary.push(['4 killed + restarted server', 'skipped: MEMCLUSTER_SERVERS is set', 0]);
  } else {
    await frozenStep(servers[1], name, held, userKeys, evicted);
    await killStep(servers[2], name, held, userKeys, evicted);
  }

  // ---- 5. statistics
  stepName = 'step 5 (statistics)';
  say('');
  say('[5/5] Pool and validation statistics (client.serverStats())');
  // A socket goes back to the pool one event-loop turn after its last reply: let that happen first.
  await new Promise((res) => setTimeout(res, 20));
  const st = client.serverStats();
  table(
    ['server', 'address', 'state', 'size', 'free', 'borrowed', 'opening', 'created', 'evicted', 'validations', 'validationFailures'],
    st.map((s) => [name(s.server), s.server, s.state, s.size, s.free, s.borrowed, s.size - s.free - s.borrowed, s.created, s.evicted, s.validations, s.validationFailures]),
  );
  say('  size = free + borrowed + opening (connects in progress, paced by the create backoff after failures)');
  say('  created/evicted: sockets since start; validations: borrow-time "mn" checks of pooled sockets');
  for (const s of st) check(s.state === 'up', `${s.server} is ${s.state} at the end`);
  if (external.length === 0) {
    const b = st.find((s) => s.server === servers[1].address);
    const c = st.find((s) => s.server === servers[2].address);
    check(b.validationFailures > 0 || b.evicted > 0, 'the frozen server shows neither validation failures nor evictions');
    check(c.evicted > 0, 'the killed server shows no evicted sockets');
  }
  say(external.length > 0 ? '  ok: every server is up' : '  ok: every server is up again; the failures of steps 3 and 4 show in evicted and validationFailures');
  summary.push(['5 pool statistics', `${st.length} servers up, ${st.reduce((x, s) => x + s.evicted, 0)} sockets evicted in total`, 0]);
}

// ---- 2. capped batches
async function batchStep(name, keyPrefix, ttl, addresses, metaServers) {
  stepName = 'step 2 (multi-get batches)';
  say('');
  const nFrag = PAGES * FRAGMENTS_PER_PAGE;
  say(`[2/5] A ${fmt(nFrag)}-key page-fragment multi-get, split into capped batches per server`);
  const s1 = performance.now();
  const fragKeys = [];
  for (let p = 0; p < PAGES; p++) for (let f = 0; f < FRAGMENTS_PER_PAGE; f++) fragKeys.push(`page:${String(p).padStart(4, '0')}:frag:${String(f).padStart(2, '0')}`);
  const fragValue = (k) => `<section data-key="${k}">fragment ${k.slice(-2)} of page ${k.slice(5, 9)}</section>`;
  const [, loadMs] = await timed(async () => {
    // Chunks of 1,000: one setMulti call serializes all its items before yielding to the event loop.
    for (let i = 0; i < fragKeys.length; i += 1000) await client.setMulti(fragKeys.slice(i, i + 1000).map((k) => [k, fragValue(k)]), { ttl, ...BIG_CALL });
  });
  say(`  stored ${fmt(nFrag)} fragments (setMulti, ${nFrag / 1000} calls of 1,000 with { timeoutMs: ${fmt(BIG_CALL.timeoutMs)} }) in ${ms(loadMs)}`);

  // The client cuts a multi-key read into batches of at most maxBatchKeys keys, and of no more keys
  // than one classic "get k1 k2 ...\r\n" line of maxBatchBytes holds (5 bytes + 1 + key bytes per key).
  const keyBytes = Buffer.byteLength(keyPrefix + fragKeys[0]);
  const cap = Math.min(OPTIONS.maxBatchKeys, Math.floor((OPTIONS.maxBatchBytes - 5) / (keyBytes + 1)));
  const binding = cap < OPTIONS.maxBatchKeys
    ? `maxBatchBytes ${fmt(OPTIONS.maxBatchBytes)} binds first: ${cap} keys of ${keyBytes} bytes fill a classic get line, and meta batches are cut the same way`
    : `maxBatchKeys ${OPTIONS.maxBatchKeys} binds; a classic get line of ${cap} such keys is ${fmt(5 + cap * (keyBytes + 1))} bytes, within maxBatchBytes ${fmt(OPTIONS.maxBatchBytes)}`;
  const mgLine = `mg ${keyPrefix}${fragKeys[0]} v f k q`;
  const mgBytes = Buffer.byteLength(mgLine) + 2;
  const allMeta = metaServers.length === addresses.length;
  say(`  keys like "${keyPrefix}${fragKeys[0]}" (${keyBytes} bytes); batch cap: ${cap} keys`);
  say(`  (${binding})`);
  if (metaServers.length > 0) {
    say(`  on meta${allMeta ? '' : ` (${metaServers.map(name).join(', ')})`}: one short quiet line per key, "${mgLine}" = ${mgBytes} bytes with CRLF`);
    say(`  (only hits answer), and "mn" (4 bytes) closing each batch: its "MN" reply says every line before it was answered`);
  }
  if (!allMeta) say(`  on text (${addresses.filter((a) => !metaServers.includes(a)).map(name).join(', ')}): one "get k1 k2 ...\\r\\n" line per batch`);

  const measure = async (c, call) => {
    // Snapshots through the same client, so its pool counters cover every socket check they cost,
    // each taken with no socket half-open (one that has sent "version" but is not counted yet).
    await poolsAtRest(c);
    const before = await c.stats();
    await poolsAtRest(c);
    const pool = new Map(c.serverStats().map((s) => [s.server, s]));
    const [[result, took], traced] = await withBatchTrace(() => timed(call));
    await poolsAtRest(c);
    const after = await c.stats();
    await poolsAtRest(c);
    const poolAfter = new Map(c.serverStats().map((s) => [s.server, s]));
    return { result, took, traced, server: (a) => {
      const d = (stat) => Number(after.get(a)[stat]) - Number(before.get(a)[stat]);
      const p = (field) => poolAfter.get(a)[field] - pool.get(a)[field];
      // bytes_read less what the pools sent (new sockets, borrow checks) and the "stats" of the snapshot.
      const requestBytes = d('bytes_read') - NEW_SOCKET_BYTES * p('created') - VALIDATION_BYTES * p('validations') - STATS_BYTES;
      const sizes = traced.get(a) ?? [];
      const sent = sizes.reduce((x, y) => x + y, 0);
      return { keys: d('cmd_get'), hits: d('get_hits'), requestBytes, sent, batches: sizes.length, largest: Math.max(0, ...sizes) };
    } };
  };

  const m = await measure(client, () => client.getMulti(fragKeys, BIG_CALL));
  check(m.result.size === nFrag, `getMulti returned ${m.result.size} of ${nFrag} fragments`);
  for (const k of fragKeys) check(m.result.get(k) === fragValue(k), `fragment ${k} has the wrong value`);
  const rows = [];
  let batches = 0;
  let asked = 0;
  let largest = 0;
  for (const a of addresses) {
    const s = m.server(a);
    const expected = Math.ceil(s.sent / cap);
    check(s.hits === s.keys, `${a}: ${s.keys - s.hits} misses`);
    if (external.length === 0) check(s.keys === s.sent, `${a} counted ${s.keys} keys (cmd_get), but the client sent it ${s.sent}`);
    check(s.batches === expected, `${a}: the client sent ${s.batches} batches for ${s.sent} keys, expected ${expected}`);
    check(s.largest <= cap, `${a}: a batch of ${s.largest} keys, over the cap of ${cap}`);
    const row = [name(a), a, metaServers.includes(a) ? 'meta' : 'text', s.keys, s.hits, s.batches, s.largest];
    if (external.length === 0) {
      // Every byte the server read is accounted for: one mg line of mgBytes per key plus a 4-byte mn
      // per batch (meta), or a 5-byte "get" + CRLF per line plus 1 + key bytes per key (text).
      const meta = metaServers.includes(a);
      const fences = meta ? (s.requestBytes - s.keys * mgBytes) / 4 : (s.requestBytes - s.keys * (keyBytes + 1)) / 5;
      check(fences === s.batches, `${a} read ${fmt(s.requestBytes)} request bytes for ${fmt(s.keys)} keys: that is ${fences} ${meta ? 'mn fences' : 'get lines'} by its bytes_read, but the client sent ${s.batches} batches`);
      row.push(fences);
    }
    rows.push(row);
    batches += s.batches;
    asked += s.keys;
    largest = Math.max(largest, s.largest);
  }
  if (external.length === 0) check(asked === nFrag, `servers were asked for ${asked} keys, expected ${nFrag} (each key once)`);
  say(`  getMulti(${fmt(nFrag)} keys, { timeoutMs: ${fmt(BIG_CALL.timeoutMs)} }): ${fmt(m.result.size)} hits, every value verified, in ${ms(m.took)}`);
  const header = ['server', 'address', 'protocol', 'keys asked', 'hits', 'batches sent', 'largest batch'];
  if (external.length === 0) header.push(allMeta ? 'mn fences seen by server' : 'batches seen by server');
  table(header, rows);
  say(`  keys asked, hits: the server's cmd_get, get_hits deltas; batches sent, largest batch: the client's memcluster:batch trace`);
  if (external.length === 0 && allMeta) {
    say(`  mn fences seen = (the server's bytes_read delta - ${mgBytes} x keys asked - the pool's socket checks - the "stats" call) / 4:`);
    say(`  every byte the server read is a ${mgBytes}-byte mg line or a 4-byte mn, so no longer line was sent`);
  } else if (external.length === 0) {
    say(`  batches seen: from the server's bytes_read delta, less the keys, the pool's socket checks and the "stats" call`);
  }
  const lineWords = allMeta ? `one ${mgBytes}-byte mg line per key (no long line at all)` : 'request lines within the caps';
  // On shared servers (MEMCLUSTER_SERVERS) other clients' reads count too.
  const once = asked === nFrag ? 'each key asked once' : `the servers counted ${fmt(asked)} keys (other clients share them)`;
  say(`  ok: ${once}, ${lineWords}; ${fmt(batches)} batches of at most ${largest} keys (cap ${cap})`);

  // The same keys from a client forced to the classic text protocol (what servers without meta get):
  // here the caps bound the length of real request lines.
  let textNote = '';
  if (allMeta) {
    say(`  The same getMulti from a client with protocol: 'text' (for servers or proxies without meta):`);
    const textClient = new Client(addresses, { ...OPTIONS, keyPrefix, protocol: 'text' });
    try {
      const t = await measure(textClient, () => textClient.getMulti(fragKeys, BIG_CALL));
      check(t.result.size === nFrag, `the text client read ${t.result.size} of ${nFrag} fragments`);
      let lines = 0;
      let longest = 0;
      for (const a of addresses) {
        const s = t.server(a);
        check(s.hits === s.keys && s.batches === Math.ceil(s.sent / cap) && s.largest <= cap, `${a} (text): ${s.keys} keys, ${s.hits} hits, ${s.batches} lines of up to ${s.largest} keys`);
        if (external.length === 0) {
          const seen = (s.requestBytes - s.keys * (keyBytes + 1)) / 5;
          check(seen === s.batches, `${a} (text) received ${seen} get lines by its bytes_read, but the client sent ${s.batches}`);
        }
        lines += s.batches;
        longest = Math.max(longest, s.largest);
      }
      const longestBytes = 5 + longest * (keyBytes + 1);
      check(longestBytes <= OPTIONS.maxBatchBytes, `a ${longestBytes}-byte get line`);
      say(`    ${fmt(t.result.size)} hits in ${ms(t.took)}, in ${fmt(lines)} "get k1 k2 ..." lines of at most ${longest} keys / ${fmt(longestBytes)} bytes`);
      say(`    (caps: maxBatchKeys ${OPTIONS.maxBatchKeys}, maxBatchBytes ${fmt(OPTIONS.maxBatchBytes)})${external.length === 0 ? '; the line count checked against each server\'s bytes_read as above' : ''}`);
      textNote = `; text: ${fmt(lines)} get lines`;
    } finally {
      await textClient.close();
    }
  }
  return [`2 ${fmt(nFrag)}-key multi-get in capped batches`, `${fmt(m.result.size)} hits in ${fmt(batches)} batches of <= ${cap} keys (${ms(m.took)})${textNote}`, performance.now() - s1];
}

// ---- 3. frozen server
async function frozenStep(server, name, held, userKeys, evicted) {
  stepName = 'step 3 (frozen server)';
  const B = server.address;
  const onB = held.get(B);
  say('');
  say(`[3/5] Server ${name(B)} frozen with SIGSTOP (pid ${server.pid}): connects still succeed, nothing is answered`);
  const s1 = performance.now();
  const evictedBefore = evicted.length;
  const down = nextEvent('serverDown', B, 10_000);
  server.freeze();
  // The signal takes effect asynchronously: wait (briefly) until the kernel reports the process stopped.
  let state = procState(server.pid);
  for (let i = 0; state && state !== 'T' && i < 100; i++) {
    await new Promise((res) => setTimeout(res, 10));
    state = procState(server.pid);
  }
  if (state) check(state === 'T', `pid ${server.pid} is in state ${state} 1 s after SIGSTOP, not T (stopped)`);
  say(`  process state: ${state === 'T' ? 'T (stopped)' : 'unknown (no /proc)'}`);

  let round = 0;
  let downSeen = false;
  void down.then(() => (downSeen = true), () => {});
  let first;
  let firstMs;
  // Until the client has seen enough consecutive failures, B's keys wait at most timeoutMs.
  while (!downSeen) {
    check(++round <= 10, `${B} not marked down after 10 rounds`);
    say(`  getMultiSettled(${fmt(userKeys.length)} keys), round ${round}:`);
    const [r, took] = await timed(() => client.getMultiSettled(userKeys));
    check(r.errors.size > 0, `${B} answered while frozen (process state ${procState(server.pid)}): did something send it SIGCONT?`);
    check(r.values.size + r.errors.size === userKeys.length, 'a key is neither served nor failed');
    check(r.errors.size === onB, `${r.errors.size} keys failed, but ${name(B)} holds ${onB}`);
    for (const e of r.errors.values()) check(e instanceof MemclusterError && e.server === B, `an error does not name ${B}: ${e}`);
    say(`    ${fmt(r.values.size)} served by the others, ${fmt(r.errors.size)} failed (exactly ${name(B)}'s keys) in ${ms(took)}${round === 1 ? `, bounded by timeoutMs ${OPTIONS.timeoutMs}` : ''}`);
    for (const [kind, n] of errorKinds(r.errors)) say(`    ${fmt(n)} x ${kind}`);
    if (round === 1) {
      first = r;
      firstMs = took;
      say(`    e.g. ${r.errors.values().next().value.message}`);
    }
    await new Promise((res) => setImmediate(res));
  }
  await down;
  check(first.errors.size === onB, 'unexpected failures');

  // Marked down: B's keys now fail at once, before anything is written.
  const [r2, took2] = await timed(() => client.getMultiSettled(userKeys));
  check(r2.errors.size === onB && r2.values.size === userKeys.length - onB, `while down: ${r2.values.size} served, ${r2.errors.size} failed`);
  const keyOnB = [...r2.errors.keys()][0];
  let single;
  const [, singleMs] = await timed(async () => {
    try {
      await client.get(keyOnB);
    } catch (e) {
      single = e;
    }
  });
  check(single instanceof MemclusterError && single.code === 'MC_ERR_SERVER_UNAVAILABLE' && single.server === B, `get(${keyOnB}) while down: ${single}`);
  check(singleMs < 50, `get(${keyOnB}) took ${ms(singleMs)} while the server is marked down`);
  say(`  ${name(B)} is marked down; getMultiSettled(${fmt(userKeys.length)} keys) again:`);
  say(`    ${fmt(r2.values.size)} served, ${fmt(r2.errors.size)} failed fast, nothing sent to ${name(B)} (whole call ${ms(took2)})`);
  for (const [kind, n] of errorKinds(r2.errors)) say(`    ${fmt(n)} x ${kind}`);
  say(`  get("${keyOnB}") -> ${single.constructor.name} (${single.code}, server ${single.server}) in ${ms(singleMs)}`);

  // SIGCONT: the probe (a fresh socket that must answer "mn") brings it back.
  const up = nextEvent('serverUp', B, 5_000);
  server.thaw();
  say(`  SIGCONT sent to pid ${server.pid}; waiting for the health probe (every ${OPTIONS.retryDelayMs}..${OPTIONS.maxRetryDelayMs} ms)`);
  await up;
  const r3 = await client.getMultiSettled(userKeys);
  check(r3.errors.size === 0 && r3.values.size === userKeys.length, `after serverUp: ${r3.values.size} served, ${r3.errors.size} failed`);
  const evictedHere = evicted.length - evictedBefore;
  say(`  after serverUp: all ${fmt(r3.values.size)} keys served, ${name(B)}'s ${fmt(onB)} included (a stopped process keeps its data)`);
  say(`  ok: typed errors naming ${name(B)}, the others served throughout, down then up; ${evictedHere} of its sockets evicted`);
  const firstKinds = [...new Set([...first.errors.values()].map((e) => e.constructor.name))].join('/');
  summary.push([`3 frozen server ${name(B)} (SIGSTOP)`, `${firstKinds} in ${ms(firstMs)}, then fail fast (${ms(singleMs)}); down, up`, performance.now() - s1]);
}

// ---- 4. killed and restarted server
async function killStep(server, name, held, userKeys, evicted) {
  stepName = 'step 4 (killed server)';
  const C = server.address;
  const onC = held.get(C);
  say('');
  const oldPid = server.pid;
  say(`[4/5] Server ${name(C)} killed with SIGKILL (pid ${oldPid}) and restarted on the same port`);
  const s1 = performance.now();
  await new Promise((res) => setTimeout(res, 20)); // let the last borrowed sockets go back to the pool
  const pool = client.serverStats().find((s) => s.server === C);
  const open = pool.free + pool.borrowed;
  check(open > 0, `the pool of ${C} holds no sockets before the kill`);
  say(`  before: ${name(C)}'s pool holds ${open} open sockets (${pool.free} free)`);
  const evictedBefore = evicted.length;
  const down = nextEvent('serverDown', C, 10_000);
  await server.kill();
  // Idle pooled sockets see the EOF/RST at once and are evicted, not handed out later.
  const waitUntil = performance.now() + 2000;
  while (evicted.length - evictedBefore < open && performance.now() < waitUntil) await new Promise((res) => setTimeout(res, 10));
  const ev = evicted.slice(evictedBefore).filter((p) => p.server === C);
  check(ev.length >= open, `${ev.length} connectionEvicted events for ${open} open sockets`);
  const reasons = new Map();
  for (const p of ev) reasons.set(`${p.reason.constructor.name}: ${p.reason.message}`, (reasons.get(`${p.reason.constructor.name}: ${p.reason.message}`) ?? 0) + 1);
  say(`  <- ${ev.length} connectionEvicted events for ${name(C)} (one per pooled socket):`);
  for (const [r, n] of reasons) say(`    ${n} x ${r}`);

  say(`  getMultiSettled(${fmt(userKeys.length)} keys) with ${name(C)} dead:`);
  const [r1, took1] = await timed(() => client.getMultiSettled(userKeys));
  check(r1.errors.size === onC, `${r1.errors.size} keys failed with ${name(C)} dead, but it held ${onC}`);
  for (const e of r1.errors.values()) check(e instanceof MemclusterError && e.server === C, `an error does not name ${C}: ${e}`);
  say(`    ${fmt(r1.values.size)} served by the others, ${fmt(r1.errors.size)} failed (exactly ${name(C)}'s keys) in ${ms(took1)}`);
  for (const [kind, n] of errorKinds(r1.errors)) say(`    ${fmt(n)} x ${kind}`);
  say(`    e.g. ${r1.errors.values().next().value.message}`);
  // Connection refused counts as a failure per attempt, so the server is marked down quickly.
  for (let i = 0; i < 10 && !client.serverStats().find((s) => s.server === C && s.state === 'down'); i++) {
    await client.getMultiSettled(userKeys.slice(0, 300));
  }
  await down;

  const up = nextEvent('serverUp', C, 8_000);
  await server.restart();
  started.push(server.pid);
  say(`  restarted ${name(C)} on ${C}: new pid ${server.pid} (an empty memcached)`);
  await up;

  const r2 = await client.getMultiSettled(userKeys);
  check(r2.errors.size === 0, `after serverUp: ${r2.errors.size} errors`);
  check(r2.values.size === userKeys.length - onC, `after restart: ${r2.values.size} hits, expected ${userKeys.length - onC}`);
  say(`  after serverUp: ${fmt(r2.values.size)} hits, ${fmt(userKeys.length - r2.values.size)} misses (${name(C)}'s keys: it restarted empty), 0 errors`);

  // Traffic after the restart: every call must succeed, on all three servers.
  let failures = 0;
  const failKinds = new Map();
  const [, took3] = await timed(async () => {
    const keys = Array.from({ length: CALLS_AFTER_RESTART / 2 }, (_, i) => `after-restart:${i}`);
    for (let i = 0; i < keys.length; i += 100) {
      const chunk = keys.slice(i, i + 100);
      const results = await Promise.allSettled([
        ...chunk.map((k) => client.set(k, { k, n: i })),
      ]);
      const gets = await Promise.allSettled(chunk.map((k) => client.get(k)));
      for (const [j, r] of [...results, ...gets].entries()) {
        const bad = r.status === 'rejected' ? r.reason : j >= chunk.length && r.value?.k !== chunk[j - chunk.length] ? new Error('wrong value') : r.value === false ? new Error('not stored') : undefined;
        if (bad) {
          failures++;
          failKinds.set(bad.constructor.name, (failKinds.get(bad.constructor.name) ?? 0) + 1);
        }
      }
    }
  });
  check(failures === 0, `${failures} of ${CALLS_AFTER_RESTART} calls failed after the restart: ${[...failKinds].map(([k, n]) => `${n} x ${k}`).join(', ')}`);
  const evictedHere = evicted.length - evictedBefore;
  say(`  ${fmt(CALLS_AFTER_RESTART)} calls after serverUp (${fmt(CALLS_AFTER_RESTART / 2)} set + ${fmt(CALLS_AFTER_RESTART / 2)} get, 100 at a time): 0 failures, every value verified, in ${ms(took3)}`);
  say(`  ok: broken sockets evicted (${evictedHere} events), typed errors naming ${name(C)} while dead, zero failures once back`);
  summary.push([`4 killed + restarted server ${name(C)}`, `${evictedHere} sockets evicted; 0 failures in ${fmt(CALLS_AFTER_RESTART)} calls`, performance.now() - s1]);
}

// ---------------------------------------------------------------- run

let failed;
let failedIn;
try {
  await main();
} catch (err) {
  failed = err;
  failedIn = stepName;
}
if (interrupted) await new Promise(() => {}); // the signal handler cleans up and exits
stepName = 'cleanup';
await cleanup();
clearTimeout(watchdog);

say('');
say('Summary');
table(['step', 'result', 'time'], summary.map(([step, result, t]) => [step, result, t ? secs(t) : '-']));
if (started.length > 0) {
  const alive = started.filter((pid) => !isGone(pid));
  say(`memcached pids started: ${started.join(' ')}; still running: ${alive.length === 0 ? 'none' : alive.join(' ')}`);
  if (alive.length > 0 && !failed) {
    failed = new StepFailed(`memcached pids still running after cleanup: ${alive.join(' ')}`);
    failedIn = 'cleanup';
  }
}
if (failed) {
  say('');
  if (failed instanceof StepFailed) say(`FAILED in ${failedIn}: ${failed.message}`);
  else if (failed instanceof MemclusterError) {
    say(`FAILED in ${failedIn}: ${failed.constructor.name} (${failed.code}): ${failed.message}`);
    // A multi-key call carries one error per failed key: show what kinds, and one in full.
    if (failed.errors instanceof Map && failed.errors.size > 0) {
      for (const [kind, n] of errorKinds(failed.errors)) say(`  ${fmt(n)} x ${kind}`);
      say(`  e.g. ${failed.errors.values().next().value.message}`);
    }
  } else say(`FAILED in ${failedIn}: ${failed.stack ?? failed}`);
  const [load] = os.loadavg();
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  if (load > cpus) {
    say(`note: this machine is busy (load average ${load.toFixed(1)} on ${cpus} CPUs) and the demo uses ${OPTIONS.timeoutMs} ms`);
    say('timeouts on purpose, so a starved server or client can miss them: run it again when it is quieter.');
  }
  process.exit(1);
}
say(`All steps passed in ${secs(performance.now() - t0)}.`);
process.exit(0);

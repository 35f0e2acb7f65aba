// @ts-check
/**
 * memcluster benchmark: `npm run bench` (full) or `npm run bench -- --quick`.
 *
 * Starts 3 local memcached servers, seeds 100,000 keys, then runs every workload for every client
 * round by round (the client order rotates each round), and reports medians and ratios to the
 * hand-written baseline of the same run. Writes bench/results/latest.md and latest.json.
 * Exits 1 on any DATA LOSS (a wrong value, or a hit reported as a miss / a short getMulti) and on
 * any error from memcluster or the baseline; 0 otherwise. See bench/README.md.
 *
 * Options:
 *   --quick              a smoke test: 2 rounds of ~100 ms per run, 5 s cap; no trust/nocoalesce variants;
 *                        the 100,000-key calls in round 1 only, and only for the floor and memcluster (default)
 *   --rounds N           override the number of rounds
 *   --target-ms N        how long each run keeps starting operations
 *   --warm-ms N          how long the workload runs untimed just before each measured run (at
 *                        least one call; default 1000, --quick 20; 0: none). Not for the one run
 *                        isolated in a worker (memcached 2.2.2's getMulti of 100,000 keys)
 *   --cap-s N            time cap per run (did not finish after that)
 *   --workloads a,b      only these workload ids (get-seq, get-64, set-64, getmulti-100, ...)
 *   --clients a,b        only these client ids (baseline is always included)
 *   --no-write           do not write bench/results/
 *   --inject-loss        add a client that loses data on purpose, to see the DATA LOSS report (exits 1)
 *
 * A full run writes bench/results/latest.{md,json}; --quick writes latest-quick.*, and a run with
 * any other option latest-partial.* (both gitignored), so only full runs replace the committed results.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { startServers, stopAll } from 'memcluster/testing';
import { BaselineClient } from './baseline.mjs';
import { CLIENTS, LOSSY, TRACING_CHANNEL, traced } from './clients.mjs';
import { measureRun } from './measure.mjs';
import { hasDataLoss, metaReference, noiseReference, renderGoals, renderTable, speedGoals, summarize } from './report.mjs';
import { SEEDED_KEYS, WORKLOADS, valueFor } from './workloads.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'target-ms': { type: 'string' },
    'warm-ms': { type: 'string' },
    'cap-s': { type: 'string' },
    workloads: { type: 'string' },
    clients: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    'inject-loss': { type: 'boolean', default: false },
  },
});

const QUICK = args.quick;
const ROUNDS = Number(args.rounds ?? (QUICK ? 2 : 5));
const TARGET_MS = Number(args['target-ms'] ?? (QUICK ? 100 : 1000));
/** The untimed run of the same workload just before each measured run (see measure.mjs). */
const WARM_MS = Number(args['warm-ms'] ?? (QUICK ? 20 : 1000));
const CAP_S = Number(args['cap-s'] ?? (QUICK ? 5 : 20));
/**
 * The cap of one run of a workload: setMulti/deleteMulti of 100,000 keys also do untimed set-up
 * and read-back inside the run (seconds on a busy 2-core machine), so they get at least 30 s.
 * @param {import('./workloads.mjs').Workload} w
 */
const capSFor = (w) => Math.max(CAP_S, w.minCapS ?? 0);
/** `-t 1`: one worker thread per server. See bench/README.md ("Servers") for why. */
const SERVER_ARGS = ['-t', '1'];
const SERVER_MEMORY_MB = 256;
const SERVER_COUNT = 3;

/** Only a full, unfiltered run writes latest.*: quick and partial runs must not overwrite it. */
const OUT = args.workloads || args.clients || args['inject-loss'] || args.rounds || args['target-ms'] || args['warm-ms'] || args['cap-s'] ? 'latest-partial' : QUICK ? 'latest-quick' : 'latest';
const workloads = args.workloads ? WORKLOADS.filter((w) => args.workloads?.split(',').includes(w.id)) : WORKLOADS;
const clients = [
  ...(args.clients ? CLIENTS.filter((c) => c.id === 'baseline' || args.clients?.split(',').includes(c.id)) : CLIENTS),
  ...(args['inject-loss'] ? [LOSSY] : []),
];
if (workloads.length === 0 || clients.length === 0) {
  console.error(`no workloads/clients selected; workloads: ${WORKLOADS.map((w) => w.id).join(', ')}; clients: ${CLIENTS.map((c) => c.id).join(', ')}`);
  process.exit(2);
}

/**
 * Peers that cannot do a workload at all. In --quick mode they are skipped outright; in a full run
 * they run once and, after a did-not-finish, are not retried in later rounds.
 * @param {import('./clients.mjs').ClientSpec} spec @param {import('./workloads.mjs').Workload} w
 */
const cannotDo = (spec, w) => spec.id === 'memcached' && (w.keys ?? 0) >= 100_000;
/**
 * Why a run is skipped in --quick mode, if it is: memcached 2.2.2 cannot do 100,000 keys, and
 * memjs has no getMulti (100,000 concurrent gets take seconds), which a one-minute run cannot afford.
 * The 100,000-key calls take seconds each (and memcluster's variants add nothing there that the
 * default does not show), so --quick runs them in round 1 only, and for the default variant only.
 * @param {import('./clients.mjs').ClientSpec} spec @param {import('./workloads.mjs').Workload} w @param {number} round
 */
const quickSkip = (spec, w, round) =>
  cannotDo(spec, w) ? 'skipped in --quick (cannot do it)'
    : QUICK_SKIPS_VARIANT.includes(spec.id) ? 'skipped in --quick (option variant; full runs only)'
    : (w.keys ?? 0) >= 100_000 && round > 1 ? 'skipped in --quick (100,000-key calls: round 1 only)'
    : spec.id === 'memjs' && (w.keys ?? 0) >= 100_000 ? 'skipped in --quick (emulated getMulti takes seconds)'
      : spec.family === 'memcluster' && spec.id !== 'memcluster' && (w.keys ?? 0) >= 100_000 ? 'skipped in --quick (variant; 100,000-key calls take seconds)' : undefined;
/** memcluster option variants a --quick run leaves out (the default, text-protocol and traced rows stay). */
const QUICK_SKIPS_VARIANT = ['memcluster-trust', 'memcluster-nocoalesce', 'memcluster-both'];
/**
 * Why a client cannot run a workload at all, if it cannot: the peers have no setMulti/deleteMulti.
 * @param {import('./clients.mjs').ClientSpec} spec @param {import('./workloads.mjs').Workload} w
 */
const unsupported = (spec, w) => (w.needs === 'multiWrite' && !spec.multiWrite ? 'not run: the client has no setMulti/deleteMulti' : undefined);
/**
 * Runs that block their own event loop past the cap (no timer can fire): they run in a worker
 * thread that the main thread terminates at the cap.
 */
const mustIsolate = cannotDo;

const pkgVersion = (/** @type {string} */ name) =>
  JSON.parse(readFileSync(new URL(name === 'memcluster' ? '../package.json' : `../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;

const log = (/** @type {string} */ s) => process.stderr.write(s + '\n');

/** Which memcluster was measured: the commit, and whether src/ had uncommitted changes (others edit it concurrently). */
function gitState() {
  const git = (/** @type {string[]} */ a) => spawnSync('git', a, { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = git(['status', '--porcelain', '--', 'src', 'package.json', 'tsup.config.ts']).stdout.trim();
  return `commit ${head.stdout.trim()}${dirty ? ' + uncommitted changes in src/' : ''}`;
}

/** The rotation of round `r`: every client once, starting at a different one each round. @template T @param {T[]} xs @param {number} r */
const rotate = (xs, r) => xs.map((_, i) => xs[(i + r) % xs.length]);

/**
 * @param {object} a
 * @param {import('./clients.mjs').ClientSpec} a.spec
 * @param {import('./workloads.mjs').Workload} a.workload
 * @param {string[]} a.servers
 * @param {number} a.round
 * @returns {Promise<import('./measure.mjs').RunResult>}
 */
function runIsolated({ spec, workload, servers, round }) {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
      workerData: { clientId: spec.id, workloadId: workload.id, servers, round, targetMs: TARGET_MS, capMs: capSFor(workload) * 1000 },
    });
    /** @type {NodeJS.Timeout | undefined} */
    let cap;
    let startedAt = 0;
    let done = false;
    /** @param {import('./measure.mjs').RunResult} r */
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(cap);
      void worker.terminate().then(() => resolve(r));
    };
    const blank = {
      client: spec.id, workload: workload.id, round, elapsedMs: 0, ops: 0, calls: 0, throughput: 0, cpuUsPerOp: 0, cpuUsPerCall: 0,
      msPerCall: 0, loopMaxMs: 0, wrong: 0, missing: 0, errors: 0, firstError: undefined, firstLoss: undefined, isolated: true,
    };
    // Creating the client and warming up must not take forever either.
    cap = setTimeout(() => finish({ ...blank, status: 'failed', firstError: 'worker did not start the run within 30 s' }), 30_000);
    worker.on('message', (m) => {
      if (m.type === 'start') {
        startedAt = performance.now();
        clearTimeout(cap);
        cap = setTimeout(() => finish({ ...blank, status: 'dnf', elapsedMs: performance.now() - startedAt }), capSFor(workload) * 1000);
      } else if (m.type === 'result') {
        finish(m.result);
      }
    });
    worker.on('error', (err) => finish({ ...blank, status: 'failed', firstError: `worker error: ${err.message}` }));
    worker.on('exit', () => finish({ ...blank, status: 'failed', firstError: 'worker exited without a result' }));
  });
}

/** @param {BaselineClient} checker */
async function seed(checker) {
  for (let i = 0; i < SEEDED_KEYS.length; i += 10_000) {
    const keys = SEEDED_KEYS.slice(i, i + 10_000);
    const oks = await checker.setMulti(keys.map((k) => [k, valueFor(k)]));
    if (oks.size !== keys.length || ![...oks.values()].every((ok) => ok === true)) throw new Error('seeding failed: a set was not STORED');
  }
}

/** @param {import('memcluster/testing').MemcachedServer[]} servers */
async function serverFacts(servers) {
  const stats = await Promise.all(servers.map((s) => s.stats()));
  return {
    version: stats[0].version,
    evictions: stats.reduce((a, s) => a + Number(s.evictions), 0),
    threads: stats[0].threads,
  };
}

async function main() {
  const startedAt = Date.now();
  // Read now: dist/ was just built from this source, and src/ may change while the run goes on.
  const source = gitState();
  const t0 = performance.now();
  log(`memcluster bench (${QUICK ? 'quick' : 'full'}): ${ROUNDS} rounds, ${TARGET_MS} ms per run, cap ${CAP_S} s, `
    + `${clients.length} clients x ${workloads.length} workloads; starting ${SERVER_COUNT} memcached ${SERVER_ARGS.join(' ')} -m ${SERVER_MEMORY_MB}`);
  const servers = await startServers(SERVER_COUNT, { args: SERVER_ARGS, memoryMb: SERVER_MEMORY_MB });
  const addresses = servers.map((s) => s.address);
  const checker = await new BaselineClient(addresses).connect();
  await seed(checker);
  log(`seeded ${SEEDED_KEYS.length.toLocaleString('en-US')} keys in ${Math.round(performance.now() - t0)} ms`);

  /** @type {import('./measure.mjs').RunResult[]} */
  const runs = [];
  /** @type {{ client: string, workload: string, reason: string }[]} */
  const skips = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const workload of workloads) {
      for (const spec of rotate(clients, round - 1)) {
        if (spec.only && !spec.only(workload)) continue; // a reference client, for other workloads
        const skip = unsupported(spec, workload) ?? (QUICK ? quickSkip(spec, workload, round) : undefined);
        if (skip) {
          skips.push({ client: spec.id, workload: workload.id, reason: skip });
          continue;
        }
        if (cannotDo(spec, workload) && runs.some((r) => r.client === spec.id && r.workload === workload.id && r.status === 'dnf')) {
          skips.push({ client: spec.id, workload: workload.id, reason: 'not retried after it did not finish' });
          continue;
        }
        const args = { spec, workload, servers: addresses, round };
        const wall0 = performance.now();
        const r = mustIsolate(spec, workload)
          ? await runIsolated(args)
          : await measureRun({ ...args, targetMs: TARGET_MS, capMs: capSFor(workload) * 1000, checker, warmMs: WARM_MS });
        runs.push(r);
        const flag = r.wrong + r.missing ? `  DATA LOSS ${r.wrong} wrong ${r.missing} missing` : '';
        const err = r.errors || r.status === 'failed' ? `  ${r.errors} errors: ${r.firstError}` : '';
        log(`  r${round} ${workload.id.padEnd(15)} ${spec.id.padEnd(22)} `
          + (r.status === 'ok'
            ? `${Math.round(r.throughput).toLocaleString('en-US').padStart(10)} ${workload.unit}  cpu ${r.cpuUsPerOp.toFixed(2)} µs  loop ${r.loopMaxMs.toFixed(0)} ms`
            : r.status === 'dnf' ? `did not finish in ${capSFor(workload)} s` : 'FAILED')
          + flag + err + `  [${Math.round(performance.now() - wall0)} ms]`);
      }
    }
  }

  const facts = await serverFacts(servers);
  const summaries = summarize(runs, skips, clients.map((c) => c.id), workloads.map((w) => w.id));
  const goals = speedGoals(summaries);
  const durationS = (performance.now() - t0) / 1000;
  const cpus = os.cpus();
  const versions = Object.fromEntries(['memcluster', 'memcached', 'memjs', 'hashring'].map((n) => [n, pkgVersion(n)]));

  const losses = [];
  const failures = [];
  for (const [, byClient] of summaries) {
    for (const s of byClient.values()) {
      const label = clients.find((c) => c.id === s.client)?.label ?? s.client;
      if (hasDataLoss(s)) losses.push(`${s.workload} / ${label}: ${s.wrong} wrong, ${s.missing} missing (${s.firstLoss})`);
      const ours = s.client.startsWith('baseline') || s.client.startsWith('memcluster');
      if (ours && (s.errors || s.dnf)) failures.push(`${s.workload} / ${label}: ${s.errors} errors, ${s.dnf} did not finish (${s.firstError ?? ''})`);
    }
  }

  const header = [
    '# memcluster benchmark results',
    '',
    `- date: ${new Date(startedAt).toISOString()}`,
    `- machine: ${cpus.length} cores, ${cpus[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.platform()} ${os.release()} (shared with other work: numbers are noisy, compare ratios)`,
    `- node ${process.version}; memcached ${facts.version} x ${SERVER_COUNT} on loopback (\`${SERVER_ARGS.join(' ')} -m ${SERVER_MEMORY_MB}\`)`,
    `- memcluster source: ${source} (dist/ built by \`npm run bench\` just before the run)`,
    `- packages: ${Object.entries(versions).map(([n, v]) => `${n} ${v}`).join(', ')}`,
    `- mode: ${QUICK ? 'quick' : 'full'}; ${ROUNDS} rounds (clients interleaved, order rotated each round); each run starts operations for ${TARGET_MS} ms, capped at ${CAP_S} s; fresh client per run, after a short warm-up and ${WARM_MS} ms (at least one call) of the same workload untimed`,
    `- ${SEEDED_KEYS.length.toLocaleString('en-US')} seeded keys with 100-byte values; server evictions during the run: ${facts.evictions}`,
    `- took ${durationS.toFixed(0)} s`,
    '',
    'Throughput and CPU are medians over the rounds; a ratio is the median over rounds of the client\'s figure / the floor\'s in the same round (throughput: higher is better; CPU: lower is better). '
      + 'CPU is user+system time of the bench process (client side only; the servers are other processes) divided by operations, or by keys for getMulti. '
      + 'Worst loop delay: how late a 1 ms timer probe fired at worst (bench/probe.mjs), during the whole run for the loop workloads and during the calls only for the multi-key ones; an idle loop reads about 1 ms. '
      + 'Heap per call (100,000-key calls): growth = heap in use right after the call minus right before (GC forced before), retained = the same after a forced GC with the result still referenced.',
    '',
    ...clients.filter((c) => c.note).map((c) => `- ${c.note}`),
    ...(traced.runs ? [`- memcluster traced: ${traced.events ? `the subscriber saw ${traced.events.toLocaleString('en-US')} \`${TRACING_CHANNEL}\` commands over ${traced.runs} runs` : `**the subscriber saw no \`${TRACING_CHANNEL}\` event in ${traced.runs} runs: this memcluster does not trace yet, so the row is the default client with an idle subscription, not the cost of tracing**`}`] : []),
    '',
  ].join('\n');
  const tables = workloads.map((w) => renderTable(w, summaries.get(w.id) ?? new Map(), clients, capSFor(w))).join('\n\n');
  const goalsMd = renderGoals(goals) + metaReference(summaries, runs) + noiseReference(summaries, runs);
  const lossMd = losses.length ? ['## DATA LOSS', '', ...losses.map((l) => `- ${l}`)].join('\n') : '## Correctness\n\nEvery value returned by every client was checked: no data loss.';
  const md = `${header}\n## Results\n\n${tables}\n\n## Speed goals\n\n${goalsMd}\n\n${lossMd}\n`;

  process.stdout.write(`\n${md}\n`);
  if (!args['no-write']) {
    const dir = new URL('./results/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL(`${OUT}.md`, dir), md);
    writeFileSync(new URL(`${OUT}.json`, dir), JSON.stringify({
      date: new Date(startedAt).toISOString(),
      mode: QUICK ? 'quick' : 'full',
      rounds: ROUNDS, targetMs: TARGET_MS, capS: CAP_S, durationS,
      machine: { cores: cpus.length, model: cpus[0]?.model, totalMemGb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}` },
      node: process.version,
      memcached: { version: facts.version, servers: SERVER_COUNT, args: [...SERVER_ARGS, '-m', String(SERVER_MEMORY_MB)], evictions: facts.evictions },
      packages: versions,
      memclusterSource: source,
      clients: clients.map(({ id, label, note, family }) => ({ id, label, note, family })),
      workloads: workloads.map(({ id, title, unit, what }) => ({ id, title, unit, what })),
      summaries: Object.fromEntries([...summaries].map(([w, m]) => [w, Object.fromEntries(m)])),
      goals,
      dataLoss: losses,
      failures,
      runs,
      skips,
    }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
    log(`wrote bench/results/${OUT}.md and ${OUT}.json`);
  }

  if (facts.evictions > 0) log(`WARNING: the servers evicted ${facts.evictions} items; misses may be evictions, not client bugs`);
  log(`\nspeed goals: ${goals.map((g) => `${g.pass === undefined ? 'n/a' : g.pass ? 'PASS' : 'FAIL'}`).join(', ')}`);
  if (losses.length) {
    log('\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    log('!!! DATA LOSS: a client returned wrong values or dropped hits silently !!!');
    for (const l of losses) log(`!!! ${l}`);
    log('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
  }
  if (failures.length) {
    log('\nmemcluster or baseline errors:');
    for (const f of failures) log(`  ${f}`);
  }
  log(`done in ${durationS.toFixed(0)} s`);
  checker.close();
  return losses.length || failures.length ? 1 : 0;
}

// Servers are stopped in the finally below; on Ctrl-C the testing harness kills them synchronously
// (its own signal handler runs first) and this handler then ends the process.
process.on('SIGINT', () => {
  log('\ninterrupted: stopping memcached servers');
  void stopAll().finally(() => process.exit(130));
});

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(err);
  code = 1;
} finally {
  await stopAll();
}
// memcached 2.2.2 leaves timers behind after end(): exit explicitly.
process.exit(code);

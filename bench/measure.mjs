// @ts-check
/**
 * One measured run: a fresh client, a short warm-up, then the workload until its deadline, with
 * wall time, client CPU (`process.cpuUsage` deltas taken around the run only) and the worst
 * event-loop delay (the 1 ms timer probe of probe.mjs: over the whole run for the loop workloads,
 * over the calls only for the multi-key workloads). The client is closed afterwards, whatever happened.
 */
import { LoopProbe, gc } from './probe.mjs';
import { median } from './report.mjs';
import { SEEDED_KEYS, verifyWritten } from './workloads.mjs';

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @typedef {object} RunResult
 * @property {string} client
 * @property {string} workload
 * @property {number} round
 * @property {'ok' | 'dnf' | 'failed'} status `dnf`: hit the time cap; `failed`: could not even start (client creation or warm-up threw)
 * @property {number} elapsedMs
 * @property {number} ops
 * @property {number} calls
 * @property {number} throughput ops (or keys) per second
 * @property {number} cpuUsPerOp user+system CPU µs of this process per op (per key for getMulti)
 * @property {number} cpuUsPerCall
 * @property {number} msPerCall
 * @property {number} loopMaxMs worst event-loop delay, ms (probe.mjs): during the run, or during the calls for multi-key workloads
 * @property {number} [loopBusyMs] the longest on-CPU stretch in the same window (probe.mjs): much below loopMaxMs means the machine, not the client
 * @property {number} [heapGrowthMb] large multi-key calls: median heap growth per call, MB
 * @property {number} [heapRetainedMb] large multi-key calls: median heap retained per call after a GC, MB
 * @property {number} wrong
 * @property {number} missing
 * @property {number} errors
 * @property {string | undefined} firstError
 * @property {string | undefined} firstLoss
 * @property {boolean} [isolated] ran in a worker thread (so it could be stopped at the cap)
 */

/** A few operations of every kind, so sockets are open and code is warm before the clock starts. @param {import('./clients.mjs').Adapter} c */
async function warmUp(c) {
  // Ramp up first: memcached 2.2.2 stalls ~1 s when its pool is asked for 64 sockets at once.
  for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 8 }, (_, j) => c.get(SEEDED_KEYS[j])));
  await Promise.all(Array.from({ length: 64 }, (_, i) => c.get(SEEDED_KEYS[i])));
  await c.set('warmup', 'warm');
  await c.getMulti(SEEDED_KEYS.slice(0, 100));
  await Promise.all(Array.from({ length: 64 }, (_, i) => c.get(SEEDED_KEYS[64 + i])));
}

/** @param {Promise<unknown> | unknown} p @param {number} ms */
async function within(p, ms) {
  let timer;
  try {
    await Promise.race([Promise.resolve(p).catch(() => {}), new Promise((r) => { timer = setTimeout(r, ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * @param {object} a
 * @param {import('./clients.mjs').ClientSpec} a.spec
 * @param {import('./workloads.mjs').Workload} a.workload
 * @param {string[]} a.servers
 * @param {number} a.round
 * @param {number} a.targetMs how long the workload keeps starting operations
 * @param {number} a.capMs the run is abandoned (did not finish) after this long
 * @param {number} [a.warmMs] before the clock starts, the workload itself runs untimed for this long
 *   (at least one call), so every client is measured with its code for this workload compiled: the
 *   forced GC before each run lets V8 drop code a client has not run lately, and a 1 s run that
 *   starts cold measures the JIT as much as the client
 * @param {import('./baseline.mjs').BaselineClient} a.checker reads back what set workloads wrote
 * @param {() => void} [a.onStart] called just before the clock starts (the worker tells the main thread)
 * @returns {Promise<RunResult>}
 */
export async function measureRun({ spec, workload, servers, round, targetMs, capMs, checker, onStart, warmMs = 0 }) {
  /** @type {RunResult} */
  const r = {
    client: spec.id, workload: workload.id, round, status: 'ok', elapsedMs: 0, ops: 0, calls: 0, throughput: 0, cpuUsPerOp: 0,
    cpuUsPerCall: 0, msPerCall: 0, loopMaxMs: 0, wrong: 0, missing: 0, errors: 0, firstError: undefined, firstLoss: undefined,
  };
  /** @type {import('./clients.mjs').Adapter | undefined} */
  let client;
  try {
    client = await spec.create(servers);
    await warmUp(client);
  } catch (err) {
    r.status = 'failed';
    r.firstError = `could not start: ${err instanceof Error ? err.message : String(err)}`;
    if (client) await within(client.close(), 1000);
    return r;
  }
  gc();
  await sleep(5);

  const probe = new LoopProbe().start();
  /** Data loss or errors seen in the untimed warm-up run: reported with the run's own. */
  let warm = { wrong: 0, missing: 0, errors: 0, firstError: /** @type {string | undefined} */ (undefined), firstLoss: /** @type {string | undefined} */ (undefined) };
  if (warmMs > 0) {
    /** @type {import('./workloads.mjs').RunCtx} */
    const wctx = { deadline: performance.now() + warmMs, stop: false, tag: `${spec.id}:${round}:warm`, seed: round * 7919 + 29, probe, checker };
    let warmTimer;
    const warmCapped = new Promise((resolve) => { warmTimer = setTimeout(() => resolve('cap'), capMs); });
    const w = await Promise.race([workload.run(client, wctx), warmCapped]);
    clearTimeout(warmTimer);
    if (w === 'cap') {
      wctx.stop = true;
      probe.stop();
      r.status = 'dnf';
      r.firstError = `the untimed warm-up run did not finish in ${Math.round(capMs / 1000)} s`;
      await within(client.close(), 1000);
      return r;
    }
    const t = /** @type {import('./workloads.mjs').Tally} */ (w);
    warm = { wrong: t.wrong, missing: t.missing, errors: t.errors, firstError: t.firstError, firstLoss: t.firstLoss };
    gc();
    await sleep(5);
  }
  /** @type {import('./workloads.mjs').RunCtx} */
  const ctx = { deadline: 0, stop: false, tag: `${spec.id}:${round}`, seed: round * 7919 + 17, probe, checker };
  await probe.settle();
  probe.reset();
  onStart?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  ctx.deadline = t0 + targetMs;
  let capTimer;
  const capped = new Promise((resolve) => { capTimer = setTimeout(() => resolve('cap'), capMs); });
  const outcome = await Promise.race([workload.run(client, ctx), capped]);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  clearTimeout(capTimer);
  // One more probe firing, so a stall that ended with the run is recorded.
  r.loopMaxMs = await probe.settle();
  r.loopBusyMs = probe.maxBusy;
  probe.stop();

  r.elapsedMs = t1 - t0;
  if (outcome === 'cap') {
    ctx.stop = true;
    r.status = 'dnf';
  } else {
    const t = /** @type {import('./workloads.mjs').Tally} */ (outcome);
    Object.assign(r, {
      ops: t.ops, calls: t.calls, wrong: t.wrong + warm.wrong, missing: t.missing + warm.missing, errors: t.errors + warm.errors,
      firstError: t.firstError ?? warm.firstError, firstLoss: t.firstLoss ?? warm.firstLoss,
    });
    // getMulti workloads time their calls themselves, so checking a 100,000-key result between
    // calls is not charged to the client; the loop workloads are measured around the whole run.
    const cpuUs = t.callCpuUs ?? cpu.user + cpu.system;
    const busyMs = t.callMs ?? r.elapsedMs;
    r.throughput = busyMs > 0 ? t.ops / (busyMs / 1000) : 0;
    r.cpuUsPerOp = t.ops ? cpuUs / t.ops : 0;
    r.cpuUsPerCall = t.calls ? cpuUs / t.calls : 0;
    r.msPerCall = t.calls ? busyMs / t.calls : 0;
    if (t.loopMaxMs !== undefined) r.loopMaxMs = t.loopMaxMs;
    if (t.loopBusyMs !== undefined) r.loopBusyMs = t.loopBusyMs;
    if (t.heapGrowth?.length) r.heapGrowthMb = median(t.heapGrowth) / 2 ** 20;
    if (t.heapRetained?.length) r.heapRetainedMb = median(t.heapRetained) / 2 ** 20;
    if (t.written) {
      const v = await verifyWritten(checker, t.written, t.expected);
      r.missing += v.missing;
      r.wrong += v.wrong;
      r.firstLoss ??= v.firstLoss;
    }
  }
  await within(client.close(), 1000);
  return r;
}

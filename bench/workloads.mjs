// @ts-check
/**
 * The workloads. Each runs against one client adapter (see clients.mjs) until a deadline, counts
 * the operations (or keys) it completed, and checks every value it got back:
 *
 * - `wrong`:   a value that is not the one stored (or a store that answered something other than true)
 * - `missing`: a key that must be there but came back as a miss (a short getMulti result)
 * - `errors`:  operations that rejected (reported, but not silent: the caller was told)
 *
 * `wrong` and `missing` are DATA LOSS: the caller was handed a wrong answer without an error.
 */

import { gc, heapUsed } from './probe.mjs';

/** Keys seeded before the runs: `gm:0` .. `gm:<SEEDED-1>`, each holding `valueFor(key)`. */
export const SEEDED = 100_000;
/** The gets read from the first 10,000 seeded keys. */
const GET_KEYSPACE = 10_000;
const LOOPS = 64;
/** A set loop cycles over this many keys of its own. */
const SET_KEYS_PER_LOOP = 50;
const BIG_BYTES = 500 * 1024;
const BIG_LOOPS = 4;
/** Keys checked per event-loop turn when checking a getMulti result. */
const CHECK_SLICE = 10_000;
const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));
/** Multi-key calls from this size up also report heap figures (a forced GC around each call, outside its timing). */
const HEAP_FROM_KEYS = 100_000;
/** Keys written by the setMulti workload and deleted by the deleteMulti one (fixed, so repeated runs reuse them). */
const SET_MULTI_KEYS = Array.from({ length: SEEDED }, (_, i) => `sm:${i}`);
const DELETE_MULTI_KEYS = Array.from({ length: SEEDED }, (_, i) => `dm:${i}`);
/** After this many errors in one run the run stops early (a broken client must not spin for the whole run). */
const MAX_ERRORS = 1000;

/** The 100-byte value stored under `key`: the key itself, padded, so a value returned for the wrong key is caught. */
export function valueFor(/** @type {string} */ key) {
  const v = key.length >= 100 ? key : key + ':' + '.'.repeat(99 - key.length);
  // A flat string: V8 builds the concatenation as a rope, and the first client to read it would
  // flatten it in place, paying for the bench's own string building (and skewing heap figures).
  return Buffer.from(v, 'latin1').latin1Slice();
}

export const seededKey = (/** @type {number} */ i) => `gm:${i}`;
/** Precomputed, so building keys and expected values costs the measured runs next to nothing. */
export const SEEDED_KEYS = Array.from({ length: SEEDED }, (_, i) => seededKey(i));
const SEEDED_VALUES = SEEDED_KEYS.map(valueFor);

/** xorshift32, so every client gets the same pseudo-random key sequence for the same seed. */
export function rng(/** @type {number} */ seed) {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** @param {string | Buffer | undefined} got @param {string} expected */
function same(got, expected) {
  if (typeof got === 'string') return got === expected;
  if (Buffer.isBuffer(got)) return got.length === expected.length && got.latin1Slice(0, got.length) === expected;
  return false;
}

/**
 * @typedef {object} RunCtx
 * @property {number} deadline performance.now() after which no new operation starts
 * @property {boolean} stop set by the harness when the run hit its time cap
 * @property {string} tag unique per (client, round): keeps each run's written keys apart
 * @property {number} seed
 * @property {import('./probe.mjs').LoopProbe} probe the event-loop probe (running for the whole run)
 * @property {import('./baseline.mjs').BaselineClient} checker the floor, for untimed set-up and read-back
 */

/**
 * @typedef {object} Tally
 * @property {number} ops units completed (operations, or keys for getMulti)
 * @property {number} calls calls completed
 * @property {number} wrong
 * @property {number} missing
 * @property {number} errors
 * @property {string | undefined} firstError
 * @property {string | undefined} firstLoss a description of the first data loss seen
 * @property {string[]} [written] keys a set workload stored, verified after the run
 * @property {(key: string) => string} [expected] the value each written key must hold (default valueFor)
 * @property {number} [callMs] multi-key calls: wall time spent inside the calls (the checks between calls excluded)
 * @property {number} [callCpuUs] multi-key calls: CPU time spent inside the calls
 * @property {number} [loopMaxMs] multi-key calls: the worst event-loop delay during any call
 * @property {number} [loopBusyMs] multi-key calls: the longest on-CPU stretch during any call (probe.mjs)
 * @property {number[]} [heapGrowth] large calls: heap growth per call, bytes
 * @property {number[]} [heapRetained] large calls: heap retained per call after a GC (result alive), bytes
 */

function tally() {
  /** @type {Tally} */
  const t = { ops: 0, calls: 0, wrong: 0, missing: 0, errors: 0, firstError: undefined, firstLoss: undefined };
  return t;
}

/** @param {Tally} t @param {RunCtx} ctx @param {unknown} err */
function onError(t, ctx, err) {
  t.errors++;
  t.firstError ??= err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
  if (t.errors >= MAX_ERRORS) ctx.stop = true;
}

/** @param {RunCtx} ctx */
const going = (ctx) => !ctx.stop && performance.now() < ctx.deadline;

/**
 * @param {import('./clients.mjs').Adapter} c @param {RunCtx} ctx @param {Tally} t @param {number} loop
 */
async function getLoop(c, ctx, t, loop) {
  const next = rng(ctx.seed * 1000 + loop + 1);
  while (going(ctx)) {
    const idx = Math.floor(next() * GET_KEYSPACE);
    const key = SEEDED_KEYS[idx];
    try {
      const v = await c.get(key);
      t.calls++;
      t.ops++;
      if (v === undefined || v === null) {
        t.missing++;
        t.firstLoss ??= `get(${key}) missed`;
      } else if (!same(v, SEEDED_VALUES[idx])) {
        t.wrong++;
        t.firstLoss ??= `get(${key}) returned a wrong value`;
      }
    } catch (err) {
      onError(t, ctx, err);
    }
  }
}

/**
 * @typedef {object} Workload
 * @property {string} id
 * @property {string} title
 * @property {'ops/s' | 'keys/s'} unit
 * @property {string} what one line for the README and the report
 * @property {number} [keys] keys per call (multi-key workloads)
 * @property {'multiWrite'} [needs] setMulti/deleteMulti: only clients that have them (see clients.mjs)
 * @property {number} [minCapS] the run's time cap is at least this (untimed set-up and read-back inside the run)
 * @property {(c: import('./clients.mjs').Adapter, ctx: RunCtx) => Promise<Tally>} run
 */

/**
 * Times one multi-key call: wall time and CPU inside the call only, the worst event-loop delay
 * during the call (the probe's window is the call: it is settled and reset just before, read just
 * after), and for calls of HEAP_FROM_KEYS keys and more the heap figures: growth = heap in use
 * right after the call minus right before it (a forced GC just before), retained = the same after
 * a forced GC with the result still referenced. The GCs are outside the timed and probed window.
 * @template R
 * @param {RunCtx} ctx @param {Tally} t @param {number} n keys in the call @param {() => Promise<R>} fn
 * @returns {Promise<{ result: R } | undefined>} undefined when the call failed or ended after the cap
 */
async function timedCall(ctx, t, n, fn) {
  const heap = n >= HEAP_FROM_KEYS;
  // Twice: objects with weak callbacks or finalizers (a previous run's sockets) go on the second.
  if (heap) {
    gc();
    gc();
  }
  // Let the probe record (and then forget) whatever ran before the call: a GC, the previous check.
  await ctx.probe.settle();
  ctx.probe.reset();
  const h0 = heap ? heapUsed() : 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  /** @type {R | undefined} */
  let result;
  let failed = false;
  try {
    result = await fn();
  } catch (err) {
    failed = true;
    onError(t, ctx, err);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const h1 = heap ? heapUsed() : 0;
  const loopMs = await ctx.probe.settle();
  if (failed || ctx.stop) return undefined; // a call that ended after the cap is not counted
  t.calls++;
  t.ops += n;
  t.callMs = (t.callMs ?? 0) + ms;
  t.callCpuUs = (t.callCpuUs ?? 0) + cpu.user + cpu.system;
  t.loopMaxMs = Math.max(t.loopMaxMs ?? 0, loopMs);
  t.loopBusyMs = Math.max(t.loopBusyMs ?? 0, ctx.probe.maxBusy);
  if (heap) {
    gc();
    const h2 = heapUsed();
    (t.heapGrowth ??= []).push(h1 - h0);
    (t.heapRetained ??= []).push(h2 - h0);
  }
  return { result: /** @type {R} */ (result) };
}

/** @param {number} n @returns {Workload} */
function getMultiWorkload(n) {
  return {
    id: `getmulti-${n}`,
    title: `getMulti of ${n.toLocaleString('en-US')} keys`,
    unit: 'keys/s',
    keys: n,
    what: `one caller, getMulti of ${n.toLocaleString('en-US')} seeded keys (a sliding window over gm:*) back to back; every key must come back with its value`,
    async run(c, ctx) {
      const t = tally();
      const next = rng(ctx.seed + n);
      // One call and its check, in a frame of its own: once it returns, nothing of this call's
      // result stays reachable from the loop, so the next call's heap figures start clean.
      const once = async () => {
        const start = n >= SEEDED ? 0 : Math.floor(next() * (SEEDED - n));
        const keys = SEEDED_KEYS.slice(start, start + n);
        const call = await timedCall(ctx, t, n, () => c.getMulti(keys));
        if (!call) return;
        const result = call.result;
        for (let i = 0; i < n; i++) {
          // The check of a big result yields now and then, so its own loop time is not charged to the client.
          if (i > 0 && i % CHECK_SLICE === 0) await yieldToLoop();
          const key = keys[i];
          const v = c.lookup(result, key);
          if (v === undefined || v === null) {
            t.missing++;
            t.firstLoss ??= `getMulti(${n}) returned no value for ${key}`;
          } else if (!same(v, SEEDED_VALUES[start + i])) {
            t.wrong++;
            t.firstLoss ??= `getMulti(${n}) returned a wrong value for ${key}`;
          }
        }
      };
      // At least one call per run: a large call (or its set-up) can outlast a short run's target time.
      for (let first = true; first ? !ctx.stop : going(ctx); first = false) await once();
      return t;
    },
  };
}

/**
 * Checks a setMulti/deleteMulti result: every key must map to `true` (stored / deleted).
 * @param {Tally} t @param {Map<string, boolean>} result @param {readonly string[]} keys @param {string} what
 */
async function allTrue(t, result, keys, what) {
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && i % CHECK_SLICE === 0) await yieldToLoop();
    const ok = result.get(keys[i]);
    if (ok !== true) {
      t.wrong++;
      t.firstLoss ??= `${what} answered ${String(ok)} for ${keys[i]} without an error`;
    }
  }
}

/** @param {number} n @returns {Workload} */
function setMultiWorkload(n) {
  const keys = SET_MULTI_KEYS.slice(0, n);
  return {
    id: `setmulti-${n}`,
    title: `setMulti of ${n.toLocaleString('en-US')} keys (100-byte values)`,
    unit: 'keys/s',
    keys: n,
    needs: 'multiWrite',
    minCapS: 30,
    what: `one caller, setMulti of ${n.toLocaleString('en-US')} keys with 100-byte values back to back; every key must answer true, and after the run every key is read back (by the floor) and must hold this run's value`,
    async run(c, ctx) {
      const t = tally();
      const expected = (/** @type {string} */ key) => valueFor(`${key}@${ctx.tag}`);
      // Built before the first call, outside every timing.
      const entries = /** @type {Array<[string, string]>} */ (keys.map((k) => [k, expected(k)]));
      const once = async () => {
        const call = await timedCall(ctx, t, n, () => /** @type {NonNullable<import('./clients.mjs').Adapter['setMulti']>} */ (c.setMulti)(entries));
        if (call) await allTrue(t, call.result, keys, `setMulti(${n})`);
      };
      for (let first = true; first ? !ctx.stop : going(ctx); first = false) await once();
      if (t.calls) {
        t.written = keys;
        t.expected = expected;
      }
      return t;
    },
  };
}

/** @param {number} n @returns {Workload} */
function deleteMultiWorkload(n) {
  const keys = DELETE_MULTI_KEYS.slice(0, n);
  return {
    id: `deletemulti-${n}`,
    title: `deleteMulti of ${n.toLocaleString('en-US')} keys`,
    unit: 'keys/s',
    keys: n,
    needs: 'multiWrite',
    minCapS: 30,
    what: `one caller, deleteMulti of ${n.toLocaleString('en-US')} keys that exist (stored by the floor before each call, untimed); every key must answer true, and afterwards none may be left on its server`,
    async run(c, ctx) {
      const t = tally();
      const entries = /** @type {Array<[string, string]>} */ (keys.map((k) => [k, valueFor(k)]));
      const setUp = async () => {
        const stored = await ctx.checker.setMulti(entries);
        if (stored.size !== n || ![...stored.values()].every((x) => x === true)) throw new Error(`deleteMulti set-up: the floor could not store the ${n} keys`);
      };
      const once = async () => {
        await setUp();
        const call = await timedCall(ctx, t, n, () => /** @type {NonNullable<import('./clients.mjs').Adapter['deleteMulti']>} */ (c.deleteMulti)(keys));
        if (!call) return;
        await allTrue(t, call.result, keys, `deleteMulti(${n})`);
        const left = await ctx.checker.getMulti(keys);
        if (left.size) {
          t.wrong += left.size;
          t.firstLoss ??= `deleteMulti(${n}) answered, but ${left.size} keys are still on their servers (e.g. ${[...left.keys()][0]})`;
        }
      };
      for (let first = true; first ? !ctx.stop : going(ctx); first = false) await once();
      return t;
    },
  };
}

/** Values for the 500 KB workload: distinct from the first byte, so a stale or foreign value is caught. */
const BIG_VALUES = Array.from({ length: 8 }, (_, i) => {
  const head = `big-value-${i}:`;
  const body = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(BIG_BYTES / 36));
  return (head + body).slice(0, BIG_BYTES);
});

/** @type {Workload[]} */
export const WORKLOADS = [
  {
    id: 'get-seq',
    title: 'sequential get',
    unit: 'ops/s',
    what: 'one loop: await get(random seeded key), repeat (latency-bound: one request in flight)',
    async run(c, ctx) {
      const t = tally();
      await getLoop(c, ctx, t, 0);
      return t;
    },
  },
  {
    id: 'get-64',
    title: '64 concurrent get loops',
    unit: 'ops/s',
    what: `${LOOPS} loops, each: await get(random seeded key), repeat (up to ${LOOPS} requests in flight)`,
    async run(c, ctx) {
      const t = tally();
      await Promise.all(Array.from({ length: LOOPS }, (_, i) => getLoop(c, ctx, t, i)));
      return t;
    },
  },
  {
    id: 'set-64',
    title: '64 concurrent set loops (100-byte values)',
    unit: 'ops/s',
    what: `${LOOPS} loops, each: await set(own key, 100-byte value), cycling over ${SET_KEYS_PER_LOOP} keys of its own; every set must answer true, and every key written is read back (by the baseline, after the run) and compared`,
    async run(c, ctx) {
      const t = tally();
      // Keys and values built before the loops start, so the loops measure the client, not string building.
      const keys = Array.from({ length: LOOPS }, (_, loop) => Array.from({ length: SET_KEYS_PER_LOOP }, (_, j) => `s:${ctx.tag}:${loop}:${j}`));
      const values = keys.map((ks) => ks.map(valueFor));
      const written = keys.map((ks) => ks.map(() => false));
      await Promise.all(Array.from({ length: LOOPS }, async (_, loop) => {
        for (let i = 0; going(ctx); i++) {
          const j = i % SET_KEYS_PER_LOOP;
          const key = keys[loop][j];
          try {
            const ok = await c.set(key, values[loop][j]);
            t.calls++;
            t.ops++;
            if (ok !== true) {
              t.wrong++;
              t.firstLoss ??= `set(${key}) answered ${String(ok)} without an error`;
            } else {
              written[loop][j] = true;
            }
          } catch (err) {
            onError(t, ctx, err);
          }
        }
      }));
      t.written = keys.flatMap((ks, loop) => ks.filter((_, j) => written[loop][j]));
      return t;
    },
  },
  getMultiWorkload(100),
  getMultiWorkload(1_000),
  getMultiWorkload(10_000),
  getMultiWorkload(100_000),
  setMultiWorkload(100_000),
  deleteMultiWorkload(100_000),
  {
    id: 'big-500k',
    title: 'set+get of 500 KB values',
    unit: 'ops/s',
    what: `${BIG_LOOPS} loops, each on its own key: await set(key, 500 KB string), then await get(key), which must return exactly that value (each set and each get counts as one op)`,
    async run(c, ctx) {
      const t = tally();
      await Promise.all(Array.from({ length: BIG_LOOPS }, async (_, loop) => {
        const key = `big:${ctx.tag}:${loop}`;
        for (let i = 0; going(ctx); i++) {
          const value = BIG_VALUES[(i + loop) % BIG_VALUES.length];
          try {
            const ok = await c.set(key, value);
            t.calls++;
            t.ops++;
            if (ok !== true) {
              t.wrong++;
              t.firstLoss ??= `set(${key}, 500 KB) answered ${String(ok)} without an error`;
              continue;
            }
            const v = await c.get(key);
            t.calls++;
            t.ops++;
            if (v === undefined || v === null) {
              t.missing++;
              t.firstLoss ??= `get(${key}) missed right after its set`;
            } else if (!same(v, value)) {
              t.wrong++;
              t.firstLoss ??= `get(${key}) returned a different 500 KB value than was just set`;
            }
          } catch (err) {
            onError(t, ctx, err);
          }
        }
      }));
      return t;
    },
  },
];

/**
 * Reads back what a set workload wrote, with the checker client, and counts keys that are
 * missing or hold another value.
 * @param {import('./baseline.mjs').BaselineClient} checker @param {readonly string[]} keys
 * @param {(key: string) => string} [expected] the value each key must hold
 */
export async function verifyWritten(checker, keys, expected = valueFor) {
  let missing = 0;
  let wrong = 0;
  /** @type {string | undefined} */
  let firstLoss;
  for (let i = 0; i < keys.length; i += 5000) {
    const slice = keys.slice(i, i + 5000);
    const got = await checker.getMulti(slice);
    for (const k of slice) {
      const v = got.get(k);
      if (v === undefined) {
        missing++;
        firstLoss ??= `${k} was acknowledged as stored but is not on its server`;
      } else if (!same(/** @type {any} */ (v), expected(k))) {
        wrong++;
        firstLoss ??= `${k} holds a different value than was stored`;
      }
    }
  }
  return { missing, wrong, firstLoss };
}

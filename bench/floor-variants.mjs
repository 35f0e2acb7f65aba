// @ts-check
/**
 * Why the floor (bench/baseline.mjs) flushes with `process.nextTick` and writes one joined string:
 * runs the floor in each of its flush/write variants, interleaved over rounds, on the same servers
 * and workloads as the bench, and prints medians and socket writes per operation.
 *
 *   npm run build && node bench/floor-variants.mjs [--rounds 3] [--target-ms 500] [--workloads get-64,set-64] [--variants nextTick,setImmediate]
 */
import { parseArgs } from 'node:util';
import { startServers, stopAll } from 'memcluster/testing';
import { BaselineClient } from './baseline.mjs';
import { measureRun } from './measure.mjs';
import { median } from './report.mjs';
import { SEEDED_KEYS, WORKLOADS, valueFor } from './workloads.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'target-ms': { type: 'string', default: '500' },
    workloads: { type: 'string', default: 'get-seq,get-64,set-64,getmulti-100,getmulti-1000,getmulti-10000' },
    variants: { type: 'string' },
  },
});

/** @type {Array<{ id: string, options: import('./baseline.mjs').FloorOptions }>} */
const VARIANTS = [
  { id: 'nextTick+join(floor)', options: { flush: 'nextTick', write: 'join' } },
  { id: 'queueMicrotask+join', options: { flush: 'microtask', write: 'join' } },
  { id: 'setImmediate+join', options: { flush: 'immediate', write: 'join' } },
  { id: 'adaptive+join', options: { flush: 'adaptive', write: 'join' } },
  { id: 'nextTick+cork/uncork', options: { flush: 'nextTick', write: 'cork' } },
  { id: 'nextTick+Buffer.concat', options: { flush: 'nextTick', write: 'concat' } },
];

/** Counts socket writes of the floor clients created below (one counter for all). */
let writes = 0;
/** @param {import('./baseline.mjs').FloorOptions} options @returns {import('./clients.mjs').ClientSpec} */
const spec = (id, options) => ({
  id,
  label: id,
  family: 'baseline',
  async create(servers) {
    const b = await new BaselineClient(servers, options).connect();
    for (const conn of b.conns.values()) {
      const orig = conn.socket.write.bind(conn.socket);
      conn.socket.write = /** @type {any} */ ((/** @type {any[]} */ ...a) => { writes++; return orig(...a); });
    }
    return {
      get: (key) => /** @type {any} */ (b.get(key)),
      set: (key, value) => b.set(key, value),
      getMulti: (keys) => b.getMulti(keys),
      lookup: (m, k) => m.get(k),
      close: () => b.close(),
    };
  },
});

const variants = args.variants ? VARIANTS.filter((v) => args.variants?.split(',').some((x) => v.id.startsWith(x))) : VARIANTS;
const workloads = WORKLOADS.filter((w) => args.workloads.split(',').includes(w.id));
let code = 1;
try {
  const servers = (await startServers(3, { args: ['-t', '1'], memoryMb: 256 })).map((s) => s.address);
  const checker = await new BaselineClient(servers).connect();
  for (let i = 0; i < SEEDED_KEYS.length; i += 10_000) {
    const stored = await checker.setMulti(SEEDED_KEYS.slice(i, i + 10_000).map((k) => [k, valueFor(k)]));
    if (![...stored.values()].every((x) => x === true)) throw new Error('seeding failed');
  }
  /** @type {Map<string, Array<{ tp: number, cpu: number, wpo: number }>>} */
  const res = new Map();
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const w of workloads) {
      for (let v = 0; v < variants.length; v++) {
        const { id, options } = variants[(v + round) % variants.length];
        writes = 0;
        const r = await measureRun({ spec: spec(id, options), workload: w, servers, round, targetMs: Number(args['target-ms']), capMs: 30_000, checker });
        if (r.status !== 'ok' || r.wrong || r.missing || r.errors) throw new Error(`${id} ${w.id}: ${r.status} ${r.firstLoss ?? ''} ${r.firstError ?? ''}`);
        const k = `${w.id}\t${id}`;
        if (!res.has(k)) res.set(k, []);
        res.get(k)?.push({ tp: r.throughput, cpu: r.cpuUsPerOp, wpo: writes / Math.max(1, r.calls) });
      }
    }
  }
  console.log('workload\tvariant\tthroughput (median)\tCPU µs/op or /key\tsocket writes per call (incl. warm-up)');
  for (const [k, rs] of res) {
    console.log(`${k}\t${Math.round(median(rs.map((r) => r.tp)))}\t${median(rs.map((r) => r.cpu)).toFixed(2)}\t${median(rs.map((r) => r.wpo)).toFixed(3)}`);
  }
  checker.close();
  code = 0;
} catch (err) {
  console.error(err);
} finally {
  await stopAll();
}
process.exit(code);

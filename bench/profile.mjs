// @ts-check
/**
 * Profiles one workload of one client (memcluster by default) running alone.
 *
 *   node bench/profile.mjs set-64                 # 10 s of 64 concurrent sets, under --cpu-prof, then a summary
 *   node bench/profile.mjs getmulti-10000 --client memcluster-trust --seconds 20
 *   node bench/profile.mjs getmulti-1000 --seconds 1 --warm-ms 1000 --no-prof   # as one bench run measures it
 *   node bench/profile.mjs get-64 --no-prof       # just run it and print throughput / CPU
 *   node bench/profile.mjs --summarize path/to/file.cpuprofile [--top 30]
 *
 * This process starts 3 memcached servers (`-t 1`, as the bench) and seeds them, then runs the
 * workload in a child process `node --cpu-prof --cpu-prof-dir=bench/.profiles bench/profile.mjs
 * --child ...`, so the profile holds the workload only (no server start-up, no seeding). The
 * summary aggregates the profile's samples (`hitCount`) by function name + url:line (self time),
 * mapping dist/*.js positions back to src/*.ts through the bundle's source map.
 * `npm run build` first: the clients load dist/. Profiles are gitignored (*.cpuprofile).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    client: { type: 'string', default: 'memcluster' },
    seconds: { type: 'string', default: '10' },
    'warm-ms': { type: 'string', default: '0' },
    top: { type: 'string', default: '25' },
    'no-prof': { type: 'boolean', default: false },
    summarize: { type: 'string' },
    child: { type: 'boolean', default: false },
    servers: { type: 'string' },
  },
});

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const profileDir = path.join(here, '.profiles');

if (opts.summarize) {
  summarize(opts.summarize, Number(opts.top));
} else if (opts.child) {
  await child();
} else {
  await parent();
}

async function parent() {
  const workloadId = positionals[0];
  const { WORKLOADS, SEEDED_KEYS, valueFor } = await import('./workloads.mjs');
  if (!workloadId || !WORKLOADS.some((w) => w.id === workloadId)) {
    console.error(`usage: node bench/profile.mjs <workload> [--client id] [--seconds N] [--no-prof]\nworkloads: ${WORKLOADS.map((w) => w.id).join(', ')}`);
    process.exit(2);
  }
  const { startServers, stopAll } = await import('memcluster/testing');
  const { BaselineClient } = await import('./baseline.mjs');
  let code = 1;
  try {
    const servers = (await startServers(3, { args: ['-t', '1'], memoryMb: 256 })).map((s) => s.address);
    const seeder = await new BaselineClient(servers).connect();
    for (let i = 0; i < SEEDED_KEYS.length; i += 10_000) {
      await Promise.all(SEEDED_KEYS.slice(i, i + 10_000).map((k) => seeder.set(k, valueFor(k))));
    }
    seeder.close();
    mkdirSync(profileDir, { recursive: true });
    const before = new Set(readdirSync(profileDir));
    const nodeArgs = opts['no-prof'] ? (process.env.PROFILE_NODE_ARGS ? process.env.PROFILE_NODE_ARGS.split(' ') : []) : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
    const args = [...nodeArgs, fileURLToPath(import.meta.url), '--child', workloadId, '--client', String(opts.client), '--seconds', String(opts.seconds), '--warm-ms', String(opts['warm-ms']), '--servers', servers.join(',')];
    console.error(`running: node ${args.join(' ')}`);
    code = await new Promise((resolve) => spawn(process.execPath, args, { stdio: 'inherit' }).on('exit', (c) => resolve(c ?? 1)));
    if (!opts['no-prof']) {
      const made = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
      const newest = made.map((f) => path.join(profileDir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
      if (newest) summarize(newest, Number(opts.top));
      else console.error('no profile was written');
    }
  } finally {
    await stopAll();
  }
  process.exit(code);
}

/** The profiled process: runs the workload (after the usual warm-up) until the time is up. */
async function child() {
  const { CLIENTS } = await import('./clients.mjs');
  const { WORKLOADS } = await import('./workloads.mjs');
  const { measureRun } = await import('./measure.mjs');
  const { BaselineClient } = await import('./baseline.mjs');
  const spec = CLIENTS.find((c) => c.id === opts.client);
  const workload = WORKLOADS.find((w) => w.id === positionals[0]);
  if (!spec || !workload || !opts.servers) throw new Error(`bad arguments: client ${opts.client}, workload ${positionals[0]}, servers ${opts.servers}`);
  const servers = opts.servers.split(',');
  const checker = await new BaselineClient(servers).connect();
  const seconds = Number(opts.seconds);
  const r = await measureRun({ spec, workload, servers, round: 1, targetMs: seconds * 1000, capMs: seconds * 1000 + 60_000, checker, warmMs: Number(opts['warm-ms']) });
  checker.close();
  console.log(`${spec.label}, ${workload.title}: ${r.status}, ${Math.round(r.throughput).toLocaleString('en-US')} ${workload.unit}, `
    + `CPU ${r.cpuUsPerOp.toFixed(2)} µs per ${workload.unit === 'keys/s' ? 'key' : 'op'}, ${r.calls} calls, max loop delay ${r.loopMaxMs.toFixed(1)} ms, `
    + `wrong ${r.wrong}, missing ${r.missing}, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`);
  process.exit(r.status === 'ok' && r.wrong + r.missing + r.errors === 0 ? 0 : 1);
}

/**
 * Prints the functions with the most self time: samples aggregated by function name + url:line.
 * @param {string} file @param {number} top
 */
function summarize(file, top) {
  /** @type {{ nodes: Array<{ id: number, hitCount?: number, callFrame: { functionName: string, url: string, lineNumber: number, columnNumber: number } }>, samples: number[], startTime: number, endTime: number }} */
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  /** @type {Map<string, SourceMap | null>} */
  const maps = new Map();
  /** dist/*.js positions back to src/*.ts via the bundle's source map. @param {string} url @param {number} line @param {number} col */
  const where = (url, line, col) => {
    if (!url) return '';
    let file = url.startsWith('file://') ? fileURLToPath(url) : url;
    let ln = line + 1;
    if (file.startsWith(path.join(root, 'dist'))) {
      if (!maps.has(file)) {
        try {
          maps.set(file, new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))));
        } catch {
          maps.set(file, null);
        }
      }
      const entry = /** @type {any} */ (maps.get(file)?.findEntry(line, col));
      if (entry?.originalSource) {
        file = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : path.resolve(path.dirname(file), entry.originalSource);
        ln = entry.originalLine + 1;
      }
    }
    const rel = path.relative(root, file);
    return `${rel.startsWith('..') ? file : rel}:${ln}`;
  };
  /** @type {Map<string, number>} */
  const byFn = new Map();
  let total = 0;
  let idle = 0;
  for (const n of prof.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits) continue;
    total += hits;
    const f = n.callFrame;
    if (f.functionName === '(idle)') idle += hits;
    const key = `${f.functionName || '(anonymous)'}  ${where(f.url, f.lineNumber, f.columnNumber)}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
  }
  const ms = (prof.endTime - prof.startTime) / 1000;
  const busy = total - idle;
  console.log(`\n${path.relative(process.cwd(), file)}: ${total} samples over ${(ms / 1000).toFixed(1)} s; ${((busy / total) * 100).toFixed(1)}% not idle`);
  console.log('self % of non-idle samples, function, where (dist positions mapped to src)');
  const rows = [...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, hits] of rows) console.log(`${((hits / busy) * 100).toFixed(1).padStart(6)}%  ${k}`);
  /** Totals per file (src/, node internals, bench/, node_modules/). */
  /** @type {Map<string, number>} */
  const byFile = new Map();
  for (const [k, hits] of byFn) {
    if (k.startsWith('(idle)')) continue;
    const loc = k.split('  ')[1] ?? '';
    const f = loc ? loc.replace(/:\d+$/, '') : k;
    byFile.set(f, (byFile.get(f) ?? 0) + hits);
  }
  console.log('\nself % by file:');
  for (const [f, hits] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${((hits / busy) * 100).toFixed(1).padStart(6)}%  ${f}`);
}

// scratch: server CPU per key for getMulti, per client, interleaved blocks
import { readFileSync } from 'node:fs';
import { startServers, stopAll } from 'memcluster/testing';
import { BaselineClient } from './baseline.mjs';
import { CLIENTS } from './clients.mjs';
import { SEEDED_KEYS, valueFor } from './workloads.mjs';
const N = Number(process.argv[2] ?? 1000);
const ids = (process.argv[3] ?? 'baseline,baseline-meta,memcluster,memcluster-text').split(',');
const GAP = process.argv[4] === 'gap';
const BLOCK = 1500, ROUNDS = 4;
const servers = await startServers(3, { args: ['-t', '1'], memoryMb: 256 });
const addresses = servers.map((s) => s.address);
const checker = await new BaselineClient(addresses).connect();
const K = SEEDED_KEYS.slice(0, 20000);
for (let i = 0; i < K.length; i += 5000) await checker.setMulti(K.slice(i, i + 5000).map((k) => [k, valueFor(k)]));
const tick = () => servers.reduce((a, s) => { const f = readFileSync(`/proc/${s.pid}/stat`, 'latin1').split(') ')[1].split(' '); return a + Number(f[11]) + Number(f[12]); }, 0);
const clients = [];
for (const id of ids) clients.push({ id, c: await CLIENTS.find((x) => x.id === id).create(addresses), calls: 0, wall: 0, ccpu: 0, scpu: 0 });
let seed = 1;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let r = 0; r < ROUNDS; r++) for (const cl of (r % 2 ? [...clients].reverse() : clients)) {
  // warm
  const t0 = performance.now(); while (performance.now() - t0 < 200) await cl.c.getMulti(K.slice(0, N));
  const s0 = tick(), c0 = process.cpuUsage(), w0 = performance.now();
  let calls = 0;
  while (performance.now() - w0 < BLOCK) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const st = seed % (K.length - N);
    if (GAP) await sleep(1);
    const m = await cl.c.getMulti(K.slice(st, st + N));
    calls++;
  }
  const w = performance.now() - w0, c = process.cpuUsage(c0), s = tick() - s0;
  cl.calls += calls; cl.wall += w; cl.ccpu += (c.user + c.system) / 1000; cl.scpu += s * 10;
}
for (const cl of clients) console.log(`${cl.id.padEnd(18)} calls/s ${(cl.calls / cl.wall * 1000).toFixed(0).padStart(6)}  client µs/key ${(cl.ccpu * 1000 / cl.calls / N).toFixed(3)}  server µs/key ${(cl.scpu * 1000 / cl.calls / N).toFixed(3)}  wall µs/key ${(cl.wall * 1000 / cl.calls / N).toFixed(3)}`);
for (const cl of clients) await cl.c.close();
checker.close();
await stopAll();

// @ts-nocheck
/**
 * Socket writes per call, memcluster (default) vs the floor (issue 14 item 2: one write per socket
 * per tick). Counts `net.Socket` `_write` (one buffer) and `_writev` (several: `chunks`) calls,
 * i.e. writes handed to libuv, over a few calls of each workload on 3 local servers, then per
 * operation over 1 s of 64 independent set (get) loops.
 *
 *   npm run build && node bench/writes.mjs
 */
import net from 'node:net';
import { startServers, stopAll } from 'memcluster/testing';
import { Client } from 'memcluster';
import { BaselineClient } from './baseline.mjs';
let writes = 0, chunks = 0, bytes = 0;
const P = net.Socket.prototype;
const ow = P._write, owv = P._writev;
P._write = function (c, e, cb) { writes++; chunks++; bytes += c.length; return ow.call(this, c, e, cb); };
P._writev = function (cs, cb) { writes++; chunks += cs.length; for (const c of cs) bytes += c.chunk.length; return owv.call(this, cs, cb); };
const servers = (await startServers(3, { args: ['-t', '1'], memoryMb: 64 })).map((s) => s.address);
const seed = await new BaselineClient(servers).connect();
const keys = Array.from({ length: 10000 }, (_, i) => `gm:${i}`);
await seed.setMulti(keys.map((k) => [k, 'x'.repeat(100)]));
for (const [name, make] of [['floor', async () => { const b = await new BaselineClient(servers).connect(); return { getMulti: (k) => b.getMulti(k), set: (k, v) => b.set(k, v), get: (k) => b.get(k), close: () => b.close() }; }],
  ['memcluster', async () => new Client(servers, { timeoutMs: 5000 })]]) {
  const c = await make();
  for (let i = 0; i < 3; i++) { await c.getMulti(keys.slice(0, 1000)); await Promise.all(Array.from({ length: 64 }, (_, j) => c.set(`s:${j}`, 'v'))); }
  for (const [label, fn, n] of [
    ['getMulti 1,000', () => c.getMulti(keys.slice(0, 1000)), 20],
    ['getMulti 10,000', () => c.getMulti(keys), 5],
    ['64 concurrent sets', () => Promise.all(Array.from({ length: 64 }, (_, j) => c.set(`s:${j}`, 'v'.repeat(100)))), 50],
    ['64 concurrent gets', () => Promise.all(Array.from({ length: 64 }, (_, j) => c.get(keys[j]))), 50],
  ]) {
    writes = chunks = bytes = 0;
    for (let i = 0; i < n; i++) await fn();
    console.log(`${name}\t${label}\twrites/call ${(writes / n).toFixed(1)}\tchunks/call ${(chunks / n).toFixed(1)}\tbytes/call ${Math.round(bytes / n)}`);
  }
  // Steady state: 64 independent loops for 1 s (replies resume loops a few at a time, as in the bench's set-64 / get-64).
  for (const [label, op] of [['64 set loops, 1 s', (j, i) => c.set(`s:${j}:${i % 50}`, 'v'.repeat(100))], ['64 get loops, 1 s', (j, i) => c.get(keys[(j * 131 + i) % keys.length])]]) {
    writes = chunks = bytes = 0;
    let ops = 0;
    const end = performance.now() + 1000;
    await Promise.all(Array.from({ length: 64 }, async (_, j) => {
      for (let i = 0; performance.now() < end; i++) {
        await op(j, i);
        ops++;
      }
    }));
    console.log(`${name}\t${label}\twrites/op ${(writes / ops).toFixed(3)}\tchunks/op ${(chunks / ops).toFixed(2)}\tbytes/op ${Math.round(bytes / ops)}\tops ${ops}`);
  }
  await c.close();
}
seed.close();
await stopAll();
process.exit(0);

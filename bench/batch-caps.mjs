// @ts-check
/**
 * What `maxBatchKeys` / `maxBatchBytes` cost: getMulti of 10,000 keys over 3 local servers with
 * several caps, each on fresh servers so their read buffers start equal. Reports keys/s (median of
 * the calls), client CPU per key, request lines per call, and the memcached read-buffer memory the
 * servers hold afterwards (`read_buf_bytes`, summed). The README's batching section quotes it.
 *
 *   npm run build && node bench/batch-caps.mjs [--calls 15]
 */
import { parseArgs } from 'node:util';
import { Client } from 'memcluster';
import { startServers, stopAll } from 'memcluster/testing';

const { values: opts } = parseArgs({ options: { calls: { type: 'string', default: '15' } } });
const CALLS = Number(opts.calls);
const KEYS = 10_000;
const CAPS = [
  [10, 2000], [50, 2000], [100, 2000], [100, 8000], [500, 16_000], [2000, 100_000], [KEYS, 10_000_000],
];

const keys = Array.from({ length: KEYS }, (_, i) => `page:${String(i).padStart(6, '0')}:fragment:${'x'.repeat(14)}`);
const value = 'v'.repeat(100);

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

process.on('SIGINT', () => { void stopAll().finally(() => process.exit(130)); });
const rows = [];
try {
  for (const [maxBatchKeys, maxBatchBytes] of CAPS) {
    const servers = await startServers(3, { args: ['-t', '1'] });
    const mc = new Client(servers.map((s) => s.address), { maxBatchKeys, maxBatchBytes, timeoutMs: 10_000 });
    await mc.setMulti(keys.map((k) => [k, value]));
    const rates = [];
    let cpu = 0;
    for (let c = 0; c < CALLS; c++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const got = await mc.getMulti(keys);
      const u = process.cpuUsage(c0);
      rates.push(KEYS / ((performance.now() - t0) / 1000));
      cpu += u.user + u.system;
      if (got.size !== KEYS) throw new Error(`DATA LOSS: ${got.size} of ${KEYS}`);
    }
    const after = await mc.stats();
    let readBuf = 0;
    for (const s of after.values()) readBuf += Number(s.read_buf_bytes ?? 0);
    const perLineKeys = Math.min(maxBatchKeys, Math.floor((maxBatchBytes - 6) / (keys[0].length + 1)));
    rows.push({
      caps: `${maxBatchKeys} keys / ${maxBatchBytes.toLocaleString('en-US')} B`,
      // per server the last line is partial: up to one extra line per server
      linesPerCall: Math.ceil(KEYS / Math.max(1, perLineKeys)) + 2,
      keysPerSec: Math.round(median(rates)),
      cpuPerKey: cpu / (CALLS * KEYS),
      readBufKb: Math.round(readBuf / 1024),
    });
    await mc.close();
    await Promise.all(servers.map((s) => s.stop()));
    console.error(`done ${maxBatchKeys}/${maxBatchBytes}`);
  }
} finally {
  await stopAll();
}

console.log(`getMulti of ${KEYS.toLocaleString('en-US')} keys (${keys[0].length}-byte keys, 100-byte values) over 3 servers, ${CALLS} calls each, ${new Date().toISOString().slice(0, 10)}`);
console.log('');
console.log('| caps (maxBatchKeys / maxBatchBytes) | request lines per call (about) | keys/s (median) | client CPU µs/key | servers\' read buffers after (KiB) |');
console.log('|---|--:|--:|--:|--:|');
for (const r of rows) {
  console.log(`| ${r.caps} | ${r.linesPerCall.toLocaleString('en-US')} | ${r.keysPerSec.toLocaleString('en-US')} | ${r.cpuPerKey.toFixed(2)} | ${r.readBufKb.toLocaleString('en-US')} |`);
}

#!/usr/bin/env node
// Monitoring a client: its events, the same events on node:diagnostics_channel, and periodic
// serverStats() snapshots.
//
//   client.on('serverDown' | 'serverUp' | 'connectionEvicted', ...)   when you hold the client
//   diagnostics_channel 'memcluster:serverDown' | ':serverUp' | ':connectionEvicted'
//                                                                      when you do not (an APM or
//                                                                      metrics module, say)
//   client.serverStats()                                              pool and health numbers
//
// To have something to watch, the example puts an extra "server" in the list: a TCP relay in this
// process that forwards to the first MEMCLUSTER_SERVERS entry. It cuts the relay (every pooled
// socket through it breaks and the server is marked down), then opens it again on the same port
// (the health probe brings the server back), while a reader keeps requesting keys.
//
// Run: MEMCLUSTER_SERVERS=127.0.0.1:11211 node examples/monitoring.mjs
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import { Client } from 'memcluster';

const servers = (process.env.MEMCLUSTER_SERVERS || '127.0.0.1:11211').split(',').map((s) => s.trim()).filter(Boolean);
const t0 = performance.now();
const at = () => `+${((performance.now() - t0) / 1000).toFixed(2)}s`;

const relay = await startRelay(servers[0]);
const client = new Client([...servers, relay.address], { timeoutMs: 500, retryDelayMs: 200, maxRetryDelayMs: 1000 });
console.log(`servers: ${servers.join(', ')} + relay ${relay.address} -> ${servers[0]}\n`);

// 1. Events on the client. `error` is emitted only when a listener throws; listen anyway so a bad
//    listener cannot crash the process.
const seen = { emitter: { serverDown: 0, serverUp: 0, connectionEvicted: 0 }, channel: { serverDown: 0, serverUp: 0, connectionEvicted: 0 } };
client.on('serverDown', ({ server, reason, failures }) => {
  seen.emitter.serverDown++;
  console.log(`${at()} event serverDown ${server} after ${failures} failures: ${reason.constructor.name} ${reason.code}`);
});
client.on('serverUp', ({ server, downForMs }) => {
  seen.emitter.serverUp++;
  console.log(`${at()} event serverUp ${server} after ${Math.round(downForMs)} ms down`);
});
client.on('connectionEvicted', ({ server, connection, reason }) => {
  seen.emitter.connectionEvicted++;
  console.log(`${at()} event connectionEvicted ${server} conn#${connection}: ${reason.message}`);
});
client.on('error', (err) => console.log(`${at()} event error: ${err.message}`));

// 2. The same events on diagnostics_channel: any module can subscribe, no client reference needed.
//    (Subscribe with a named function if you ever want to unsubscribe.)
for (const name of ['serverDown', 'serverUp', 'connectionEvicted']) {
  diagnostics.subscribe(`memcluster:${name}`, (message) => {
    seen.channel[name]++;
    if (name !== 'connectionEvicted') console.log(`${at()} channel memcluster:${name} { server: '${message.server}' }`);
  });
}

// 3. serverStats() snapshots, as a metrics exporter would take them.
function snapshot() {
  console.log(`${at()} serverStats()`);
  for (const s of client.serverStats()) {
    console.log(`    ${s.server.padEnd(21)} ${s.state.padEnd(4)}  size ${s.size} free ${s.free} borrowed ${s.borrowed} queued ${s.queued} | created ${s.created} evicted ${s.evicted} | validations ${s.validations} (${s.validationFailures} failed) | failures ${s.failures}`);
  }
}
const timer = setInterval(snapshot, 1000);

// Some traffic: 400 keys over all servers, read every 50 ms.
const run = Date.now().toString(36);
const keys = Array.from({ length: 400 }, (_, i) => `monitoring:${run}:${i}`);
await client.setMulti(keys.map((k) => [k, k]), { ttl: 60 });
let reads = 0;
let hits = 0;
let failed = 0;
let reading = true;
const reader = (async () => {
  while (reading) {
    const r = await client.getMultiSettled(keys);
    reads++;
    hits += r.values.size;
    failed += r.errors.size;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
})();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
await sleep(300);
snapshot();
await sleep(300);
console.log(`${at()} --- cutting the relay: its sockets break, new connections are refused`);
await relay.cut();
await sleep(1200);
console.log(`${at()} --- opening the relay again on the same port`);
await relay.open();
await sleep(1500);
reading = false;
await reader;
clearInterval(timer);
snapshot();

console.log(`\nreads: ${reads} x ${keys.length} keys: ${hits} hits, ${failed} failed (keys behind the relay while it was cut)`);
console.log(`events seen on the client:             ${JSON.stringify(seen.emitter)}`);
console.log(`events seen on diagnostics_channel:    ${JSON.stringify(seen.channel)}`);
const ok = seen.emitter.serverDown >= 1 && seen.emitter.serverUp >= 1 && seen.emitter.connectionEvicted >= 1
  && JSON.stringify(seen.emitter) === JSON.stringify(seen.channel)
  && client.serverStats().every((s) => s.state === 'up');
await client.deleteMulti(keys).catch(() => {});
await client.close();
await relay.close();
console.log(ok ? 'monitoring example: ok' : 'monitoring example: FAILED');
process.exit(ok ? 0 : 1);

/** A TCP relay on a free loopback port that can be cut (listener closed, sockets destroyed) and reopened. */
async function startRelay(target) {
  const i = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, i), Number(target.slice(i + 1))];
  const sockets = new Set();
  let server;
  let listenPort = 0;
  const open = () => new Promise((resolve, reject) => {
    server = net.createServer((inbound) => {
      const outbound = net.connect({ host, port });
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => {
      listenPort = server.address().port;
      resolve();
    });
  });
  const cut = () => new Promise((resolve) => {
    server.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
  await open();
  return { address: `127.0.0.1:${listenPort}`, open, cut, close: cut };
}

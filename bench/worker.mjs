// @ts-check
/**
 * Runs one measured run in a worker thread, for runs that may block their event loop past the time
 * cap (memcached 2.2.2's getMulti of 100,000 keys parses synchronously for minutes, so no timer in
 * its own thread can stop it). The main thread terminates this worker at the cap; nothing of that
 * client survives into later runs. Same measurement code as in-process runs (measure.mjs).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BaselineClient } from './baseline.mjs';
import { CLIENTS } from './clients.mjs';
import { measureRun } from './measure.mjs';
import { WORKLOADS } from './workloads.mjs';

const { clientId, workloadId, servers, round, targetMs, capMs } = workerData;
const spec = CLIENTS.find((c) => c.id === clientId);
const workload = WORKLOADS.find((w) => w.id === workloadId);
if (!spec || !workload || !parentPort) throw new Error(`worker: unknown client ${clientId} or workload ${workloadId}`);
const port = parentPort;
const checker = await new BaselineClient(servers).connect();
const result = await measureRun({ spec, workload, servers, round, targetMs, capMs, checker, onStart: () => port.postMessage({ type: 'start' }) });
checker.close();
port.postMessage({ type: 'result', result: { ...result, isolated: true } });

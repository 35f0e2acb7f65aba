import { now } from '../connection/connection.js';
import { ClientClosedError, InvalidArgumentError, MemclusterError, PartialFailureError, ProtocolError } from '../errors.js';
import { encodeDelete, encodeStore } from '../protocol/encoder.js';
import type { Reply, ReplyKind } from '../protocol/types.js';
import type { ServerNode } from '../cluster/server-node.js';
import { BatchWriter, callTimeout, makeSlicer, routeAll, type RetrievalCommand } from './batch.js';
import type { ClientCore } from './core.js';
import type { Scope } from './call.js';
import { encodeValue } from './values.js';

export type { RetrievalCommand };

/** Requests one setMulti/deleteMulti call keeps in flight. */
const WINDOW = 1024;

/** Hits by caller key, and per failed key the error (which names its server). */
export interface MultiResult<T> {
  values: Map<string, T>;
  errors: Map<string, MemclusterError>;
}

/** Multi-key retrieval that rejects with `PartialFailureError` (carrying the hits) when any key failed. */
export async function getMulti<T>(core: ClientCore, keys: readonly string[], cmd: RetrievalCommand, exptime: number, scope?: Scope): Promise<Map<string, T>> {
  const { values, errors } = await getMultiSettled<T>(core, keys, cmd, exptime, scope);
  if (errors.size > 0) {
    const servers = new Set([...errors.values()].map((e) => e.server ?? '?'));
    throw new PartialFailureError(`${cmd} failed for ${errors.size} of ${keys.length} keys (servers: ${[...servers].join(', ')})`, values, errors);
  }
  return values;
}

/**
 * Validates every key first (bad input rejects before a byte is written), then routes keys to
 * servers in capped batches that go out as they fill, and maps replies back to the caller's keys.
 * Duplicate keys are asked for once. Results are a `Map`, so keys like `__proto__` are plain keys.
 */
export async function getMultiSettled<T>(core: ClientCore, keys: readonly string[], cmd: RetrievalCommand, exptime: number, scope?: Scope): Promise<MultiResult<T>> {
  if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array of strings');
  if (core.closed) throw new ClientClosedError();
  const deadline = scope?.deadline ?? now() + core.opts.timeoutMs;
  const values = new Map<string, T>();
  const errors = new Map<string, MemclusterError>();
  if (keys.length === 0) return { values, errors };
  // routed key -> caller key (a prefix makes them differ; a Map makes duplicates collapse)
  const callerOf = new Map<string, string>();
  const routed: string[] = [];
  const bytes: number[] = [];
  // Every key is checked before any batch is sent (bad input writes nothing), in slices.
  const slice = makeSlicer();
  for (let i = 0; i < keys.length; i++) {
    const pause = slice(i);
    if (pause) {
      await pause;
      scope?.cancel?.check();
    }
    const key = keys[i]!;
    const p = core.prepare(key);
    if (callerOf.has(p.routed)) continue;
    callerOf.set(p.routed, key);
    routed.push(p.routed);
    bytes.push(p.bytes);
  }
  const withCas = cmd === 'gets' || cmd === 'gats';
  const writer = new BatchWriter(cmd, exptime, core.opts, (server, batch, hits, err) => {
    if (!hits) {
      for (const k of batch) errors.set(callerOf.get(k)!, err!);
      return;
    }
    for (const v of hits) {
      const key = callerOf.get(v.key)!;
      try {
        const value = core.decode(v, key, server);
        if (withCas && v.cas === undefined) throw new ProtocolError(`${cmd} reply carried no cas`, { server });
        values.set(key, (withCas ? { value, cas: v.cas } : value) as T);
      } catch (e) {
        errors.set(key, e as MemclusterError);
      }
    }
  }, deadline, false, scope?.cancel);
  await routeAll(core.cluster, writer, routed, bytes, (k, err) => errors.set(callerOf.get(k)!, err));
  await writer.finish();
  scope?.cancel?.check(); // aborted: the call rejects with AbortError, not with per-key failures
  return { values, errors };
}

/** Stores many items pipelined per server. Every item is serialized and checked before any is written. */
/** One key's request in a pipelined multi-key write. */
interface WriteJob {
  key: string;
  routed: string;
  bytes: Buffer;
}

/**
 * Stores many items pipelined per server. Every item is serialized and checked before any is
 * written. A key given twice is stored once, with its last value (as a `Map` built from the pairs).
 */
export async function setMulti(core: ClientCore, entries: Iterable<readonly [string, unknown]>, exptime: number, scope?: Scope): Promise<Map<string, boolean>> {
  const deadline = scope?.deadline ?? now() + core.opts.timeoutMs;
  const jobs = new Map<string, WriteJob>();
  // Every item is serialized before any is written, in time slices so a large call never stalls the loop.
  const slice = makeSlicer();
  let i = 0;
  for (const entry of entries) {
    const pause = slice(i++);
    if (pause) await pause;
    if (!Array.isArray(entry) || entry.length < 2) throw new InvalidArgumentError('setMulti takes [key, value] pairs (a Map or an array of pairs)');
    const [key, value] = entry as readonly [string, unknown];
    const p = core.prepare(key);
    const item = encodeValue(core.opts.serializer, value, key, core.opts.maxValueBytes);
    jobs.set(key, { key, routed: p.routed, bytes: encodeStore('set', p.routed, item.flags, exptime, item.data) });
  }
  return pipelined(core, [...jobs.values()], 'store', { STORED: true, NOT_STORED: false, EXISTS: false, NOT_FOUND: false }, 'set', deadline, scope);
}

/** Deletes many keys pipelined per server: `true` deleted, `false` absent. */
export async function deleteMulti(core: ClientCore, keys: readonly string[], scope?: Scope): Promise<Map<string, boolean>> {
  if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array of strings');
  const deadline = scope?.deadline ?? now() + core.opts.timeoutMs;
  // A key given twice is deleted once, and reported with that one result (not `false` for the repeat).
  const jobs = new Map<string, WriteJob>();
  const slice = makeSlicer();
  for (let i = 0; i < keys.length; i++) {
    const pause = slice(i);
    if (pause) await pause;
    const key = keys[i]!;
    const p = core.prepare(key);
    if (!jobs.has(key)) jobs.set(key, { key, routed: p.routed, bytes: encodeDelete(p.routed) });
  }
  return pipelined(core, [...jobs.values()], 'delete', { DELETED: true, NOT_FOUND: false }, 'delete', deadline, scope);
}

/**
 * Sends one request per key, a window at a time, all under the call's one deadline: when it passes,
 * the keys not answered yet fail with `TimeoutError` (in the `PartialFailureError`) and the keys not
 * sent yet are not sent.
 */
async function pipelined(
  core: ClientCore,
  jobs: WriteJob[],
  kind: ReplyKind,
  table: Record<string, boolean>,
  what: string,
  deadline: number,
  scope: Scope | undefined,
): Promise<Map<string, boolean>> {
  const cancel = scope?.cancel;
  if (core.closed) throw new ClientClosedError();
  const results = new Map<string, boolean>();
  const errors = new Map<string, MemclusterError>();
  const one = async (job: WriteJob): Promise<void> => {
    let node: ServerNode | undefined;
    try {
      node = core.cluster.nodeFor(job.routed);
      const reply: Reply = await new Promise((resolve, reject) => core.submit(node!, { bytes: job.bytes, kind, deadline, resolve, reject, key: job.routed, cancel }));
      if (reply.kind !== 'status' || !(reply.status in table)) throw new ProtocolError(`unexpected reply to ${what}: ${reply.kind}`, { server: node.server });
      results.set(job.key, table[reply.status]!);
    } catch (err) {
      errors.set(job.key, err as MemclusterError);
    }
  };
  // A window of requests in flight, so a huge call neither fills a server's queue (maxQueue) nor
  // writes without reading; each worker takes the next item as one settles.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && now() < deadline && !cancel?.aborted) await one(jobs[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, jobs.length) }, worker));
  cancel?.check();
  if (next < jobs.length) {
    const late = callTimeout(undefined);
    for (; next < jobs.length; next++) errors.set(jobs[next]!.key, late);
  }
  if (errors.size > 0) throw new PartialFailureError(`${what} failed for ${errors.size} of ${jobs.length} keys`, results, errors);
  return results;
}

import { now } from '../connection/connection.js';
import { ClientClosedError, InvalidArgumentError, MemclusterError, ProtocolError, type TimeoutError } from '../errors.js';
import { encodeDelete, encodeStore } from '../protocol/encoder.js';
import type { Reply, Wire } from '../protocol/types.js';
import type { Cancel, Job, ServerNode } from '../cluster/server-node.js';
import { callTimeout, goOn, makeSlicer, partialFailure } from './batch.js';
import type { Scope } from './call.js';
import type { ClientCore } from './core.js';
import { encodeWriteBatch, verifyWriteBatch, writeBatchResult } from './meta-batch.js';
import { encodeItem, type WireItem } from './values.js';
import { describeValue } from '../text.js';

/** Keys one setMulti/deleteMulti call keeps in flight on text servers (one request each). */
const WINDOW = 1024;
/**
 * Keys one call keeps in flight on meta servers, in quiet batches of `maxBatchKeys` (41 batches at
 * the default 100): a batch is one request and one reply line per failure, so a wider window costs
 * little and keeps the servers busy (deleteMulti of 100,000 keys: ~10% more throughput than 1,024).
 */
const META_WINDOW = 4096;

/** One key's write: its item for a set, none for a delete. */
interface WriteJob {
  key: string;
  routed: string;
  item: WireItem | undefined;
}

/**
 * Stores many items pipelined per server. Every item is serialized and checked before any is
 * written. A key given twice is stored once, with its last value (as a `Map` built from the pairs).
 */
export async function setMulti(core: ClientCore, entries: Iterable<readonly [string, unknown]>, exptime: number, scope?: Scope): Promise<Map<string, boolean>> {
  if (entries === null || typeof (entries as Partial<Iterable<unknown>> | undefined)?.[Symbol.iterator] !== 'function') {
    throw new InvalidArgumentError(`setMulti takes [key, value] pairs (a Map or an array of pairs), got ${describeValue(entries)}`);
  }
  const deadline = scope?.deadline ?? now() + core.opts.timeoutMs;
  const jobs = new Map<string, WriteJob>();
  // Every item is serialized before any is written, in time slices so a large call never stalls the loop.
  const slice = makeSlicer();
  let i = 0;
  for (const entry of entries) {
    const pause = slice(i++);
    if (pause) {
      await pause;
      goOn(scope?.cancel, core.closed, deadline);
    }
    if (!Array.isArray(entry) || entry.length < 2) throw new InvalidArgumentError('setMulti takes [key, value] pairs (a Map or an array of pairs)');
    const [key, value] = entry as readonly [string, unknown];
    const p = core.prepare(key);
    jobs.set(key, { key, routed: p.routed, item: encodeItem(core.opts.serializer, value, key, core.opts.maxValueBytes) });
  }
  return writeAll(core, [...jobs.values()], 'set', exptime, deadline, scope);
}

/** Deletes many keys pipelined per server: `true` deleted, `false` absent; a key given twice is deleted once. */
export async function deleteMulti(core: ClientCore, keys: readonly string[], scope?: Scope): Promise<Map<string, boolean>> {
  if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array of strings');
  const deadline = scope?.deadline ?? now() + core.opts.timeoutMs;
  const seen = new Set<string>();
  const jobs: WriteJob[] = [];
  const slice = makeSlicer();
  for (let i = 0; i < keys.length; i++) {
    const pause = slice(i);
    if (pause) {
      await pause;
      goOn(scope?.cancel, core.closed, deadline);
    }
    const key = keys[i]!;
    const routed = core.routedKey(key);
    // One hash operation per key: the Set grew only for a key not seen before.
    const before = seen.size;
    seen.add(key);
    if (seen.size !== before) jobs.push({ key, routed, item: undefined });
  }
  return writeAll(core, jobs, 'delete', 0, deadline, scope);
}

const TEXT_RESULT: Record<string, boolean> = { STORED: true, NOT_STORED: false, EXISTS: false, NOT_FOUND: false, DELETED: true };

/** Where a text multi-key write's per-key outcomes go. */
interface TextSink {
  results: Map<string, boolean>;
  errors: Map<string, MemclusterError>;
  what: 'set' | 'delete';
  settle(): void;
}

/** One key's text `set`/`delete` in a multi-key write: no closure per key, one object. */
class TextWrite implements Job {
  readonly keys = undefined;
  readonly maxValues = undefined;
  readonly replyKeys = undefined;
  readonly verify = undefined;
  readonly read = undefined;

  constructor(
    readonly bytes: Wire, readonly kind: 'store' | 'delete', readonly deadline: number, readonly key: string,
    readonly cancel: Cancel | undefined, private readonly callerKey: string, private readonly server: string, private readonly sink: TextSink,
  ) {}

  resolve(reply: Reply): void {
    const s = this.sink;
    if (reply.kind === 'status' && reply.status in TEXT_RESULT) s.results.set(this.callerKey, TEXT_RESULT[reply.status]!);
    else s.errors.set(this.callerKey, new ProtocolError(`unexpected reply to ${s.what}: ${reply.kind}`, { server: this.server }));
    s.settle();
  }

  reject(err: MemclusterError): void {
    this.sink.errors.set(this.callerKey, err);
    this.sink.settle();
  }
}

/**
 * Sends every key's write to its server under the call's one deadline: on meta servers as quiet
 * `ms`/`md` batches of `maxBatchKeys` fenced by `mn`, on text servers one request per key. At most
 * `WINDOW` keys (text) or `META_WINDOW` keys (meta) are in flight, so a huge call neither fills a server's queue nor writes without
 * reading. When the deadline passes, the keys not answered fail with `TimeoutError` (in the
 * `PartialFailureError`) and the keys not sent are not sent.
 */
async function writeAll(core: ClientCore, jobs: WriteJob[], what: 'set' | 'delete', exptime: number, deadline: number, scope: Scope | undefined): Promise<Map<string, boolean>> {
  if (core.closed) throw new ClientClosedError();
  // Keys are routed now and written through the window later: a server removed meanwhile stays open for them.
  const hold = core.cluster.hold(deadline);
  try {
    return await writeRouted(core, jobs, what, exptime, deadline, scope);
  } finally {
    hold.release();
  }
}

async function writeRouted(core: ClientCore, jobs: WriteJob[], what: 'set' | 'delete', exptime: number, deadline: number, scope: Scope | undefined): Promise<Map<string, boolean>> {
  const cancel = scope?.cancel;
  const results = new Map<string, boolean>();
  const errors = new Map<string, MemclusterError>();
  const text: Array<{ job: WriteJob; node: ServerNode }> = [];
  const meta: Array<{ jobs: WriteJob[]; node: ServerNode }> = [];
  const open = new Map<ServerNode, WriteJob[]>();
  const slice = makeSlicer();
  for (let i = 0; i < jobs.length; i++) {
    const pause = slice(i);
    if (pause) await pause;
    const job = jobs[i]!;
    let node: ServerNode;
    try {
      node = core.cluster.nodeFor(job.routed);
    } catch (err) {
      errors.set(job.key, err as MemclusterError);
      continue;
    }
    if (node.meta !== true) {
      text.push({ job, node });
      continue;
    }
    let batch = open.get(node);
    if (!batch) open.set(node, (batch = []));
    batch.push(job);
    if (batch.length >= core.opts.maxBatchKeys) {
      meta.push({ jobs: batch, node });
      open.delete(node);
    }
  }
  for (const [node, batch] of open) meta.push({ jobs: batch, node });

  // A meta batch carries its keys (`keys`), so it keeps call order with the requests for them.
  const submit = (node: ServerNode, bytes: Wire, keys: readonly string[], verify: (r: Reply) => MemclusterError | undefined, maxValues: number): Promise<Reply> =>
    new Promise((resolve, reject) => core.submit(node, { bytes, kind: 'meta_batch', deadline, resolve, reject, keys, cancel, verify, maxValues }));

  const live = (): boolean => now() < deadline && !cancel?.aborted;
  // Text: one request per key, a window of them in flight, driven by callbacks (no promise per key).
  let nextText = 0;
  const textDone = new Promise<void>((done) => {
    let active = 0;
    let pumping = false;
    // Under maxQueue too: one call must not fill a server's queue on its own.
    const window = Math.max(1, Math.min(WINDOW, core.opts.maxQueue - 1));
    const settle = (): void => {
      active--;
      if (!pumping) pump();
    };
    const sink: TextSink = { results, errors, what, settle };
    const pump = (): void => {
      pumping = true;
      // The clock is read every 64 keys, not per key.
      while (active < window && nextText < text.length && ((nextText & 63) !== 0 || live())) {
        const { job, node } = text[nextText++]!;
        active++;
        let bytes: Wire;
        try {
          bytes = job.item ? encodeStore('set', job.routed, job.item.flags, exptime, job.item.data, job.item.bytes) : encodeDelete(job.routed);
        } catch (err) {
          errors.set(job.key, err as MemclusterError);
          active--;
          continue;
        }
        core.submit(node, new TextWrite(bytes, job.item ? 'store' : 'delete', deadline, job.routed, cancel, job.key, node.server, sink));
      }
      pumping = false;
      if (active === 0) done();
    };
    pump();
  });
  const oneBatch = async ({ jobs: batch, node }: { jobs: WriteJob[]; node: ServerNode }): Promise<void> => {
    try {
      const n = batch.length;
      const reply = await submit(node, encodeWriteBatch(batch, exptime), batch.map((j) => j.routed), (r) => verifyWriteBatch(r, n, node.server, what === 'set'), n);
      const out = writeBatchResult(reply as Extract<Reply, { kind: 'meta_batch' }>, batch, node.server);
      for (let i = 0; i < n; i++) {
        const r = out[i]!;
        if (typeof r === 'boolean') results.set(batch[i]!.key, r);
        else errors.set(batch[i]!.key, r);
      }
    } catch (err) {
      for (const job of batch) errors.set(job.key, err as MemclusterError);
    }
  };

  let nextMeta = 0;
  const metaWorker = async (): Promise<void> => {
    while (nextMeta < meta.length && live()) await oneBatch(meta[nextMeta++]!);
  };
  const metaWorkers = Math.max(1, Math.min(Math.floor(META_WINDOW / core.opts.maxBatchKeys), core.opts.maxQueue - 1));
  await Promise.all([textDone, ...Array.from({ length: Math.min(metaWorkers, meta.length) }, metaWorker)]);
  cancel?.check();
  if (nextText < text.length || nextMeta < meta.length) {
    // One error per server, naming it (the keys were routed; they were not written in time).
    const late = new Map<string, TimeoutError>();
    const lateOn = (server: string): TimeoutError => {
      let e = late.get(server);
      if (!e) late.set(server, e = callTimeout(server));
      return e;
    };
    for (; nextText < text.length; nextText++) errors.set(text[nextText]!.job.key, lateOn(text[nextText]!.node.server));
    for (; nextMeta < meta.length; nextMeta++) {
      const e = lateOn(meta[nextMeta]!.node.server);
      for (const job of meta[nextMeta]!.jobs) errors.set(job.key, e);
    }
  }
  if (errors.size > 0) throw partialFailure(what, jobs.length, results, errors);
  return results;
}

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { now } from '../connection/connection.js';
import { ClientClosedError, MemclusterError, PartialFailureError, ProtocolError, TimeoutError } from '../errors.js';
import { encodeGat, encodeGet } from '../protocol/encoder.js';
import type { Reply, ValueEntry } from '../protocol/types.js';
import { encodeReadBatch, readBatchResult, verifyReadBatch } from './meta-batch.js';
import { chooseAtWrite } from './meta.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Cancel, Job, ServerNode } from '../cluster/server-node.js';
import { batchTrace, beginBatchTrace, endBatchTrace, isTraced, type BatchTraceContext } from '../tracing.js';

/** A retrieval command that takes many keys on one line. */
export type RetrievalCommand = 'get' | 'gets' | 'gat' | 'gats';

/** memcached closes a non-get line at 2048 bytes without a newline; keep gat/gats lines clear of it. */
const NON_GET_LINE_LIMIT = 2040;
/** A large multi-key call gives the event loop back after this much work, so it never stalls it. */
const SLICE_MS = 4;
/** Batches one call may have queued or in flight; more wait, so a huge call cannot fill `maxQueue`. */
const MAX_OUTSTANDING_BATCHES = 1024;

/**
 * Call with a running index; every 256 items it checks the clock and yields to the event loop once
 * `SLICE_MS` have passed. Returns a promise only when it yields, so the common path costs no await.
 */
export function makeSlicer(): (i: number) => Promise<void> | undefined {
  let last = now();
  return (i) => {
    if ((i & 255) !== 0 || now() - last < SLICE_MS) return undefined;
    return yieldToLoop().then(() => { last = now(); });
  };
}

/**
 * After a pause of a multi-key call's checking of its keys (nothing written yet): the call stops
 * with its `AbortError` once aborted, `ClientClosedError` once the client closed, and
 * `TimeoutError` once its whole-call deadline passed, rather than checking every key first.
 */
export function goOn(cancel: { check(): void } | undefined, closed: boolean, deadline: number): void {
  cancel?.check();
  if (closed) throw new ClientClosedError();
  if (now() >= deadline) throw new TimeoutError("the call's timeout passed while its keys were being checked (nothing was sent)");
}

/** How multi-key requests are cut into lines. */
export interface BatchLimits {
  maxBatchKeys: number;
  maxBatchBytes: number;
  /** Requests waiting per server: one call's outstanding batches stay below it (see `BatchWriter.cap`). */
  maxQueue: number;
  timeoutMs: number;
  /** Keys in `memcluster:batch` trace contexts. */
  traceKeys?: boolean;
}

/** Called once per batch with the server's values for it (in request order), or the error that lost it. */
export type BatchSink = (server: string, keys: string[], values: ValueEntry[] | undefined, err: MemclusterError | undefined) => void;

/**
 * Builds capped request lines per server and submits each as it fills, so the first batches are on
 * the wire while later keys are still being routed. A line never exceeds `maxBatchKeys` keys or
 * `maxBatchBytes` bytes (`\r\n` included); one over-long key still goes alone.
 *
 * Every batch of one call shares the call's deadline: when it passes, what is not answered yet
 * rejects with `TimeoutError` and nothing more is sent.
 */
export class BatchWriter {
  private readonly open = new Map<ServerNode, { keys: string[]; bytes: number }>();
  private readonly prefixBytes: number;
  private readonly maxBytes: number;
  private outstanding = 0;
  /**
   * Batches of this call outstanding at once: MAX_OUTSTANDING_BATCHES, and under `maxQueue` (the
   * last partly filled batch of each server comes on top at `finish`), so one call never fills a
   * server's queue on its own (memcached 2.2.2 counted a multi-get as one query per server).
   */
  private readonly cap: number;
  /** Open `memcluster:batch` traces by request line (only while someone subscribes). */
  private traces: Map<string[], BatchTraceContext> | undefined;
  private finished = false;
  private done: (() => void) | undefined;
  private roomWaiter: (() => void) | undefined;

  /** The call's deadline (monotonic ms). */
  readonly deadline: number;

  /**
   * @param deadline the whole call's deadline (monotonic ms); default: `timeoutMs` from now.
   */
  constructor(
    private readonly cmd: RetrievalCommand,
    private readonly exptime: number,
    private readonly limits: BatchLimits,
    private readonly sink: BatchSink,
    deadline?: number,
    /** The call's cancellation, when it has a signal. */
    readonly cancel?: Cancel,
  ) {
    this.deadline = deadline ?? now() + limits.timeoutMs;
    this.cap = Math.max(1, Math.min(MAX_OUTSTANDING_BATCHES, limits.maxQueue - 1));
    this.prefixBytes = cmd.length + 1 + (cmd === 'gat' || cmd === 'gats' ? String(exptime).length + 1 : 0) + 2;
    this.maxBytes = cmd === 'gat' || cmd === 'gats' ? Math.min(limits.maxBatchBytes, NON_GET_LINE_LIMIT) : limits.maxBatchBytes;
  }

  /** Adds one routed, validated key (`keyBytes` = its UTF-8 length). */
  add(node: ServerNode, key: string, keyBytes: number): void {
    let batch = this.open.get(node);
    if (batch && (batch.keys.length >= this.limits.maxBatchKeys || batch.bytes + 1 + keyBytes > this.maxBytes)) {
      this.submit(node, batch.keys);
      batch = undefined;
    }
    if (!batch) {
      batch = { keys: [], bytes: this.prefixBytes - 1 };
      this.open.set(node, batch);
    }
    batch.keys.push(key);
    batch.bytes += 1 + keyBytes;
  }

  /** Whether the call has as many batches outstanding as it may (`room()` then waits). */
  get full(): boolean {
    return this.outstanding >= this.cap;
  }

  /** Resolves when the call may have more batches outstanding (undefined when it already may). */
  room(): Promise<void> | undefined {
    if (this.outstanding < this.cap) return undefined;
    return new Promise((resolve) => { this.roomWaiter = resolve; });
  }

  /** Submits the partly filled batches and resolves when every batch has settled. */
  finish(): Promise<void> {
    for (const [node, batch] of this.open) this.submit(node, batch.keys);
    this.open.clear();
    this.finished = true;
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => { this.done = resolve; });
  }

  private submit(node: ServerNode, keys: string[]): void {
    this.outstanding++;
    if (isTraced(batchTrace)) (this.traces ??= new Map()).set(keys, beginBatchTrace(this.cmd, node.server, keys, this.limits.traceKeys));
    if (now() >= this.deadline) {
      this.settle(node.server, keys, undefined, callTimeout(node.server));
      return;
    }
    const withCas = this.cmd === 'gets' || this.cmd === 'gats';
    // Every batch carries its keys: it keeps call order with the requests for them made before and
    // after it (a set then a getMulti, a get then a delete), across the server's sockets.
    const key = keys.length === 1 ? keys[0] : undefined;
    const orderKeys = keys.length > 1 ? keys : undefined;
    const meta = node.meta;
    const touch = this.cmd === 'gat' || this.cmd === 'gats' ? this.exptime : undefined;
    const settleMeta = (reply: Extract<Reply, { kind: 'meta_batch' }>): void => {
      const r = readBatchResult(reply, keys, node.server, node, this.limits.timeoutMs);
      if (r.handingBack) void Promise.all(r.handingBack).then(() => this.settle(node.server, keys, r.values, undefined, r.failed));
      else this.settle(node.server, keys, r.values, undefined, r.failed);
    };
    const metaNow = meta === true;
    const metaVerify = (reply: Reply): MemclusterError | undefined => verifyReadBatch(reply, keys, node.server);
    // One literal, one shape (it is on the hot path): the text form unless the server speaks meta.
    const job: Job = {
      // Quiet mg lines fenced by mn: no long line at all; placeholders and stale items read as misses.
      bytes: metaNow ? encodeReadBatch(keys, withCas, touch) : this.cmd === 'get' || this.cmd === 'gets' ? encodeGet(this.cmd, keys) : encodeGat(this.cmd, this.exptime, keys),
      kind: metaNow ? 'meta_batch' : 'retrieval',
      maxValues: keys.length,
      replyKeys: keys,
      deadline: this.deadline,
      key,
      keys: orderKeys,
      read: metaNow ? touch === undefined : this.cmd === 'get' || this.cmd === 'gets',
      cancel: this.cancel,
      verify: metaNow ? metaVerify : (reply) => verifyRetrieval(reply, keys, node.server, withCas),
      // The parser matched every hit to `keys` (replyKeys): hits carry the request's own key strings.
      resolve: (reply) => {
        if (reply.kind === 'meta_batch') settleMeta(reply);
        else this.settle(node.server, keys, (reply as { values: ValueEntry[] }).values, undefined);
      },
      reject: (err) => this.settle(node.server, keys, undefined, err),
    };
    // Not known yet (the first calls to a server): the form is chosen when the batch is written.
    if (meta === undefined) chooseAtWrite(node, job, { bytes: encodeReadBatch(keys, withCas, touch), kind: 'meta_batch', read: touch === undefined, verify: metaVerify });
    node.submit(job);
  }

  private settle(
    server: string, keys: string[], values: ValueEntry[] | undefined, err: MemclusterError | undefined,
    failed?: { keys: string[]; err: MemclusterError },
  ): void {
    this.outstanding--;
    const trace = this.traces?.get(keys);
    if (trace) {
      this.traces!.delete(keys);
      endBatchTrace(trace, values, err ?? failed?.err);
    }
    if (failed) {
      // Keys an error line took inside a quiet batch fail with it; the others are hits or misses.
      const lost = new Set(failed.keys);
      this.sink(server, keys.filter((k) => !lost.has(k)), values, undefined);
      this.sink(server, failed.keys, undefined, failed.err);
    } else {
      this.sink(server, keys, values, err);
    }
    if (this.roomWaiter && this.outstanding <= this.cap / 2) {
      const wake = this.roomWaiter;
      this.roomWaiter = undefined;
      wake();
    }
    if (this.finished && this.outstanding === 0) this.done?.();
  }
}

/**
 * memcached answers a multi-key line with the hits in request order. Walking both lists once proves
 * every VALUE was asked for (linear, no per-key lookups).
 */
export function verifyRetrieval(reply: Reply, keys: readonly string[], server: string, withCas = false): MemclusterError | undefined {
  if (reply.kind !== 'values') return new ProtocolError(`expected VALUE/END, got ${reply.kind}`, { server });
  let i = 0;
  for (const v of reply.values) {
    if (withCas && v.cas === undefined) return new ProtocolError('gets/gats reply carried no cas', { server });
    while (i < keys.length && keys[i] !== v.key) i++;
    if (i === keys.length) return new ProtocolError(`server returned key ${JSON.stringify(v.key.slice(0, 60))} that was not requested (or out of order)`, { server });
    i++;
  }
  return undefined;
}

/**
 * Routes validated keys into a writer, yielding to the event loop every few milliseconds of work
 * and whenever the call already has many batches outstanding. A key whose server is down (and not
 * failed over) is reported at once, never sent. Undefined when every key was routed at once (no
 * pause): the caller then submits what is left in the same tick, so a call made after this one
 * cannot be written first.
 */
export function routeAll(
  cluster: Cluster,
  writer: BatchWriter,
  routed: readonly string[],
  keyBytes: readonly number[],
  onUnroutable: (routedKey: string, err: MemclusterError) => void,
): Promise<void> | undefined {
  const slice = makeSlicer();
  // One error per down server per call (not one per key: a 10,000-key call would build 10,000 stacks).
  const unavailable = new Map<ServerNode, MemclusterError>();
  const from = (start: number): Promise<void> | undefined => {
    for (let i = start; i < routed.length; i++) {
      // The clock is read every 256 keys (the slicer's own period); the call's batch cap at every key.
      const pause = i === start ? undefined : (i & 255) === 0 ? slice(i) ?? writer.room() : writer.full ? writer.room() : undefined;
      if (pause) return pause.then(() => afterPause(i));
      const key = routed[i]!;
      let node: ServerNode;
      try {
        node = cluster.nodeFor(key);
      } catch (err) {
        onUnroutable(key, err as MemclusterError);
        continue;
      }
      if (node.health.isDown) {
        let err = unavailable.get(node);
        if (!err) unavailable.set(node, (err = node.unavailable()));
        onUnroutable(key, err);
      }
      else writer.add(node, key, keyBytes[i]!);
    }
    return undefined;
  };
  const afterPause = (i: number): Promise<void> | undefined => {
    // The call's time is up, or it was aborted: the keys not sent yet fail with it, never as misses
    // (a timeout names each key's server, one error per server).
    if (writer.cancel?.aborted) {
      for (; i < routed.length; i++) onUnroutable(routed[i]!, writer.cancel.reason!);
      return undefined;
    }
    if (now() < writer.deadline) return from(i);
    const late = new Map<string, TimeoutError>();
    for (; i < routed.length; i++) {
      let server: string | undefined;
      try {
        server = cluster.nodeFor(routed[i]!).server;
      } catch {
        server = undefined; // no server at all (an empty ring): the timeout names none
      }
      let err = late.get(server ?? '');
      if (!err) late.set(server ?? '', err = callTimeout(server));
      onUnroutable(routed[i]!, err);
    }
    return undefined;
  };
  return from(0);
}

/** The error for keys of a multi-key call whose whole-call deadline passed before they were answered. */
export function callTimeout(server: string | undefined): TimeoutError {
  return new TimeoutError("the call's timeout passed before this key was answered", { server });
}

/** A multi-key call's `PartialFailureError`: how many of its distinct keys failed, and on which servers. */
export function partialFailure<T>(what: string, keys: number, values: Map<string, T>, errors: Map<string, MemclusterError>): PartialFailureError<T> {
  const servers = new Set([...errors.values()].map((e) => e.server ?? '?'));
  return new PartialFailureError(`${what} failed for ${errors.size} of ${keys} keys (servers: ${[...servers].join(', ')})`, values, errors);
}

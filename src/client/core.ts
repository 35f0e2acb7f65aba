import { AsyncLocalStorage } from 'node:async_hooks';
import { now } from '../connection/connection.js';
import { ClientClosedError, MemclusterError, ProtocolError, ReplyTooLargeError } from '../errors.js';
import { validateKey } from '../protocol/keys.js';
import type { Reply, ReplyKind, ValueEntry, Wire } from '../protocol/types.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Cancel, Job, ServerNode } from '../cluster/server-node.js';
import type { Verify } from '../connection/connection.js';
import { BatchWriter, verifyRetrieval } from './batch.js';
import type { Scope } from './call.js';
import { chooseAtWrite, entryOf, handBackIfWon, metaGetLine, type RequestForm } from './meta.js';
import type { ResolvedOptions } from './options.js';
import { decodeHit, decodeValue } from './values.js';
import { Hit, TOO_LARGE } from '../protocol/hit.js';
import { describeValue } from '../text.js';
import { batchTrace, isTraced } from '../tracing.js';

const noop = (): void => {};

/** One single-key request: what its server's queue and socket need, and its call's promise to settle. */
class SingleRequest<T> implements Job {
  readonly keys = undefined;
  maxValues: number | undefined;
  readonly replyKeys: readonly string[] | undefined;
  /** Set by `chooseAtWrite` when the request's form waits for what the server speaks. */
  prepare?: () => void;
  /** Set by a caller that must act on a reply arriving after its call gave up (see `Outgoing.late`). */
  late?: (reply: Reply) => void;

  constructor(
    public bytes: Wire, public kind: ReplyKind, readonly deadline: number, public verify: Verify | undefined,
    readonly key: string | undefined, readonly read: boolean | undefined, readonly cancel: Cancel | undefined,
    private readonly map: ((reply: Reply) => T) | undefined,
    /** The call's promise: set before the request is submitted. */
    public done: (value: T) => void = noop, public fail: (err: MemclusterError) => void = noop,
  ) {
    // Every single-key call that expects VALUE blocks asked for exactly one key.
    this.maxValues = kind === 'retrieval' ? 1 : undefined;
    // A hit names the key asked for: matched by the parser without decoding it.
    this.replyKeys = key !== undefined && (kind === 'retrieval' || kind === 'meta') ? [key] : undefined;
  }

  resolve(reply: Reply): void {
    if (this.map === undefined) return this.done(reply as T);
    let value: T;
    try {
      value = this.map(reply);
    } catch (err) {
      return this.fail(err as MemclusterError);
    }
    this.done(value);
  }

  reject(err: MemclusterError): void {
    this.fail(err);
  }
}

/** A key ready for the wire: the caller's key, the routed (prefixed) key and its UTF-8 length. */
export interface PreparedKey {
  key: string;
  routed: string;
  bytes: number;
}

/** A `get` held for the tick's coalesced lines; `context` is its caller's, kept while someone traces. */
interface TickGet {
  p: PreparedKey;
  node: ServerNode;
  resolve(value: unknown): void;
  reject(err: MemclusterError): void;
  context?: (<R>(fn: () => R) => R) | undefined;
}

interface Waiter {
  key: string;
  resolve(value: unknown): void;
  reject(err: MemclusterError): void;
}

/**
 * What the public API and the multi-key helpers share: options, the cluster, key preparation,
 * request submission with the call's deadline, and the coalescer that merges same-tick `get`s.
 */
export class ClientCore {
  closed = false;
  private readonly prefixBytes: number;
  /** The `get`s issued in the current tick, flushed on the next one. */
  private tick: TickGet[] | undefined;
  /** The async context the client was made in: request lines shared by several traced callers go out in it. */
  private readonly rootContext = AsyncLocalStorage.snapshot();

  constructor(readonly opts: ResolvedOptions, readonly cluster: Cluster) {
    this.prefixBytes = Buffer.byteLength(opts.keyPrefix);
  }

  /** Validates a caller key (with the prefix) before anything is written; throws `InvalidKeyError`. */
  prepare(key: string): PreparedKey {
    if (this.closed) throw new ClientClosedError();
    if (this.prefixBytes === 0) return { key, routed: key, bytes: validateKey(key) };
    // The caller's key itself must be a valid key: a prefix must not turn '' into a real key.
    if (typeof key !== 'string' || key.length === 0) validateKey(key);
    const routed = this.opts.keyPrefix + key;
    return { key, routed, bytes: validateKey(routed) };
  }

  /** `prepare(key).routed`, without the object: for calls that need the routed key alone. */
  routedKey(key: string): string {
    if (this.closed) throw new ClientClosedError();
    if (this.prefixBytes === 0) {
      validateKey(key);
      return key;
    }
    return this.prepare(key).routed;
  }

  /**
   * Sends one request to the key's server; settles by the call's deadline. `key` (the routed key of
   * a single-key request) keeps one key's requests in call order across the server's sockets.
   */
  send(
    node: ServerNode, bytes: Wire, kind: ReplyKind, verify?: (reply: Reply) => MemclusterError | undefined, key?: string, scope?: Scope, read?: boolean,
    late?: (reply: Reply) => void,
  ): Promise<Reply> {
    return this.sendMapped(node, bytes, kind, undefined, verify, key, scope, read, late);
  }

  /**
   * `send`, settling with `map(reply)` instead of the reply (a throw from `map` rejects): one promise
   * per call, not one more per `.then`.
   */
  sendMapped<T>(
    node: ServerNode, bytes: Wire, kind: ReplyKind, map: ((reply: Reply) => T) | undefined, verify?: Verify, key?: string, scope?: Scope, read?: boolean,
    late?: (reply: Reply) => void,
  ): Promise<T> {
    const job = new SingleRequest<T>(bytes, kind, scope?.deadline ?? now() + this.opts.timeoutMs, verify, key, read, scope?.cancel, map);
    if (late) job.late = late;
    return new Promise<T>((resolve, reject) => {
      job.done = resolve;
      job.fail = reject;
      this.submit(node, job);
    });
  }

  /**
   * `send` of a request whose form depends on what the server speaks, for a server whose protocol
   * is not known yet (see `chooseAtWrite`); the reply's kind (`meta` or not) says which form went.
   */
  sendEither(node: ServerNode, text: RequestForm, meta: RequestForm, key: string, scope?: Scope, read?: boolean): Promise<Reply> {
    const job = new SingleRequest<Reply>(text.bytes, text.kind, scope?.deadline ?? now() + this.opts.timeoutMs, text.verify, key, read, scope?.cancel, undefined);
    chooseAtWrite(node, job, { bytes: meta.bytes, kind: meta.kind, verify: meta.verify, maxValues: undefined });
    return new Promise<Reply>((resolve, reject) => {
      job.done = resolve;
      job.fail = reject;
      this.submit(node, job);
    });
  }

  /**
   * Hands a request to its server, after the `get`s this tick is still holding: a call made later
   * must never be written before one made earlier (a `get` then a `delete` of the same key must read
   * the old value).
   */
  submit(node: ServerNode, job: Job): void {
    if (this.tick) this.flushTick();
    node.submit(job);
  }

  /** The reply of a single-key retrieval: the one VALUE for `routed`, or undefined on a miss. */
  single(reply: Reply, routed: string, server: string): ValueEntry | undefined {
    if (reply.kind !== 'values' || reply.values.length > 1) throw new ProtocolError(`unexpected reply to a single-key retrieval: ${reply.kind}`, { server });
    const v = reply.values[0];
    if (v && v.key !== routed) throw new ProtocolError('server returned a different key than requested', { server });
    return v;
  }

  decode(v: ValueEntry, key: string, server: string): unknown {
    if (v instanceof Hit) {
      if (v.buf === TOO_LARGE) throw this.tooLarge(key, v.end, server);
      return decodeHit(this.opts.serializer, v, key, server);
    }
    if (v.data === TOO_LARGE) throw this.tooLarge(key, undefined, server);
    return decodeValue(this.opts.serializer, v.data, v.flags, key, server);
  }

  /** A value the parser read and dropped: larger than this client reads. */
  private tooLarge(key: string, bytes: number | undefined, server: string): ReplyTooLargeError {
    const size = bytes === undefined ? '' : ` (${bytes} bytes)`;
    return new ReplyTooLargeError(`the item ${describeValue(key)} is larger${size} than maxValueBytes (${this.opts.maxValueBytes}); it was read and dropped, the socket is fine`, { server });
  }

  /** One `get` on its own request line: the value, or undefined on a miss. */
  getOne(p: PreparedKey, node: ServerNode, scope?: Scope): Promise<unknown> {
    return new Promise((resolve, reject) => this.getInto(p, node, scope, resolve, reject));
  }

  /**
   * `getOne` settling the caller's own promise: the request's reply is checked and decoded as it
   * arrives and the value handed to `resolve`, with no promise or async step of its own.
   */
  private getInto(p: PreparedKey, node: ServerNode, scope: Scope | undefined, resolve: (value: unknown) => void, reject: (err: MemclusterError) => void): void {
    const deadline = scope?.deadline ?? now() + this.opts.timeoutMs;
    const meta = node.meta;
    // The parser matches a meta reply's key to p.routed (replyKeys), as verifyMetaKey would.
    if (meta === true) {
      const read = (r: Reply): unknown => this.metaGot(r, p, node);
      this.submit(node, new SingleRequest(metaGetLine(p.routed), 'meta', deadline, undefined, p.routed, true, scope?.cancel, read, resolve, reject));
      return;
    }
    const verify = (r: Reply): MemclusterError | undefined => verifyRetrieval(r, [p.routed], node.server);
    const read = meta === false
      ? (r: Reply): unknown => this.textGot(r, p, node)
      : (r: Reply): unknown => (r.kind === 'meta' ? this.metaGot(r, p, node) : this.textGot(r, p, node));
    const job = new SingleRequest(`get ${p.routed}\r\n`, 'retrieval', deadline, verify, p.routed, true, scope?.cancel, read, resolve, reject);
    if (meta === undefined) chooseAtWrite(node, job, { bytes: metaGetLine(p.routed), kind: 'meta', verify: undefined, maxValues: undefined });
    this.submit(node, job);
  }

  /** A `get`'s meta reply: the value, or undefined (a miss, a placeholder, a stale item). */
  private metaGot(r: Reply, p: PreparedKey, node: ServerNode): unknown {
    if (r.kind !== 'meta') throw new ProtocolError(`unexpected reply to a meta request: ${r.kind}`, { server: node.server });
    // A stale item's refresh right this read won goes back (first: even if decoding fails), and
    // the read settles after it (rare).
    const back = handBackIfWon(node, r, p.routed, this.opts.timeoutMs);
    const v = entryOf(r, p.routed);
    if (!back) return v && this.decode(v, p.key, node.server);
    return back.then(() => v && this.decode(v, p.key, node.server));
  }

  /** A `get`'s text reply: the value, or undefined on a miss. */
  private textGot(r: Reply, p: PreparedKey, node: ServerNode): unknown {
    const v = this.single(r, p.routed, node.server);
    return v && this.decode(v, p.key, node.server);
  }

  /**
   * A `get` that joins every other `get` issued in this tick: per server, one request line (capped
   * like any batch) answers them all, and same-tick duplicates share one key on the line. A tick
   * with a single `get` sends it on its own line, so a sequential caller pays no batching.
   */
  coalescedGet(p: PreparedKey, node: ServerNode): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.tick) {
        this.tick = [];
        process.nextTick(this.flushTick);
      }
      this.tick.push({ p, node, resolve, reject, context: isTraced(batchTrace) ? AsyncLocalStorage.snapshot() : undefined });
    });
  }

  private readonly flushTick = (): void => {
    const gets = this.tick;
    if (!gets) return; // flushed early by a later call (see submit)
    this.tick = undefined;
    if (gets.length === 1) {
      const g = gets[0]!;
      this.getInto(g.p, g.node, undefined, g.resolve, g.reject);
      return;
    }
    if (gets[0]!.context) return this.flushTraced(gets);
    this.coalesce(gets);
  };

  /**
   * A traced tick: the flush runs in the context of the tick's first `get`, and a request line must
   * not be traced under a caller it does not serve (another request's trace). A server asked by one
   * caller gets that caller's line in the caller's own context; lines shared by several callers go
   * out in the client's root context (no caller's span as parent).
   */
  private flushTraced(gets: TickGet[]): void {
    const byNode = new Map<ServerNode, TickGet[]>();
    for (const g of gets) {
      const list = byNode.get(g.node);
      if (list) list.push(g);
      else byNode.set(g.node, [g]);
    }
    const shared: TickGet[] = [];
    for (const list of byNode.values()) {
      if (list.length > 1) shared.push(...list);
      else list[0]!.context!(() => this.getInto(list[0]!.p, list[0]!.node, undefined, list[0]!.resolve, list[0]!.reject));
    }
    if (shared.length > 0) this.rootContext(() => this.coalesce(shared));
  }

  /** The tick's `get`s as capped lines per server, same-key duplicates sharing one key. */
  private coalesce(gets: TickGet[]): void {
    const waiters = new Map<string, Waiter[]>();
    const writer = new BatchWriter('get', 0, this.opts, (server, keys, values, err) => this.deliver(waiters, server, keys, values, err));
    for (const g of gets) {
      if (g.node.writing(g.p.routed)) {
        // A write of this key is in flight while several sockets are busy: read it alone, after it.
        this.getInto(g.p, g.node, undefined, g.resolve, g.reject);
        continue;
      }
      const waiter = { key: g.p.key, resolve: g.resolve, reject: g.reject };
      const list = waiters.get(g.p.routed);
      if (list) {
        list.push(waiter);
        continue;
      }
      waiters.set(g.p.routed, [waiter]);
      writer.add(g.node, g.p.routed, g.p.bytes);
    }
    void writer.finish();
  }

  private deliver(waiters: Map<string, Waiter[]>, server: string, keys: string[], values: ValueEntry[] | undefined, err: MemclusterError | undefined): void {
    if (!values) {
      for (const k of keys) for (const w of waiters.get(k)!) w.reject(err!);
      return;
    }
    let vi = 0;
    for (const k of keys) {
      const v = values[vi]?.key === k ? values[vi++] : undefined;
      for (const w of waiters.get(k)!) {
        if (!v) { w.resolve(undefined); continue; }
        try {
          w.resolve(this.decode(v, w.key, server));
        } catch (e) {
          w.reject(e as MemclusterError);
        }
      }
    }
  }
}

export { verifyRetrieval };

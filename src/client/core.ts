import { now } from '../connection/connection.js';
import { ClientClosedError, MemclusterError, ProtocolError } from '../errors.js';
import { validateKey } from '../protocol/keys.js';
import type { Reply, ReplyKind, ValueEntry } from '../protocol/types.js';
import type { Cluster } from '../cluster/cluster.js';
import type { ServerNode } from '../cluster/server-node.js';
import { BatchWriter, verifyRetrieval } from './batch.js';
import type { ResolvedOptions } from './options.js';
import { decodeValue } from './values.js';

/** A key ready for the wire: the caller's key, the routed (prefixed) key and its UTF-8 length. */
export interface PreparedKey {
  key: string;
  routed: string;
  bytes: number;
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
  private tick: { writer: BatchWriter; waiters: Map<string, Waiter[]> } | undefined;

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

  /** Sends one request to the key's server; settles by the call's deadline. */
  send(node: ServerNode, bytes: Buffer, kind: ReplyKind, verify?: (reply: Reply) => MemclusterError | undefined): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      // Every single-key call that expects VALUE blocks asked for exactly one key.
      node.submit({ bytes, kind, deadline: now() + this.opts.timeoutMs, resolve, reject, verify, maxValues: kind === 'retrieval' ? 1 : undefined });
    });
  }

  /** The reply of a single-key retrieval: the one VALUE for `routed`, or undefined on a miss. */
  single(reply: Reply, routed: string, server: string): ValueEntry | undefined {
    if (reply.kind !== 'values' || reply.values.length > 1) throw new ProtocolError(`unexpected reply to a single-key retrieval: ${reply.kind}`, { server });
    const v = reply.values[0];
    if (v && v.key !== routed) throw new ProtocolError('server returned a different key than requested', { server });
    return v;
  }

  decode(v: ValueEntry, key: string, server: string): unknown {
    return decodeValue(this.opts.serializer, v.data, v.flags, key, server);
  }

  /**
   * A `get` that joins every other `get` for the same server issued in this tick: one request line
   * (capped like any batch) answers them all. Same-tick duplicates share one key on the line.
   */
  coalescedGet(p: PreparedKey, node: ServerNode): Promise<unknown> {
    let tick = this.tick;
    if (!tick) {
      const waiters = new Map<string, Waiter[]>();
      const writer = new BatchWriter('get', 0, this.opts, (server, keys, values, err) => this.deliver(waiters, server, keys, values, err));
      tick = this.tick = { writer, waiters };
      process.nextTick(() => {
        this.tick = undefined;
        void writer.finish();
      });
    }
    return new Promise((resolve, reject) => {
      const list = tick.waiters.get(p.routed);
      const waiter = { key: p.key, resolve, reject };
      if (list) return list.push(waiter);
      tick.waiters.set(p.routed, [waiter]);
      tick.writer.add(node, p.routed, p.bytes);
    });
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

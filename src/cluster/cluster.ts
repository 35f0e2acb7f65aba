import createDebug from 'debug';
import { now } from '../connection/connection.js';
import { InvalidOptionError, MemclusterError, NoServersError, ServerUnavailableError } from '../errors.js';
import { MAX_ITEM_BYTES } from '../protocol/hit.js';
import { describeValue } from '../text.js';
import { parseAddress } from './address.js';
import { Ring, serverIds, type Locations } from './ring.js';
import { ServerNode, type ServerNodeHooks } from './server-node.js';
import type { ClusterOptions } from './server-types.js';

const log = createDebug('memcluster:cluster');

/** A call's hold on the servers it routes keys to (see `Cluster#hold`). */
export interface RouteHold {
  /** The call has submitted every key it routed (or gave up): servers removed meanwhile may close. */
  release(): void;
}

class Hold implements RouteHold {
  private released = false;
  constructor(private readonly deadline: number, private readonly holds: Set<Hold>) {}

  release(): void {
    this.released = true;
    this.holds.delete(this);
  }

  /** Still keeping removed servers open: not released, and the call's deadline not passed. */
  get active(): boolean {
    return !this.released && now() < this.deadline;
  }
}

/**
 * The ring and one `ServerNode` per server: routing (with optional failover while a server is
 * down) and run-time changes to the server list.
 */
export class Cluster {
  private readonly ring: Ring;
  private readonly nodes = new Map<string, ServerNode>();
  /** The nodes in ring-id order (`Ring#indexOf` indexes it): routing without a Map lookup per key. */
  private byIndex: Array<ServerNode | undefined> = [];
  /** Servers retiring (out of the ring, finishing what was routed to them), by the promise of their retirement. */
  private readonly closing = new Map<Promise<void>, ServerNode>();
  /** Calls routing keys now to submit them later (see `hold`). */
  private readonly holds = new Set<Hold>();
  private closed = false;

  /**
   * `asGiven`: take `locations` as `memcached` 2.2.2 (hashring) took them, for the compat layer: a
   * server listed twice is one server, and an object's weights are read as hashring reads them
   * (`+weight || 1`: '2' is 2, 0 is 1). The ring is built from `locations` as they are either way.
   */
  constructor(locations: Locations, private readonly opts: ClusterOptions, private readonly hooks: ServerNodeHooks, private readonly asGiven = false) {
    validateLocations(locations, asGiven);
    this.ring = new Ring(locations);
    for (const id of this.ring.servers) this.nodes.set(id, this.createNode(id));
    this.reindex();
  }

  private reindex(): void {
    this.byIndex = this.ring.servers.map((id) => this.nodes.get(id));
  }

  /** Every server, in ring-id order. */
  all(): ServerNode[] {
    return [...this.nodes.values()];
  }

  /** The server for a routed key (prefix + key). While it is down, with `failover`, the next live server on the ring. */
  nodeFor(routedKey: string): ServerNode {
    const node = this.byIndex[this.ring.indexOf(routedKey)];
    if (!node) throw new NoServersError();
    if (!node.health.isDown || !this.opts.failover) return node;
    for (const other of this.ring.range(routedKey, this.nodes.size)) {
      const candidate = this.nodes.get(other);
      if (candidate && !candidate.health.isDown) {
        log('key routed from down %s to %s (failover)', node.server, candidate.server);
        return candidate;
      }
    }
    return node;
  }

  /**
   * Taken by a call that routes keys now and submits them later (a multi-key call: a window of
   * writes, batches filled as keys are routed), before it routes its first key, and released (in a
   * `finally`) once it has submitted every key. A server removed or replaced meanwhile stays open
   * until then, so what the call routed to it before the change is written there, as promised by
   * `remove`. A hold lapses at the call's `deadline` (monotonic ms; nothing is written for the call
   * after it) and when the cluster closes. One Set insert and delete per call, nothing per key.
   */
  hold(deadline: number): RouteHold {
    const h = new Hold(deadline, this.holds);
    this.holds.add(h);
    return h;
  }

  /** True when `location` (as given) is in the ring. */
  has(location: string): boolean {
    return this.nodes.has(location);
  }

  /**
   * Adds a server at run time; keys route as hashring's ring of the new list routes them. With equal
   * weights, only the keys the new server takes over move (except at ring sizes where hashring's
   * rounding changes every server's points, see `Ring#add`); with weights, each server's share of
   * points is relative to the total weight, so a few % of keys also move between existing servers.
   */
  add(location: string, weight?: number): void {
    if (this.nodes.has(location)) throw new InvalidOptionError(`server ${location} is already in the cluster`);
    parseAddress(location);
    this.ring.add(location, weight); // validates the weight before anything changes
    this.nodes.set(location, this.createNode(location));
    this.reindex();
    log('server %s added (%d servers)', location, this.nodes.size);
  }

  /** Removes a server at run time: new requests route elsewhere, in-flight ones finish, then its sockets close. */
  async remove(location: string): Promise<void> {
    const node = this.nodes.get(location);
    if (!node) throw new InvalidOptionError(`server ${location} is not in the cluster`);
    this.ring.remove(location);
    this.nodes.delete(location);
    this.reindex();
    log('server %s removed (%d servers)', location, this.nodes.size);
    await this.retire(node, 'removed from the cluster');
  }

  /**
   * Replaces a server by another on the same ring points: the new server takes over exactly the old
   * one's keys (no other key moves). The old server's in-flight requests finish, then its sockets close.
   */
  async swap(from: string, to: string): Promise<void> {
    const node = this.nodes.get(from);
    if (!node) throw new InvalidOptionError(`server ${from} is not in the cluster`);
    // `asGiven` (compat): as hashring does, a server already in the ring takes the points too.
    if (this.nodes.has(to) && !this.asGiven) throw new InvalidOptionError(`server ${to} is already in the cluster`);
    parseAddress(to);
    if (this.nodes.has(to)) {
      this.nodes.delete(from);
    } else {
      const entries = [...this.nodes].map(([id, n]): [string, ServerNode] => (id === from ? [to, this.createNode(to)] : [id, n]));
      this.nodes.clear();
      for (const [id, n] of entries) this.nodes.set(id, n);
    }
    this.ring.swap(from, to);
    this.reindex();
    log('server %s swapped for %s', from, to);
    await this.retire(node, `replaced by ${to}`);
  }

  /**
   * A server that left the ring finishes what was routed to it before the change (each request
   * within its own deadline), then closes; anything that reaches it after that learns why.
   */
  private async retire(node: ServerNode, why: string): Promise<void> {
    // Calls holding now may have routed keys to the node; a hold taken later routes on the new ring.
    const before = [...this.holds];
    const held = (): boolean => !this.closed && before.some((h) => h.active);
    const done = node.retire(new ServerUnavailableError(`server was ${why}`, { server: node.server }), held);
    this.closing.set(done, node);
    await done.finally(() => this.closing.delete(done));
  }

  /**
   * Closes every server, those still retiring too (calls queued on them reject with
   * `ClientClosedError`; in-flight requests settle first, each within its timeout).
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all().map((n) => n.close()), ...[...this.closing.values()].map((n) => n.close()), ...this.closing.keys()]);
  }

  private createNode(id: string): ServerNode {
    const { host, port, label } = parseAddress(id);
    const o = this.opts;
    return new ServerNode(label, {
      pool: {
        host, port, server: label,
        connectTimeoutMs: o.connectTimeoutMs,
        // A written request unanswered for a whole call timeout, with no byte since: the server is failing.
        stallTimeoutMs: o.timeoutMs,
        maxValueBytes: o.maxValueBytes + 1024,
        // A larger item (a server with a larger -I, or grown by append) is read and dropped: that key
        // fails with ReplyTooLargeError, and the socket and its other replies are unharmed.
        dropValuesUpTo: MAX_ITEM_BYTES,
        tls: o.tls,
        auth: o.auth,
        maxConnections: o.maxConnections,
        minConnections: o.minConnections,
        idleTimeoutMs: o.idleTimeoutMs,
        acquireTimeoutMs: o.timeoutMs,
        validation: o.validation,
        validateTimeoutMs: o.validateTimeoutMs,
        trustRecentMs: o.trustRecentMs,
        allowExitOnIdle: o.allowExitOnIdle,
      },
      health: {
        failureThreshold: o.failureThreshold,
        retryDelayMs: o.retryDelayMs,
        maxRetryDelayMs: o.maxRetryDelayMs,
        validateTimeoutMs: o.validateTimeoutMs,
      },
      maxQueue: o.maxQueue,
      maxPipeline: o.maxPipeline,
      protocol: o.protocol,
    }, this.hooks);
  }
}

function validateLocations(locations: Locations, asGiven: boolean): void {
  const ok = typeof locations === 'string' || Array.isArray(locations)
    || (locations !== null && typeof locations === 'object' && (asGiven || Object.values(locations).every((w) => typeof w === 'number' && w > 0)));
  if (!ok) throw new InvalidOptionError(`servers must be a string, an array of strings or { 'host:port': weight }, got ${describeValue(locations)}`);
  const ids = serverIds(locations);
  if (ids.length === 0) throw new NoServersError();
  if (!asGiven && new Set(ids).size !== ids.length) throw new InvalidOptionError(`servers lists a server twice: ${describeValue(ids.join(', '), 200)}`);
  for (const id of ids) parseAddress(id);
}

export type { MemclusterError };

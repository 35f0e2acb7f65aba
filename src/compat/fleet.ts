import { ClientCore } from '../client/core.js';
import { Cluster } from '../cluster/cluster.js';
import type { Locations } from '../cluster/ring.js';
import type { Cancel, Job, ServerNode } from '../cluster/server-node.js';
import type { RequestHandle } from '../connection/connection.js';
import { TimeoutError, type MemclusterError } from '../errors.js';
import type { CompatSettings } from './options.js';

/** A change 2.2.2's `remove: true` made to the ring: replayed when a client is used again after `end()`. */
export type RingChange = { op: 'remove'; id: string } | { op: 'swap'; from: string; to: string };

interface Waiter {
  seen: number;
  /** The last failed connect seen while waiting: what a timeout of this request really was. */
  last: MemclusterError | undefined;
  fail(err: MemclusterError): void;
}

/**
 * The servers of one compat client between two `end()`s: memcluster's cluster (ring, pools) and
 * core. memcluster's own failure count never marks a server down here (the compat layer does, as
 * 2.2.2's IssueLog did); what this adds is 2.2.2's `retries`: a request waiting for a socket of a
 * server fails once that many connects in a row failed after the first, with the last one's error,
 * instead of waiting out its timeout (`retries: 0`: at the first failed connect, as 2.2.2).
 */
export class Fleet {
  readonly core: ClientCore;
  readonly cluster: Cluster;
  closed = false;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly guards = new WeakMap<ServerNode, ServerNode>();

  constructor(locations: Locations, private readonly settings: CompatSettings, changes: readonly RingChange[]) {
    this.cluster = new Cluster(locations, settings.client, {
      onFailure: (server, reason) => this.failed(server, reason),
      onDown: () => {},
      onUp: () => {},
      onEvicted: () => {},
    }, true);
    for (const c of changes) this.apply(c);
    this.core = new ClientCore(settings.client, this.cluster);
  }

  /**
   * The server for a routed (`namespace + key`) key, as a node whose requests are subject to
   * `retries` (pass it to `core.send`, `coalescedGet` or a `BatchWriter`).
   */
  nodeFor(full: string): ServerNode {
    return this.guarded(this.cluster.nodeFor(full));
  }

  all(): ServerNode[] {
    return this.cluster.all().map((n) => this.guarded(n));
  }

  /** Applies a ring change now (the retired server's sockets close in the background). */
  apply(change: RingChange): void {
    const done = change.op === 'remove' ? this.cluster.remove(change.id) : this.cluster.swap(change.from, change.to);
    done.catch(() => {});
  }

  /** Calls made on this fleet that have not settled yet. */
  private calls = 0;
  private onIdle: (() => void) | undefined;

  /** Counts a call until it settles, so `end()` can let it finish. */
  track<T>(p: Promise<T>): Promise<T> {
    this.calls++;
    const settled = () => {
      if (--this.calls === 0) this.onIdle?.();
    };
    p.then(settled, settled);
    return p;
  }

  /**
   * Closes every socket and timer once the calls already made have settled (each within its
   * timeout): 2.2.2's `end()` dropped their replies, so their callbacks never ran. New calls go to
   * a fresh fleet meanwhile.
   */
  close(): Promise<void> {
    this.closed = true;
    const shut = (): Promise<void> => {
      this.core.closed = true;
      return this.cluster.close();
    };
    if (this.calls === 0) return shut();
    return new Promise((resolve) => { this.onIdle = () => resolve(shut()); });
  }

  /**
   * The node with its `submit` wrapped: the job settles at most once, either by memcluster or,
   * when connects keep failing while nothing of this server is in flight, by `failed`.
   * Everything else is the node itself (it is the prototype).
   */
  private guarded(node: ServerNode): ServerNode {
    let g = this.guards.get(node);
    if (g) return g;
    const waiters = this.waitersOf(node.server);
    g = Object.create(node) as ServerNode;
    g.submit = (job: Job) => {
      let settled = false;
      // A call that gives up on the server (its connects kept failing) takes its request back: out of
      // the server's queue, or abandoned if it was written meanwhile, so no socket that comes later
      // carries a request nobody waits for. (A call with a signal keeps its own cancellation.)
      let written: RequestHandle | undefined;
      const own: { aborted: boolean; reason: MemclusterError | undefined } & Cancel = {
        aborted: false,
        reason: undefined,
        track: (handle) => { written = handle; },
        queuedOn: () => {},
      };
      const waiter: Waiter = {
        seen: 0,
        last: undefined,
        fail: (err) => {
          if (!job.cancel && !settled) {
            own.aborted = true;
            own.reason = err;
            node.purge(own); // rejects the queued request through `finish` below
            written?.abandon(err);
          }
          finish(() => job.reject(err));
        },
      };
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        waiters.delete(waiter);
        settle();
      };
      waiters.add(waiter);
      node.submit({
        ...job,
        cancel: job.cancel ?? own,
        resolve: (reply) => finish(() => job.resolve(reply)),
        // A request that timed out waiting for a socket while connects failed failed for that
        // reason (2.2.2 called back with the last connect error once its retries ran out).
        reject: (err) => finish(() => job.reject(err instanceof TimeoutError && waiter.last ? waiter.last : err)),
      });
    };
    this.guards.set(node, g);
    return g;
  }

  private waitersOf(server: string): Set<Waiter> {
    let set = this.waiters.get(server);
    if (!set) {
      set = new Set();
      this.waiters.set(server, set);
    }
    return set;
  }

  /** memcluster counted a failure against `server` (a connect, validation or socket failure). */
  private failed(server: string, reason: MemclusterError): void {
    const waiters = this.waiters.get(server);
    if (!waiters || waiters.size === 0) return;
    const node = this.cluster.all().find((n) => n.server === server);
    // Requests written on a live socket get their own reply or error; only a server with nothing
    // in flight has every waiting request waiting for a socket that does not come.
    if (node && node.stats().inFlight > 0) return;
    for (const w of [...waiters]) {
      w.last = reason;
      if (++w.seen > this.settings.retries) w.fail(reason);
    }
  }
}

import { ClientCore } from '../client/core.js';
import { parseAddress } from '../client/options.js';
import { Cluster } from '../cluster/cluster.js';
import { serverIds, type Locations } from '../cluster/ring.js';
import type { ServerNode } from '../cluster/server-node.js';
import {
  ConnectionError, ConnectTimeoutError, MemclusterError, ProtocolError, TimeoutError, TooManyConnectionsError, ValidationFailedError,
} from '../errors.js';
import type { CompatSettings } from './options.js';
import type { EventNames, IssueData } from './types.js';

/** Messages kept per server for the event payloads (2.2.2 kept them all until a reconnect). */
const MAX_MESSAGES = 100;

/** What 2.2.2's IssueLog counted per server, fed by memcluster's health tracking. */
interface ServerLog {
  tokens: [string, string];
  messages: string[];
  totalFailures: number;
  reconnectsAttempted: number;
  reconnectsSuccess: number;
  downSince: number;
  downTotalMs: number;
}

/** Errors that say a server did not answer as it must (what 2.2.2 logged as an `issue`). */
function isServerIssue(err: unknown): err is MemclusterError {
  return err instanceof MemclusterError && err.server !== undefined && (
    err instanceof ConnectionError || err instanceof ConnectTimeoutError || err instanceof TimeoutError
    || err instanceof ValidationFailedError || err instanceof TooManyConnectionsError || err instanceof ProtocolError);
}

/**
 * The servers of one compat client: memcluster's cluster (ring, pools, health) plus what 2.2.2
 * layered on top: `issue` / `failure` / `reconnecting` / `reconnect` / `remove` events with its
 * payload shape, and `remove: true` taking a down server out of the ring or swapping a
 * `failOverServers` entry onto its ring points.
 */
export class Fleet {
  readonly core: ClientCore;
  readonly cluster: Cluster;
  closed = false;
  /** Server label (`host:port`) -> the location string the ring knows it by. */
  private readonly ids = new Map<string, string>();
  private readonly logs = new Map<string, ServerLog>();
  private readonly failOver: string[];

  constructor(locations: Locations, private readonly settings: CompatSettings, private readonly emit: (event: EventNames, details: IssueData) => void) {
    this.cluster = new Cluster(locations, settings.client, {
      onDown: (server, reason) => this.down(server, reason),
      onUp: (server, downForMs) => this.up(server, downForMs),
      onEvicted: () => {},
    });
    for (const id of serverIds(locations)) this.ids.set(parseAddress(id).label, id);
    this.core = new ClientCore(settings.client, this.cluster);
    this.failOver = [...settings.failOverServers];
  }

  /** The server for a routed (`namespace + key`) key. */
  nodeFor(full: string): ServerNode {
    return this.cluster.nodeFor(full);
  }

  all(): ServerNode[] {
    return this.cluster.all();
  }

  /** Reports a failed request: an `issue` event when the server itself misbehaved. */
  noteError(err: unknown): void {
    if (this.closed || !isServerIssue(err)) return;
    const server = err.server!;
    const node = this.all().find((n) => n.server === server);
    if (!node || node.health.isDown) return;
    const log = this.log(server);
    log.totalFailures++;
    this.message(log, err.message);
    // 2.2.2 counted down from `failures`: the first issue says 5, the one that marks the server dead 1.
    const threshold = this.settings.client.failureThreshold;
    this.issue(server, log, Math.min(threshold, Math.max(1, threshold - node.health.failures + 1)));
  }

  /** Refuses new requests, lets in-flight ones settle, and closes every socket and timer. */
  close(): Promise<void> {
    this.closed = true;
    this.core.closed = true;
    return this.cluster.close();
  }

  private down(server: string, reason: MemclusterError): void {
    const log = this.log(server);
    log.downSince = Date.now();
    log.totalFailures++;
    this.message(log, reason.message);
    this.issue(server, log, 1); // the failure that marked it down (its request's error comes later)
    if (!this.settings.remove) {
      this.later('failure', () => this.details(server, log));
      log.reconnectsAttempted++;
      this.later('reconnecting', () => this.details(server, log));
      return;
    }
    this.later('remove', () => this.details(server, log));
    const id = this.ids.get(server);
    if (id === undefined) return;
    // Off the health tracker's stack: swapping closes the node that is reporting.
    process.nextTick(() => {
      if (this.closed) return;
      this.ids.delete(server);
      const next = this.failOver.shift();
      if (next !== undefined) {
        this.ids.set(parseAddress(next).label, next);
        this.cluster.swap(id, next).catch(() => {});
      } else {
        this.cluster.remove(id).catch(() => {});
        this.later('failure', () => this.details(server, log));
      }
    });
  }

  private issue(server: string, log: ServerLog, remaining: number): void {
    const totalFailures = log.totalFailures;
    this.later('issue', () => ({ ...this.base(server, log), failures: remaining, totalFailures }));
  }

  private up(server: string, downForMs: number): void {
    const log = this.log(server);
    log.reconnectsSuccess++;
    log.downTotalMs += downForMs;
    log.downSince = 0;
    this.later('reconnect', () => this.details(server, log), () => { log.messages.length = 0; });
  }

  /** Events go out on the next tick: a listener that throws surfaces as an uncaught exception, not inside a socket handler. */
  private later(event: EventNames, details: () => IssueData, after?: () => void): void {
    process.nextTick(() => {
      if (this.closed) return;
      this.emit(event, details());
      after?.();
    });
  }

  private details(server: string, log: ServerLog): IssueData {
    const failed = log.reconnectsAttempted - log.reconnectsSuccess;
    return {
      ...this.base(server, log),
      totalReconnectsAttempted: log.reconnectsAttempted,
      totalReconnectsSuccess: log.reconnectsSuccess,
      totalReconnectsFailed: failed < 0 ? 0 : failed,
      totalDownTime: log.downTotalMs + (log.downSince > 0 ? Date.now() - log.downSince : 0),
    };
  }

  private base(server: string, log: ServerLog): IssueData {
    return { server, tokens: [...log.tokens], messages: [...log.messages] };
  }

  private message(log: ServerLog, message: string): void {
    log.messages.push(message);
    if (log.messages.length > MAX_MESSAGES) log.messages.splice(0, log.messages.length - MAX_MESSAGES);
  }

  private log(server: string): ServerLog {
    let log = this.logs.get(server);
    if (!log) {
      const { host, port } = parseAddress(server);
      log = { tokens: [String(port), host], messages: [], totalFailures: 0, reconnectsAttempted: 0, reconnectsSuccess: 0, downSince: 0, downTotalMs: 0 };
      this.logs.set(server, log);
    }
    return log;
  }
}

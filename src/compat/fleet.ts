import { ClientCore } from '../client/core.js';
import { parseAddress } from '../client/options.js';
import { Cluster } from '../cluster/cluster.js';
import { serverIds, type Locations } from '../cluster/ring.js';
import type { ServerNode } from '../cluster/server-node.js';
import type { MemclusterError } from '../errors.js';
import type { CompatSettings } from './options.js';
import type { CompatEventNames as EventNames, CompatIssueData as IssueData } from './types.js';

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
      onFailure: (server, reason, failures) => this.failed(server, reason, failures),
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

  /** Refuses new requests, lets in-flight ones settle, and closes every socket and timer. */
  close(): Promise<void> {
    this.closed = true;
    this.core.closed = true;
    return this.cluster.close();
  }

  /** A failure counted against the server: 2.2.2's `issue`, counting down (5 first, 1 for the one that marks it down). */
  private failed(server: string, reason: MemclusterError, failures: number): void {
    const log = this.log(server);
    log.totalFailures++;
    this.message(log, reason.message);
    const threshold = this.settings.client.failureThreshold;
    this.later('issue', { ...this.base(server, log), failures: Math.max(1, threshold - failures + 1), totalFailures: log.totalFailures });
  }

  private down(server: string, _reason: MemclusterError): void {
    const log = this.log(server);
    log.downSince = Date.now();
    if (!this.settings.remove) {
      this.later('failure', this.details(server, log));
      log.reconnectsAttempted++;
      this.later('reconnecting', this.details(server, log));
      return;
    }
    this.later('remove', this.details(server, log));
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
        this.later('failure', this.details(server, log));
      }
    });
  }

  private up(server: string, downForMs: number): void {
    const log = this.log(server);
    log.reconnectsSuccess++;
    log.downTotalMs += downForMs;
    log.downSince = 0;
    this.later('reconnect', this.details(server, log));
    log.messages.length = 0; // 2.2.2 cleared them once the server was back
  }

  /** Events go out on the next tick (payloads as of now): a listener that throws surfaces as an uncaught exception, not inside a socket handler. */
  private later(event: EventNames, details: IssueData): void {
    process.nextTick(() => {
      if (!this.closed) this.emit(event, details);
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

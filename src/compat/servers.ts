import { parseAddress } from '../cluster/address.js';
import { Ring, type Locations } from '../cluster/ring.js';
import type { ServerNode } from '../cluster/server-node.js';
import { Connection } from '../connection/connection.js';
import { validateSocket } from '../connection/prove.js';
import { ClientClosedError, ServerUnavailableError } from '../errors.js';
import { encodeVersion } from '../protocol/encoder.js';
import { isServerFailure, shapeError, TEXT } from './errors.js';
import type { Fleet, RingChange } from './fleet.js';
import { IssueLog } from './issues.js';
import type { CompatSettings } from './options.js';
import type { CompatEventNames as EventNames, CompatIssueData as IssueData } from './types.js';

/**
 * What `memcached.connections[server]` holds: 2.2.2 kept its socket pool (a jackpot `Manager`)
 * there, created at the first request for the server and kept after `end()`. Compat keeps the
 * same keys (`host:port`, `:11211` added to a port-less location) and the fields code reads.
 */
export class CompatConnection {
  /** `host:port`, as 2.2.2's sockets carried it. */
  readonly serverAddress: string;
  /** `[port, host]`. */
  readonly tokens: [string, string];
  /** Sockets at most (`poolSize`). */
  readonly limit: number;

  constructor(server: string, limit: number, private readonly node: () => ServerNode | undefined) {
    const { host, port } = parseAddress(server);
    this.serverAddress = server;
    this.tokens = [String(port), host];
    this.limit = limit;
  }

  /** The open sockets, one entry each (2.2.2 code reads `pool.length`). */
  get pool(): Array<{ serverAddress: string }> {
    const stats = this.node()?.stats();
    return Array.from({ length: stats ? stats.size : 0 }, () => ({ serverAddress: this.serverAddress }));
  }

  /** Sockets being opened. */
  get pending(): number {
    return this.node()?.stats().pending ?? 0;
  }
}

/**
 * Per-server state that lives as long as the client (across `end()`, as on 2.2.2's instance):
 * `issues` (2.2.2's IssueLogs), `connections`, the ring as 2.2.2 exposed it (`HashRing`), and the
 * ring changes `remove: true` made. It decides, as 2.2.2 did, whether a call may go to a server.
 */
export class ServerState {
  /** 2.2.2's `issues`: an array used as a map, `host:port` -> IssueLog. */
  readonly issues: IssueLog[] & Record<string, IssueLog> = [] as unknown as IssueLog[] & Record<string, IssueLog>;
  readonly connections: Record<string, CompatConnection> = {};
  /** The ring, kept in step with removals and failovers (reading it is what 2.2.2 code does). */
  readonly ring: Ring;
  readonly changes: RingChange[] = [];
  private readonly failOver: string[] | null;

  constructor(
    locations: Locations,
    private readonly settings: CompatSettings,
    private readonly fleets: { open(): Fleet; current(): Fleet | undefined },
    private readonly emit: (event: EventNames, details: IssueData) => void,
  ) {
    this.ring = new Ring(locations);
    // One list for every server, as 2.2.2 handed the same array to each IssueLog.
    this.failOver = settings.failOverServers.length > 0 ? [...settings.failOverServers] : null;
  }

  /**
   * The server for a routed key, if a call may go there now: 2.2.2's "Server at <server> not
   * available" while its IssueLog has it failed (within `retry` ms of a failure, or dead).
   */
  target(full: string): ServerNode {
    const node = this.fleets.open().nodeFor(full);
    this.connection(node.server);
    this.check(node.server);
    return node;
  }

  /** Throws 2.2.2's "not available" when the server's IssueLog has it failed. */
  check(server: string): void {
    if (this.issues[server]?.failed) throw new ServerUnavailableError(TEXT.notAvailable(server), { server });
  }

  connection(server: string): CompatConnection {
    let c = this.connections[server];
    if (!c) {
      c = new CompatConnection(server, this.settings.client.maxConnections, () => this.node(server));
      Object.defineProperty(this.connections, server, { value: c, enumerable: true, writable: true, configurable: true });
    }
    return c;
  }

  /**
   * A call to `server` failed: the error gets 2.2.2's face, and a failure of the server itself
   * is logged in its IssueLog (which may emit `issue`, or mark the server dead).
   */
  failed(server: string | undefined, err: unknown): unknown {
    const shaped = shapeError(err, server);
    if (server !== undefined && isServerFailure(err)) this.issue(server).log(String(shaped));
    return shaped;
  }

  private node(server: string): ServerNode | undefined {
    return this.fleets.current()?.cluster.all().find((n) => n.server === server);
  }

  private issue(server: string): IssueLog {
    let log = this.issues[server];
    if (log) return log;
    const { host, port } = parseAddress(server);
    const s = this.settings;
    log = new IssueLog({
      server, tokens: [String(port), host], reconnect: s.reconnect, failures: s.failures, failuresTimeout: s.failuresTimeout,
      retry: s.retry, remove: s.remove, failOverServers: this.failOver,
    }, () => this.probe(server));
    log.on('issue', (d: IssueData) => this.emit('issue', d));
    log.on('reconnecting', (d: IssueData) => this.emit('reconnecting', d));
    log.on('reconnected', (d: IssueData) => this.emit('reconnect', d));
    log.on('remove', (d: IssueData) => this.remove(server, d));
    Object.defineProperty(this.issues, server, { value: log, enumerable: true, writable: true, configurable: true });
    return log;
  }

  /**
   * 2.2.2's reconnect attempt, as a real request (it spawned `ping`, which proves nothing about
   * memcached): on the client's sockets, or, while the client is ended (`end()`, between jobs), on
   * a socket of its own that is closed after it, so the server is seen back either way.
   */
  private async probe(server: string): Promise<void> {
    const fleet = this.fleets.current();
    const node = fleet?.all().find((n) => n.server === server);
    try {
      if (fleet && node) {
        await fleet.core.send(node, encodeVersion(), 'version');
        return;
      }
      const id = this.ring.servers.find((s) => parseAddress(s).label === server);
      if (id === undefined) throw new ServerUnavailableError(TEXT.notAvailable(server), { server });
      const { host, port, label } = parseAddress(id);
      const c = this.settings.client;
      const conn = await Connection.open({ host, port, server: label, connectTimeoutMs: c.connectTimeoutMs, maxValueBytes: 1024, tls: c.tls, stallTimeoutMs: c.timeoutMs });
      try {
        await validateSocket(conn, 'version', c.timeoutMs);
      } finally {
        conn.destroy(new ClientClosedError({ server: label }));
      }
    } catch (err) {
      throw shapeError(err, server);
    }
  }

  /**
   * 2.2.2's `remove` handler: the event, then a failover server takes the dead one's ring points,
   * or the server leaves the ring and `failure` follows. The last server stays in the ring (a
   * client needs one to route to), failed: its calls get "Server at <server> not available", as
   * 2.2.2's did for a removed single server.
   */
  private remove(server: string, details: IssueData): void {
    this.emit('remove', details);
    const id = this.ring.servers.find((s) => parseAddress(s).label === server);
    if (id === undefined) return;
    const next = this.failOver?.shift();
    let change: RingChange | undefined;
    if (next !== undefined) {
      change = { op: 'swap', from: id, to: next };
    } else {
      if (this.ring.servers.length > 1) change = { op: 'remove', id };
      this.emit('failure', details);
    }
    if (!change) return;
    try {
      if (change.op === 'swap') this.ring.swap(change.from, change.to);
      else this.ring.remove(change.id);
    } catch {
      return; // e.g. the failover server is already in the ring: nothing changes
    }
    this.changes.push(change);
    this.fleets.current()?.apply(change);
  }
}

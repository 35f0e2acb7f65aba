import createDebug from 'debug';
import { now, type Connection } from '../connection/connection.js';
import { pickSocket, writingKey } from '../connection/keys-in-flight.js';
import {
  ClientClosedError, ClientErrorReply, MemclusterError, PoolFullError, ServerUnavailableError, TimeoutError,
  TooManyConnectionsError, ValidationFailedError, AuthenticationError,
} from '../errors.js';
import { ServerPool } from '../pool/server-pool.js';
import { ServerHealth } from './health.js';
import { JobQueue, type Cancel, type Job } from './job-queue.js';
import type { ServerNodeHooks, ServerNodeOptions, ServerStats } from './server-types.js';

const log = createDebug('memcluster:server');

/**
 * How long an idle borrowed socket stays borrowed before it goes back to the pool (and its next
 * borrow is validated). 50 ms, the bound the pool uses for a new socket's own proof (FRESH_MS): a
 * socket that answered a real request that recently counts as proven. Traffic a few ms apart (a
 * web app's requests) keeps its socket instead of paying a validation round trip per request;
 * a socket idle for longer, where drops and restarts go unnoticed, is validated before reuse.
 */
const LINGER_MS = 50;

export type { Cancel, Job } from './job-queue.js';
export type { ServerNodeHooks, ServerNodeOptions, ServerStats } from './server-types.js';

/**
 * One server: its pool, its health, and the queue that puts requests on sockets. A borrowed
 * socket stays borrowed while it is busy (requests are pipelined on it up to `maxPipeline`), and
 * goes back to the pool once it has been idle for `LINGER_MS`, so every borrow from the pool is
 * validated but a busy socket is not re-validated between back-to-back requests.
 */
export class ServerNode {
  readonly pool: ServerPool;
  readonly health: ServerHealth;
  private readonly queue = new JobQueue(() => this.queuedTimeout());
  private readonly conns: Connection[] = [];
  /** Removed from the ring: finishing what was routed here before the change, then closing. */
  private retiring = false;
  /** While retiring: whether a call that routed keys before the change may still submit some here. */
  private held: () => boolean = () => false;
  private acquiring = 0;
  private releaseTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** What requests that reach a closed server are told (client closed, or server removed). */
  private closeReason: MemclusterError | undefined;
  /** The last failure to create or prove a socket: the reason to give queued requests that time out. */
  private lastRefusal: { err: MemclusterError } | undefined;
  /** A socket died holding requests since the last reply: a freshly proven socket does not show the server answers commands. */
  private commandsFailed = false;

  constructor(readonly server: string, private readonly opts: ServerNodeOptions, hooks: ServerNodeHooks) {
    this.pool = new ServerPool(opts.pool, {
      // Opening and validating a socket clears the last refusal, not the failure count: a proxy
      // in front of a dead backend answers validation but no command, and must still go down. A
      // server down for want of sockets (a restart) comes up as after a passed probe (the same
      // proof); one whose proven sockets stopped answering commands waits for the probe's backoff.
      onConnected: () => {
        this.lastRefusal = undefined;
        if (!this.commandsFailed) this.health.proven();
      },
      onFailure: (err) => {
        this.lastRefusal = { err };
        // Failing to open (or re-validate) one more socket while a socket of ours is alive says
        // nothing against the server: at its connection limit it refuses extra sockets while the one
        // it has keeps answering, and a burst opening several at once must not mark it down. That
        // socket's own death counts if it stops answering (onEvicted, via its stall check); with no
        // live socket, every failure counts, so a server that refuses all connections still goes down.
        if (this.hasLiveSocket()) {
          log('%s could not open another socket (%s): not counted, a socket is alive', this.server, err.code);
          return;
        }
        // A burst opens several sockets at once; a server with one slot left refuses the others
        // before the one it took is proven. A stated refusal counts only when no other socket is on
        // its way (the last borrow to fail tells the queued requests why, see `acquire`).
        if (err instanceof TooManyConnectionsError && this.acquiring > 1) {
          log('%s refused one of %d sockets on their way: not counted yet', this.server, this.acquiring);
          return;
        }
        this.health.recordFailure(err);
        // The server said why it will not take a socket: queued requests get that reason now,
        // rather than a timeout later.
        if (err instanceof TooManyConnectionsError && this.conns.length === 0) this.rejectQueued(err);
      },
      onEvicted: (conn, reason, pendingAtDeath) => {
        this.removeConn(conn);
        // A socket that died holding requests counts once against the server; one dropped while idle
        // does not, and failed validations were already counted by the pool.
        const counted = conn.validating || reason instanceof ValidationFailedError || reason instanceof TooManyConnectionsError
          || reason.cause instanceof ClientErrorReply;
        if (pendingAtDeath > 0 && !counted) {
          this.commandsFailed = true;
          this.health.recordFailure(reason);
        }
        hooks.onEvicted(server, conn.id, reason);
      },
    });
    this.health = new ServerHealth(server, opts.health, (signal) => this.pool.prove(signal), {
      onDown: (reason, failures) => {
        const down = new ServerUnavailableError(`server is down after ${failures} consecutive failures (last: ${reason.detail})`, { server, cause: reason });
        this.rejectQueued(down);
        // Nothing waits for a socket now: stop dialing (probes bring the server back).
        this.pool.withdrawBorrows(down);
        hooks.onDown(server, reason, failures);
      },
      onUp: (downFor) => {
        this.pool.resetBackoff();
        hooks.onUp(server, downFor);
      },
      onFailure: (reason, failures) => hooks.onFailure?.(server, reason, failures),
    });
  }

  /** Queues a request; it settles with the reply or a typed error by `job.deadline`. */
  submit(job: Job): void {
    if (this.closed) return job.reject(this.closeReason ?? new ClientClosedError({ server: this.server }));
    if (this.health.isDown) return job.reject(this.unavailable());
    if (job.cancel?.aborted) return job.reject(job.cancel.reason!);
    if (this.queue.length === 0) {
      const conn = this.pick(job);
      if (conn) return this.write(conn, job);
    }
    if (this.queue.length >= this.opts.maxQueue) {
      return job.reject(new PoolFullError(`${this.queue.length} requests already waiting for a socket (maxQueue)`, { server: this.server }));
    }
    this.queue.push(job, this);
    this.pump();
  }

  /** Drops the queued requests of an aborted call, each rejecting with the call's reason. */
  purge(cancel: Cancel): void {
    this.queue.purge(cancel);
  }

  /**
   * Whether requests to this server use the meta protocol: `true`/`false`, or `undefined` while no
   * socket has told the server's version yet (see `Client` for how that is learned).
   */
  get meta(): boolean | undefined {
    const p = this.opts.protocol;
    return p === 'auto' ? this.pool.traits.speaksMeta : p === 'meta';
  }

  /** The error for requests while this server is down. */
  unavailable(): ServerUnavailableError {
    const last = this.health.lastError;
    return new ServerUnavailableError(`server is marked down${last ? ` (last: ${last.detail})` : ''}`, { server: this.server, cause: last });
  }

  stats(): ServerStats {
    let inFlight = 0;
    for (const c of this.conns) inFlight += c.inFlight;
    return {
      server: this.server,
      state: this.health.state,
      queued: this.queue.length,
      inFlight,
      failures: this.health.failures,
      lastError: this.health.lastError?.message,
      ...this.pool.stats(),
    };
  }

  /**
   * For a server taken out of the ring: requests routed here before the change (queued, in flight,
   * or still being submitted by a multi-key call) finish here while the server answers, each within
   * its own deadline; then the server closes. Requests made after the change never come here.
   * `held` tells whether a call that routed keys before the change may still submit some (see
   * `Cluster#hold`). The first look is a turn later: requests routed in the same tick as the change
   * are submitted at the end of it (same-tick `get`s are coalesced on the next tick).
   */
  async retire(reason: MemclusterError, held?: () => boolean): Promise<void> {
    if (this.closed || this.retiring) return;
    this.retiring = true;
    if (held) this.held = held;
    log('%s retiring: %d queued, %d socket(s)', this.server, this.queue.length, this.conns.length);
    await new Promise<void>((resolve) => {
      const check = () => (this.idle() ? resolve() : setTimeout(check, 5).unref());
      setImmediate(check);
    });
    await this.close(reason);
  }

  private idle(): boolean {
    if (this.queue.length > 0 || this.acquiring > 0 || this.held()) return false;
    for (const c of this.conns) if (c.alive && c.inFlight > 0) return false;
    return true;
  }

  /**
   * Refuses new requests (they and the queued ones get `reason`), waits for in-flight ones (each
   * bounded by its timeout), then closes every socket and timer.
   */
  async close(reason: MemclusterError = new ClientClosedError({ server: this.server })): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.health.close();
    this.queue.close(reason);
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    await Promise.all(this.conns.map((c) => waitIdle(c)));
    for (const c of this.conns.splice(0)) this.putBack(c);
    await this.pool.close();
  }

  /**
   * Returns a borrowed socket to the pool without this node's reply hook: the pool's borrow-time
   * validation reply is not a reply to a real command, and must not reset the failure count (a
   * proxy in front of a dead backend answers `version`/`mn` but no command, and must still go down).
   */
  private putBack(conn: Connection): void {
    conn.onReplied = undefined;
    this.pool.release(conn);
  }

  /** Whether this node holds a borrowed socket still alive (its stall check condemns one that stops answering). */
  private hasLiveSocket(): boolean {
    for (const c of this.conns) if (c.alive) return true;
    return false;
  }

  private pick(job: Job): Connection | undefined {
    return pickSocket(this.conns, job, this.opts.maxPipeline);
  }

  /** Whether a request that changes `key` is in flight on one of several busy sockets (see `writingKey`). */
  writing(key: string): boolean {
    return writingKey(this.conns, key);
  }

  private write(conn: Connection, job: Job): void {
    const sent = conn.request(job);
    if (sent && job.cancel) job.cancel.track({ abandon: (err) => conn.abandon(sent, err) });
    if (conn.congested) void conn.drained().then(() => this.pump());
  }

  private pump(): void {
    // A request whose call gave up or timed out is never written (the timer may not have run yet).
    for (let job = this.queue.peekLive(); job !== undefined; job = this.queue.peekLive()) {
      const conn = this.pick(job);
      if (!conn) break;
      this.queue.shift();
      this.write(conn, job);
    }
    if (this.queue.length === 0) return;
    // Another socket only for what the sockets on their way cannot carry: a burst of 64 requests
    // needs two sockets at maxPipeline 32, not maxConnections of them.
    if (this.conns.length + this.acquiring < this.opts.pool.maxConnections && this.acquiring * this.opts.maxPipeline < this.queue.length) this.acquire();
    this.queue.arm();
  }

  private acquire(): void {
    this.acquiring++;
    this.pool.acquire().then(
      (conn) => {
        this.acquiring--;
        if (this.closed) return this.pool.release(conn);
        this.conns.push(conn);
        this.keyTracking();
        conn.onReplied = this.afterReply;
        this.pump();
        this.scheduleRelease();
      },
      (err: MemclusterError) => {
        this.acquiring--;
        log('%s acquire failed: %s', this.server, err.message);
        if (this.conns.length > 0 || this.acquiring > 0) return;
        // No socket at all. A stated refusal, a server marked down, or a failure retrying cannot fix:
        // queued requests learn why now instead of waiting out their timeout.
        const final = this.health.isDown ? this.unavailable() : this.statedRefusal() ?? (err instanceof TimeoutError ? undefined : err);
        if (final) return this.rejectQueued(final);
        // The wait for a socket ran out (the pool's bound is the client's timeoutMs): requests whose
        // own deadline is later (per-call timeoutMs) keep waiting, and another borrow starts.
        this.queue.rejectExpired(err);
        if (this.queue.length > 0) this.pump();
      },
    );
  }

  /**
   * Every reply on a socket in service (an error line to its own request included): the server
   * answers a real command. Set while the node holds the socket; cleared when it goes back (`putBack`).
   */
  private readonly afterReply = (conn: Connection): void => {
    this.health.recordSuccess();
    this.commandsFailed = false;
    if (this.queue.length > 0) this.pump();
    else if (conn.inFlight === 0) this.scheduleRelease();
  };

  /**
   * Returns borrowed sockets to the pool once they have been idle for `LINGER_MS`: back-to-back
   * requests (a sequential caller, a server that gets every third key) keep their proven socket
   * instead of paying a validation round trip per request; a socket idle for longer goes back to
   * the pool, and its next borrow is validated.
   */
  private scheduleRelease(): void {
    if (this.releaseTimer) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      const t = now();
      let lingering = false;
      for (let i = this.conns.length - 1; i >= 0; i--) {
        const c = this.conns[i]!;
        if (c.inFlight > 0 || this.queue.length > 0) continue;
        if (t - c.lastReplyAt < LINGER_MS) {
          lingering = true;
          continue;
        }
        this.conns.splice(i, 1);
        c.trackKeys(false);
        this.putBack(c);
        this.keyTracking();
      }
      if (lingering) this.scheduleRelease();
    }, LINGER_MS);
    this.releaseTimer.unref();
  }

  private removeConn(conn: Connection): void {
    const i = this.conns.indexOf(conn);
    if (i < 0) return;
    this.conns.splice(i, 1);
    this.pool.evict(conn);
    this.keyTracking();
    if (this.queue.length > 0) this.pump();
  }

  /** Sockets count their in-flight keys only while there are several to choose from (see `pick`). */
  private keyTracking(): void {
    const on = this.conns.length > 1;
    for (const c of this.conns) c.trackKeys(on);
  }

  private rejectQueued(err: MemclusterError): void {
    this.queue.rejectAll(err);
  }

  /**
   * The refusal the server stated on the last attempt to open a socket (too many connections, bad
   * credentials), if no socket has opened since: a better answer than "timed out" for requests that
   * waited for a socket. Silence stays a timeout.
   */
  private statedRefusal(): MemclusterError | undefined {
    const err = this.lastRefusal?.err;
    return err instanceof TooManyConnectionsError || err instanceof AuthenticationError ? err : undefined;
  }

  /**
   * What a request that waited for a socket past its call's deadline is told (not a server failure):
   * the server's stated refusal when it left us no socket, else a timeout (behind busy sockets that
   * answer, the refusal of one more is only its cause).
   */
  private queuedTimeout(): MemclusterError {
    const refusal = this.statedRefusal();
    if (refusal && !this.hasLiveSocket()) return refusal;
    return new TimeoutError(`no socket free within the call's timeout (waited behind ${this.queue.length} queued, ${this.conns.length} socket(s) busy)`, { server: this.server, cause: refusal ?? this.health.lastError });
  }
}

function waitIdle(conn: Connection): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (conn.inFlight === 0 || !conn.alive ? resolve() : setTimeout(check, 5).unref());
    check();
  });
}

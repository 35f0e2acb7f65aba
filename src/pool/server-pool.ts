import genericPool from 'generic-pool';
import type { Pool } from 'generic-pool';
import createDebug from 'debug';
import { setMaxListeners } from 'node:events';
import { isTlsCertificateError, now, type Connection, type ConnectionOptions, type ValidationCommand } from '../connection/connection.js';
import { openProven, ServerTraits, validateSocket, type ProvenSocket } from '../connection/prove.js';
import { AuthenticationError, ConnectionError, MemclusterError, TimeoutError } from '../errors.js';
import { isTraced, poolWaitTrace, targetOf, traceAsync } from '../tracing.js';

const log = createDebug('memcluster:pool');

/** How a server's sockets are pooled and proven. */
export interface ServerPoolOptions extends ConnectionOptions {
  maxConnections: number;
  minConnections: number;
  /** Idle sockets are closed after this long (0 keeps them). */
  idleTimeoutMs: number;
  /** How long one borrow may wait for a socket (including creating and validating one). */
  acquireTimeoutMs: number;
  /** `auto` proves each new socket with `version` then `mn` (memcached >= 1.6), falling back to `version` where `mn` is refused; see `openProven`. */
  validation: ValidationCommand | 'auto';
  validateTimeoutMs: number;
  /** Skip the borrow-time request for sockets that answered one within this many ms (0: always validate). */
  trustRecentMs: number;
  /** Idle sockets do not keep the process alive. */
  allowExitOnIdle?: boolean | undefined;
}

/** What a pool tells its owner (the cluster's health tracking and events). */
export interface ServerPoolHooks {
  /** A socket was created, proven and is ready. */
  onConnected?(conn: Connection): void;
  /** Creating or validating a socket failed: the server did not answer as it must. */
  onFailure?(err: MemclusterError): void;
  /** A socket was destroyed for a reason other than an orderly close; `pendingAtDeath` requests failed with it. */
  onEvicted?(conn: Connection, reason: MemclusterError, pendingAtDeath: number): void;
}

/** Counters for a pool (undici PoolStats style, plus validation figures). */
export interface ServerPoolStats {
  /** Sockets open or being opened (free + borrowed + connects in progress). */
  size: number;
  /** Idle, proven sockets in the pool. */
  free: number;
  /** Sockets lent to the server's request queue. */
  borrowed: number;
  /** Borrows waiting for a socket inside the pool. */
  pending: number;
  created: number;
  evicted: number;
  validations: number;
  validationFailures: number;
}

const CLOSING = new ConnectionError('pool closed the socket');
const MAX_CREATE_BACKOFF_MS = 1000;
/** Failed creates in a row after which minConnections waits for the server's return to top up. */
const MIN_TOP_UP_TRIES = 5;
/** How recent a new socket's creation-time validation must be to stand for its first borrow's. */
const FRESH_MS = 50;

/**
 * A pool of validated sockets to one server, on generic-pool, behind our own interface.
 * It defuses generic-pool's traps: `validate` never rejects, and a `create` that keeps failing is
 * paced by a growing delay so it cannot spin or starve the event loop.
 */
export class ServerPool {
  readonly server: string;
  private readonly pool: Pool<Connection>;
  /** What this server's sockets have shown (version, meta), shared with its health probes. */
  readonly traits: ServerTraits;
  private readonly fresh = new WeakSet<Connection>();
  private createFailures = 0;
  private nextCreateAt = 0;
  private closed = false;
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  /** Abandons connects and authentications still in progress when the pool closes. */
  private readonly abort = new AbortController();
  /** Sockets that died while idle: closed already, dropped by generic-pool at the next borrow or eviction run. */
  private readonly deadIdle = new Set<Connection>();
  private readonly counters = { created: 0, evicted: 0, validations: 0, validationFailures: 0 };
  /** Rejecters of the borrows waiting right now, for failures no retry can fix (see `refuseWaiters`). */
  private readonly waiters = new Set<(err: MemclusterError) => void>();

  constructor(private readonly opts: ServerPoolOptions, private readonly hooks: ServerPoolHooks = {}) {
    this.server = opts.server;
    this.traits = new ServerTraits(opts.validation);
    // One abort listener per connect in progress: with maxConnections above 10 Node would warn of a leak.
    setMaxListeners(0, this.abort.signal);
    this.pool = genericPool.createPool<Connection>({
      create: () => this.create(),
      destroy: async (conn) => { this.deadIdle.delete(conn); conn.onDeath = undefined; conn.destroy(CLOSING); },
      validate: (conn) => this.validateOnBorrow(conn),
    }, {
      max: opts.maxConnections,
      min: opts.minConnections,
      acquireTimeoutMillis: opts.acquireTimeoutMs,
      testOnBorrow: true,
      fifo: false, // LIFO keeps few sockets hot and lets idle ones age out
      // Idle sockets above minConnections close after idleTimeoutMs; the minConnections ones stay
      // (generic-pool's hard idle timeout would close and reopen them over and over).
      softIdleTimeoutMillis: opts.idleTimeoutMs > 0 ? opts.idleTimeoutMs : undefined,
      idleTimeoutMillis: Number.MAX_SAFE_INTEGER,
      evictionRunIntervalMillis: opts.idleTimeoutMs > 0 ? Math.max(250, Math.min(opts.idleTimeoutMs, 5000)) : 0,
      autostart: opts.minConnections > 0,
    });
    // generic-pool reports factory errors as events; our hooks already saw them.
    this.pool.on('factoryCreateError', () => {});
    this.pool.on('factoryDestroyError', () => {});
  }

  /** Opens and proves a socket as the pool does (health probes use it too, so they learn alike). */
  prove(signal?: AbortSignal): Promise<ProvenSocket> {
    return openProven(this.opts, this.traits, this.opts.validateTimeoutMs, signal);
  }

  /** A proven socket, or a rejection (`TimeoutError` when none came within `acquireTimeoutMs`). */
  acquire(): Promise<Connection> {
    if (!isTraced(poolWaitTrace)) return this.borrowProven();
    return traceAsync(poolWaitTrace, targetOf(this.server), () => this.borrowProven());
  }

  /** `acquire` itself, outside its `memcluster:pool.wait` trace. */
  private async borrowProven(): Promise<Connection> {
    const borrow = this.pool.acquire();
    let refuse!: (err: MemclusterError) => void;
    let refused = false;
    const refusal = new Promise<never>((_, reject) => {
      refuse = (err) => { refused = true; reject(err); };
    });
    this.waiters.add(refuse);
    // generic-pool cannot cancel a borrow: if it is fulfilled after a refusal, hand the socket back.
    borrow.then((conn) => { if (refused) this.release(conn); }, () => {});
    try {
      return await Promise.race([borrow, refusal]);
    } catch (err) {
      if (err instanceof MemclusterError) throw err;
      throw new TimeoutError(`no usable socket within ${this.opts.acquireTimeoutMs} ms (acquire)`, { server: this.server, cause: err });
    } finally {
      this.waiters.delete(refuse);
    }
  }

  /** Gives a socket back. A dead or busy one is destroyed instead: nothing in an unknown state is pooled. */
  release(conn: Connection): void {
    if (!this.pool.isBorrowedResource(conn)) return;
    if (!conn.alive || conn.inFlight > 0 || this.closed) {
      this.pool.destroy(conn).catch(() => {});
      return;
    }
    if (this.opts.allowExitOnIdle) conn.keepAlive(false);
    this.pool.release(conn).catch(() => {});
  }

  /** Destroys a borrowed socket now. */
  evict(conn: Connection): void {
    if (this.pool.isBorrowedResource(conn)) this.pool.destroy(conn).catch(() => {});
  }

  /**
   * Forgets the create backoff: the server just answered a probe, so the next create should not
   * wait; and opens the sockets `minConnections` asks for, which failed creates left unopened.
   */
  resetBackoff(): void {
    this.createFailures = 0;
    this.nextCreateAt = 0;
    if (!this.closed && this.opts.minConnections > 0) this.internals()?._ensureMinimum?.();
  }

  /**
   * Withdraws the borrows waiting for a socket (they reject with `err`): nobody needs them any
   * more (the server was marked down, or a failure no retry can fix). A borrow still waiting
   * makes generic-pool retry `create` until its acquire timeout: dialing a dead server, and keeping
   * a process that asked to exit on idle alive.
   */
  withdrawBorrows(err: MemclusterError): void {
    this.abandonWaiters(err);
  }

  /** generic-pool 3.9.0's private parts this pool reaches (pinned exactly; every use is optional). */
  private internals(): GenericPoolInternals | undefined {
    return this.pool as unknown as GenericPoolInternals;
  }

  /** Socket counts and validation figures. */
  stats(): ServerPoolStats {
    return {
      size: this.pool.size - this.deadIdle.size,
      // generic-pool's clear() (at close) destroys the free sockets but leaves them in its count.
      free: this.closed ? 0 : Math.max(0, this.pool.available - this.deadIdle.size),
      borrowed: this.pool.borrowed,
      pending: this.pool.pending,
      ...this.counters,
    };
  }

  /** Waits for borrowed sockets to come back, closes them all, and clears every timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [t, wake] of this.sleepers) {
      clearTimeout(t);
      wake();
    }
    this.sleepers.clear();
    this.abort.abort();
    this.abandonWaiters(new ConnectionError('pool is closed', { server: this.server }));
    await this.pool.drain();
    await this.pool.clear();
  }

  /**
   * Rejects borrows still waiting inside generic-pool. It has no public way to cancel them, and
   * while one waits, every failed `create` is retried until its acquire timeout, which would keep
   * a closed client (and the process) alive. This reads generic-pool 3.9.0's waiting queue, which
   * is why that version is pinned exactly; if the shape ever differs, close() falls back to waiting
   * out the acquire timeout.
   */
  private abandonWaiters(err: MemclusterError): void {
    const queue = this.internals()?._waitingClientsQueue;
    if (typeof queue?.dequeue !== 'function') return;
    for (let r = queue.dequeue(); r !== undefined; r = queue.dequeue()) r.reject(err);
  }

  private async create(): Promise<Connection> {
    const wait = this.nextCreateAt - now();
    if (wait > 0) await this.sleep(wait);
    if (this.closed) {
      // With a borrow still waiting (abandonWaiters could not reach it), failing at once would let
      // generic-pool retry create in a microtask loop; waiting out the acquire timeout lets it fail first.
      if (this.pool.pending > 0) await this.sleep(this.opts.acquireTimeoutMs, true);
      throw new ConnectionError('pool is closed', { server: this.server });
    }
    let conn: Connection;
    try {
      ({ conn } = await this.prove(this.abort.signal));
    } catch (err) {
      this.createFailures++;
      this.nextCreateAt = now() + Math.min(MAX_CREATE_BACKOFF_MS, 25 * 2 ** Math.min(this.createFailures, 10));
      const e = err instanceof MemclusterError ? err : new ConnectionError(String(err), { server: this.server, cause: err });
      log('%s create failed (%d in a row): %s', this.server, this.createFailures, e.message);
      this.hooks.onFailure?.(e);
      if (isConfigurationFailure(e)) {
        this.refuseWaiters(e);
        this.abandonWaiters(e);
      } else if (this.opts.minConnections > 0 && this.createFailures < MIN_TOP_UP_TRIES) {
        // generic-pool tops up minConnections only at start and after a destroy: try again once the
        // backoff allows (a server restarting); past a few tries the server is failing, and its
        // return (`resetBackoff`) tops the pool up.
        setTimeout(() => { if (!this.closed) this.internals()?._ensureMinimum?.(); }, Math.max(0, this.nextCreateAt - now())).unref();
      }
      throw e;
    }
    this.createFailures = 0;
    this.nextCreateAt = 0;
    this.counters.created++;
    this.fresh.add(conn);
    if (this.opts.allowExitOnIdle) conn.keepAlive(false); // until borrowed (minConnections may keep it idle)
    conn.onDeath = (c, reason, pending) => this.onDeath(c, reason, pending);
    this.hooks.onConnected?.(conn);
    return conn;
  }

  /**
   * Rejects every waiting borrow with `err` now. generic-pool would keep the borrows waiting and
   * retry `create` (paced by the backoff) until `acquireTimeoutMs`, turning refused credentials or an
   * untrusted certificate into a timeout; callers should see the real reason at once.
   */
  private refuseWaiters(err: MemclusterError): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const refuse of waiters) refuse(err);
  }

  /** Never rejects (a rejecting validate wedges generic-pool). */
  private async validateOnBorrow(conn: Connection): Promise<boolean> {
    // After close(), a socket must not go back to the free list (clear() has already run).
    if (!conn.alive || this.closed) return false;
    if (this.opts.allowExitOnIdle) conn.keepAlive(true); // borrowed: it carries requests now
    if (this.fresh.has(conn)) {
      this.fresh.delete(conn);
      // Created for the borrow that is taking it: it answered a real request a moment ago. One
      // that waited in the pool (minConnections, or a borrow that gave up) is validated like any.
      if (now() - conn.lastReplyAt < FRESH_MS) return true;
    }
    if (this.opts.trustRecentMs > 0 && now() - conn.lastReplyAt < this.opts.trustRecentMs) return true;
    this.counters.validations++;
    try {
      await validateSocket(conn, conn.validation, this.opts.validateTimeoutMs);
      return !this.closed; // closed meanwhile: generic-pool must destroy it, not shelve it
    } catch (err) {
      this.counters.validationFailures++;
      this.hooks.onFailure?.(err as MemclusterError);
      return false;
    }
  }

  private onDeath(conn: Connection, reason: MemclusterError, pendingAtDeath: number): void {
    if (reason === CLOSING) return;
    this.counters.evicted++;
    const borrowed = this.pool.isBorrowedResource(conn);
    if (borrowed) {
      this.pool.destroy(conn).catch(() => {});
    } else if (!this.dropIdle(conn)) {
      // Not found among generic-pool's idle sockets: the borrow-time check drops it before anything
      // could use it.
      this.deadIdle.add(conn);
    }
    log('%s conn#%d evicted (%s)%s', this.server, conn.id, reason.message, borrowed ? '' : ' while idle');
    this.hooks.onEvicted?.(conn, reason, pendingAtDeath);
  }

  /**
   * Takes a socket that died while idle out of generic-pool's free list and destroys it there, so
   * the pool tops itself up to `minConnections` at once (a server restart, or one that closes idle
   * connections, left the pool empty until the next borrow). False if generic-pool's shape differs.
   */
  private dropIdle(conn: Connection): boolean {
    const p = this.internals();
    const it = p?._availableObjects?.iterator?.();
    if (!it || typeof p?._destroy !== 'function') return false;
    for (let r = it.next(); r.done !== true; r = it.next()) {
      if (r.value?.obj !== conn) continue;
      it.remove();
      p._destroy(r.value);
      return true;
    }
    return false;
  }

  /**
   * A delay that `close()` cuts short (unless `untracked`, used after close: that one must run its
   * course, and stays ref'd so an awaited `close()` keeps the process alive until it returns).
   */
  private sleep(ms: number, untracked = false): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.sleepers.delete(t); resolve(); }, ms);
      if (!untracked) this.sleepers.set(t, resolve);
    });
  }
}

/** The parts of generic-pool 3.9.0's Pool this file reaches beyond its public API. */
interface GenericPoolInternals {
  _waitingClientsQueue?: { dequeue?: () => { reject(e: unknown): void } | undefined };
  _availableObjects?: { iterator?: () => { next(): { done?: boolean; value?: { obj: Connection } }; remove(): void } };
  _destroy?: (pooledResource: { obj: Connection }) => void;
  _ensureMinimum?: () => void;
}

/** A failure that retrying cannot fix: refused credentials, or a server certificate that does not verify. */
function isConfigurationFailure(err: MemclusterError): boolean {
  return err instanceof AuthenticationError || (err instanceof ConnectionError && isTlsCertificateError(err));
}

export { supportsMetaNoop } from '../connection/prove.js';

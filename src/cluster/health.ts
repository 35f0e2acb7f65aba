import createDebug from 'debug';
import { setMaxListeners } from 'node:events';
import type { Connection } from '../connection/connection.js';
import type { ProvenSocket } from '../connection/prove.js';
import { MemclusterError } from '../errors.js';

const log = createDebug('memcluster:health');

/** When a server is declared down and how it is probed back. */
export interface HealthOptions {
  /** Consecutive failures (refused, connect timeout, failed validation, command timeout) that mark a server down. */
  failureThreshold: number;
  /**
   * First probe delay after a server is marked down; doubles per failed probe, with jitter, and
   * goes on doubling across downs until a command is answered.
   */
  retryDelayMs: number;
  /** Upper bound of the probe delay. */
  maxRetryDelayMs: number;
  /** Timeout of one probe's validation request (its connect uses the connect timeout). */
  validateTimeoutMs: number;
}

export type HealthState = 'up' | 'down';

export interface HealthHooks {
  onDown(reason: MemclusterError, failures: number): void;
  onUp(downForMs: number): void;
  /** A failure was counted (`failures` so far, this one included), before any resulting `onDown`. */
  onFailure?(reason: MemclusterError, failures: number): void;
}

/**
 * Consecutive-failure tracking for one server, and the probe loop that brings it back. A probe is
 * a fresh socket that must answer a real request; a TCP connect alone proves nothing (a stopped
 * process still completes the handshake from the kernel's backlog).
 */
export class ServerHealth {
  state: HealthState = 'up';
  failures = 0;
  lastError: MemclusterError | undefined;
  downSince = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private probeAttempt = 0;
  /** Counts the times the server was marked down: a probe started before the latest one proves nothing about it. */
  private downs = 0;
  private probing: Connection | undefined;
  private closed = false;
  /** Abandons a probe still connecting or authenticating when the client closes. */
  private readonly abort = new AbortController();

  constructor(
    private readonly server: string,
    private readonly opts: HealthOptions,
    /** Opens and proves a socket exactly as the pool does (so probes re-learn `mn`/`version` alike). */
    private readonly prove: (signal: AbortSignal) => Promise<ProvenSocket>,
    private readonly hooks: HealthHooks,
  ) {
    setMaxListeners(0, this.abort.signal);
  }

  get isDown(): boolean {
    return this.state === 'down';
  }

  /** A real request succeeded on this server (the probe delay starts over from its first step). */
  recordSuccess(): void {
    this.failures = 0;
    this.probeAttempt = 0;
  }

  /**
   * A socket was opened and proven outside a probe (the pool topping itself up to
   * `minConnections`): the same evidence a passed probe gives, so a down server comes up now
   * rather than when the probe timer fires (and no probe socket is opened beside it).
   */
  proven(): void {
    if (this.state !== 'down' || this.closed) return;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.markUp();
  }

  /** Something failed in a way that says the server itself is not answering. */
  recordFailure(err: MemclusterError): void {
    this.lastError = err;
    if (this.state === 'down' || this.closed) return;
    this.failures++;
    this.hooks.onFailure?.(err, this.failures);
    log('%s failure %d/%d: %s', this.server, this.failures, this.opts.failureThreshold, err.message);
    if (this.failures >= this.opts.failureThreshold) this.markDown(err);
  }

  /** Marks the server down now (also used when a failure is unambiguous). */
  markDown(reason: MemclusterError): void {
    if (this.state === 'down' || this.closed) return;
    this.state = 'down';
    this.downs++;
    this.downSince = Date.now();
    // The probe delay goes on growing from where it was: a probe that passes does not prove the
    // server answers commands (a proxy whose backend is dead answers `version`); only a real
    // reply (`recordSuccess`) starts it over.
    log('%s marked DOWN after %d failures: %s', this.server, this.failures, reason.message);
    this.hooks.onDown(reason, this.failures);
    this.scheduleProbe();
  }

  /** Stops probing and clears every timer. */
  close(): void {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.abort.abort();
    this.probing?.destroy(new MemclusterError('MC_ERR_CLOSED', 'client is closed', { server: this.server }));
  }

  private scheduleProbe(): void {
    const base = Math.min(this.opts.maxRetryDelayMs, this.opts.retryDelayMs * 2 ** Math.min(this.probeAttempt, 20));
    // "Equal jitter": between half and all of the backoff, so a fleet of clients does not probe in step.
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.probeAttempt++;
    log('%s probe #%d in %d ms', this.server, this.probeAttempt, delay);
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => { this.probeTimer = undefined; void this.probe(); }, delay);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (this.closed) return;
    const down = this.downs;
    let conn: Connection | undefined;
    try {
      ({ conn } = await this.prove(this.abort.signal));
      this.probing = conn;
      conn.onDeath = undefined;
      conn.destroy(new MemclusterError('MC_ERR_PROBE_DONE', 'probe finished', { server: this.server }));
      // Closed meanwhile, or up already (the pool proved a socket of its own while this one
      // connected), or up and down again since it started (the new down has its own probe).
      if (this.closed || this.state === 'up' || this.downs !== down) return;
      this.markUp();
    } catch (err) {
      this.lastError = err instanceof MemclusterError ? err : this.lastError;
      log('%s probe failed: %s', this.server, (err as Error).message);
      if (!this.closed && this.state === 'down' && this.downs === down) this.scheduleProbe();
    } finally {
      this.probing = undefined;
    }
  }

  private markUp(): void {
    const downFor = Date.now() - this.downSince;
    this.state = 'up';
    this.failures = 0;
    log('%s marked UP after %d ms down', this.server, downFor);
    this.hooks.onUp(downFor);
  }
}

/**
 * `fetch`: the read-through that is safe under a stampede. On a miss exactly one caller in the
 * fleet loads the value (a meta lease `mg ... N`, or an `add` lock on classic-text servers); the
 * others wait for it. In this process, concurrent fetches of one key share one flight: one round
 * trip, at most one loader call. When the cache cannot be asked, the loader runs directly.
 * The protocol paths are in fetch-meta.ts and fetch-text.ts; counters and invalidation in lease-ops.ts.
 */
import createDebug from 'debug';
import { setTimeout as sleep } from 'node:timers/promises';
import { now } from '../connection/connection.js';
import type { ServerNode } from '../cluster/server-node.js';
import { AbortError, InvalidArgumentError, InvalidValueError, LeaseWaitTimeoutError, MemclusterError } from '../errors.js';
import { describeValue } from '../text.js';
import { scopeOf, type CallOptions, type Scope } from './call.js';
import type { ClientCore, PreparedKey } from './core.js';
import { fetchMeta } from './fetch-meta.js';
import { fetchText } from './fetch-text.js';
import { protocolOf } from './meta.js';
import { MAX_RELATIVE_TTL, toExptime } from './ttl.js';
import { encodeValue } from './values.js';

const log = createDebug('memcluster:fetch');

/** Loads the value of a key the cache does not have (from a database, an API...). */
export type Loader<T> = (key: string) => T | Promise<T>;

/** Options of `fetch` (plus the per-call `signal` and `timeoutMs`). */
export interface FetchOptions extends CallOptions {
  /** Seconds the loaded value is stored for (0: no expiry). @default 0 */
  ttl?: number;
  /** Seconds a winner holds the right to load; a winner that dies or throws is replaced after it. @default 30 */
  leaseTtl?: number;
  /** How long a caller that lost the race waits for the winner's value (ms). @default 2000 */
  waitMs?: number;
  /**
   * Seconds: when a hit's remaining TTL drops below this, one caller in the fleet reloads it in the
   * background while every caller gets the current value at once. Meta servers only (ignored on text).
   */
  recacheWithin?: number;
  /**
   * What a caller gets when `waitMs` passes while another caller holds the lease: `'error'` rejects
   * with `LeaseWaitTimeoutError`; `'load'` calls the loader itself and returns its value without
   * storing it. Never an empty value. @default 'error'
   */
  onWaitTimeout?: 'error' | 'load';
}

/** Counters of one client's `fetch` calls since it was created (see `Client.fetchStats()`). */
export interface FetchStats {
  /** Flights (single-flight groups of concurrent same-key calls) that asked the cache. */
  flights: number;
  /** Flights answered by a value in the cache (fresh, stale or near expiry), without waiting. */
  hits: number;
  /** Loader calls made by this client, of any kind below. */
  loads: number;
  /** Leases (or text locks) this client won on a miss and loaded for. */
  leaseWins: number;
  /** Flights that waited for another caller's load. */
  waits: number;
  /** Flights whose wait ran out (`waitMs`). */
  waitTimeouts: number;
  /** Background reloads started (stale item or `recacheWithin`, this client won the refresh). */
  refreshes: number;
  /** Background reloads that failed (loader threw, value not storable); see the `fetchRefreshFailed` event. */
  refreshFailures: number;
  /** Fills the server refused because the item changed or was deleted during the load (value still returned). */
  fillsVoided: number;
  /** Fills that failed on the cache side (timeout, connection; value still returned). */
  fillFailures: number;
  /** Flights that called the loader directly because the cache could not be asked; nothing stored. */
  fallbacks: number;
}

/** Where `fetch` reports what callers cannot see: the client turns these into events. */
export interface FetchHooks {
  fallback(server: string, reason: MemclusterError): void;
  refreshFailed(server: string, reason: unknown): void;
}

/** `fetch` options with every default filled in. */
export interface ResolvedFetchOptions {
  ttl: number;
  leaseTtl: number;
  waitMs: number;
  recacheWithin: number | undefined;
  onWaitTimeout: 'error' | 'load';
  timeoutMs: number;
}

/** What a flight ended with: a value, or a wait that ran out. */
export type Outcome = { value: unknown } | { timedOut: true };

/** A loser re-asks after 10 ms, then 20, 40, 80, 100, 100... ms until the value comes or `waitMs` passes. */
const FIRST_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 100;

/** One loser's wait for a lease winner's value (both protocols). */
export class LeaseWait {
  private started: number | undefined;
  private delay = FIRST_BACKOFF_MS;

  constructor(private readonly f: Flight) {}

  /** Sleeps before the next ask; false once `waitMs` has passed (the caller then times out). */
  async next(): Promise<boolean> {
    const t = now();
    if (this.started === undefined) {
      this.started = t;
      this.f.stats.waits++;
    }
    const left = this.f.o.waitMs - (t - this.started);
    if (left <= 0) return false;
    await sleep(Math.min(this.delay, left));
    this.delay = Math.min(this.delay * 2, MAX_BACKOFF_MS);
    return true;
  }
}

/** A cache-side failure inside a flight: the flight falls back to calling the loader directly. */
export class CacheFailure {
  constructor(readonly reason: MemclusterError) {}
}

/** Errors that are the caller's business (not the cache's): they reject the call as they are. */
const CALLER_CODES = new Set(['MC_ERR_ABORTED', 'MC_ERR_CLOSED', 'MC_ERR_INVALID_KEY', 'MC_ERR_INVALID_VALUE', 'MC_ERR_INVALID_ARGUMENT', 'MC_ERR_INVALID_OPTION', 'MC_ERR_DECODE', 'MC_ERR_NO_SERVERS']);

/** One key's flight in this client: what the protocol paths need. */
export class Flight {
  constructor(
    readonly core: ClientCore,
    readonly p: PreparedKey,
    readonly node: ServerNode,
    private readonly loader: Loader<unknown>,
    readonly o: ResolvedFetchOptions,
    readonly stats: FetchStats,
    private readonly hooks: FetchHooks,
  ) {}

  /** A fresh deadline for one round trip (`timeoutMs` bounds each, not the wait or the loader). */
  scope(): Scope {
    return { deadline: now() + this.o.timeoutMs, cancel: undefined };
  }

  /** A cache round trip: a cache-side failure becomes `CacheFailure`; the caller's own errors pass. */
  async ask<R>(request: () => Promise<R>): Promise<R> {
    try {
      return await request();
    } catch (err) {
      if (err instanceof MemclusterError && !CALLER_CODES.has(err.code)) throw new CacheFailure(err);
      throw err;
    }
  }

  /**
   * Runs the loader once. Returns the item to store and the value as the serializer reads it back,
   * so every caller gets the same value whoever loaded it (the winner, a waiter, a fallback).
   */
  async load(): Promise<{ value: unknown; item: { data: Buffer; flags: number } }> {
    this.stats.loads++;
    const raw = await this.loader(this.p.key);
    if (raw === undefined) throw new InvalidValueError(`fetch loader returned undefined for key ${this.p.key}: return null (or any storable value) to cache a "not found"`);
    const item = encodeValue(this.core.opts.serializer, raw, this.p.key, this.core.opts.maxValueBytes);
    return { value: this.core.decode({ key: this.p.routed, flags: item.flags, data: item.data, cas: undefined }, this.p.key, this.node.server), item };
  }

  /** The exptime of a fill, computed when it is sent (a TTL over 30 days is an absolute time). */
  exptime(): number {
    return toExptime(this.o.ttl);
  }

  /** A background reload failed: never an unhandled rejection, always a log line, a counter and an event. */
  refreshFailed(err: unknown): void {
    this.stats.refreshFailures++;
    log('%s: background reload of %s failed: %s', this.node.server, this.p.key, (err as Error)?.message ?? err);
    this.hooks.refreshFailed(this.node.server, err);
  }
}

/** The `fetch` machinery of one client: its flights, its direct loads and its counters. */
export class Fetcher {
  readonly stats: FetchStats = {
    flights: 0, hits: 0, loads: 0, leaseWins: 0, waits: 0, waitTimeouts: 0, refreshes: 0, refreshFailures: 0, fillsVoided: 0, fillFailures: 0, fallbacks: 0,
  };
  /** Flights by routed key, each joinable until its lease would have expired (`until`, monotonic ms). */
  private readonly flights = new Map<string, { flight: Promise<Outcome>; until: number }>();
  /** Direct loads (no cache) by routed key, each shared likewise until `until`. */
  private readonly direct = new Map<string, { load: Promise<unknown>; until: number }>();

  constructor(private readonly core: ClientCore, private readonly hooks: FetchHooks) {}

  /** See `Client.fetch`. */
  async fetch<T>(key: string, loader: Loader<T>, options: FetchOptions = {}): Promise<T> {
    const o = resolveFetchOptions(options, this.core.opts.timeoutMs);
    if (typeof loader !== 'function') throw new InvalidArgumentError(`fetch needs a loader function, got ${describeValue(loader)}`);
    const p = this.core.prepare(key);
    const node = this.core.cluster.nodeFor(p.routed);
    const f = new Flight(this.core, p, node, loader as Loader<unknown>, o, this.stats, this.hooks);
    // A flight's loader may never settle (a database call without a timeout). A caller waits for
    // the flight it joins only while the flight's lease holds; once it would have expired, the
    // fleet has moved on (another caller may have filled the key, or may load it now), so the
    // caller asks the cache itself in a new flight, which later calls join (the first caller to
    // see it expire starts it, the others join that one). A loader that is slow but within the
    // lease is still called once for all of this client's callers. The flight's own outcome (a
    // value, or its wait for another client's lease ran out) is the caller's outcome too.
    let out: Outcome | undefined;
    for (let joined = this.flights.get(p.routed); joined && joined.until > now();) {
      const r = await untilAborted(within(joined.flight, joined.until - now(), options.signal), options.signal);
      if (r !== EXPIRED) {
        out = r;
        break;
      }
      const next = this.flights.get(p.routed);
      joined = next === joined ? undefined : next;
    }
    out ??= await untilAborted(this.start(f), options.signal);
    if ('value' in out) return out.value as T;
    if (o.onWaitTimeout === 'load') return (await untilAborted(this.loadDirect(f, options.signal), options.signal)) as T;
    throw new LeaseWaitTimeoutError(`another caller holds the lease for ${describeValue(p.key, 60)} and its value did not arrive within waitMs (${o.waitMs} ms)`, { server: node.server });
  }

  /** A new flight for the key, joinable by later calls until its lease would have expired. */
  private start(f: Flight): Promise<Outcome> {
    const flight = this.fly(f);
    const mine = { flight, until: now() + f.o.leaseTtl * 1000 };
    this.flights.set(f.p.routed, mine);
    // Handled here so a flight whose callers all aborted cannot be an unhandled rejection.
    flight.then(() => undefined, () => undefined).finally(() => {
      if (this.flights.get(f.p.routed) === mine) this.flights.delete(f.p.routed);
    });
    return flight;
  }

  /** One flight: learn the server's protocol, then the lease (meta) or lock (text) path. */
  private async fly(f: Flight): Promise<Outcome> {
    this.stats.flights++;
    try {
      const meta = await f.ask(() => protocolOf(f.core, f.node, f.scope()));
      const out = await (meta ? fetchMeta(f) : fetchText(f));
      if ('timedOut' in out) this.stats.waitTimeouts++;
      return out;
    } catch (err) {
      if (!(err instanceof CacheFailure)) throw err;
      this.stats.fallbacks++;
      log('%s: cache unavailable for %s (%s): loading directly, nothing stored', f.node.server, f.p.key, err.reason.detail);
      this.hooks.fallback(f.node.server, err.reason);
      return { value: await this.loadDirect(f) };
    }
  }

  /**
   * The loader without the cache (fallback, or a wait that ran out with `onWaitTimeout: 'load'`):
   * one load per key in this client, shared as a flight is, while its lease would hold (a loader
   * that never settles holds its joiners that long, never later calls).
   */
  private async loadDirect(f: Flight, signal?: AbortSignal): Promise<unknown> {
    for (let shared = this.direct.get(f.p.routed); shared && shared.until > now();) {
      const r = await within(shared.load, shared.until - now(), signal);
      if (r !== EXPIRED) return r;
      const next = this.direct.get(f.p.routed);
      shared = next === shared ? undefined : next;
    }
    const load = f.load().then((r) => r.value);
    const mine = { load, until: now() + f.o.leaseTtl * 1000 };
    this.direct.set(f.p.routed, mine);
    load.then(() => undefined, () => undefined).finally(() => {
      if (this.direct.get(f.p.routed) === mine) this.direct.delete(f.p.routed);
    });
    return load;
  }
}

const FETCH_OPTIONS = new Set(['ttl', 'leaseTtl', 'waitMs', 'recacheWithin', 'onWaitTimeout', 'signal', 'timeoutMs']);
const DEFAULT_LEASE_TTL = 30;
const DEFAULT_WAIT_MS = 2000;
const MAX_MS = 2 ** 31 - 1;

/** Validates every option before anything is sent; `InvalidArgumentError` names the bad one. */
export function resolveFetchOptions(options: FetchOptions, clientTimeoutMs: number): ResolvedFetchOptions {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`fetch options must be an object, got ${describeValue(options)}`);
  for (const k of Object.keys(options)) {
    if (!FETCH_OPTIONS.has(k)) throw new InvalidArgumentError(`unknown fetch option ${describeValue(k, 60)} (options: ${[...FETCH_OPTIONS].join(', ')})`);
  }
  // Checks timeoutMs and signal as every call does (an already-aborted signal throws AbortError).
  scopeOf(options, clientTimeoutMs, FETCH_OPTIONS).cancel?.done();
  toExptime(options.ttl);
  const seconds = (name: string, v: unknown, min: number): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > MAX_RELATIVE_TTL) {
      throw new InvalidArgumentError(`${name} must be a whole number of seconds from ${min} to ${MAX_RELATIVE_TTL}, got ${describeValue(v)}`);
    }
    return v;
  };
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  if (typeof waitMs !== 'number' || !Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > MAX_MS) {
    throw new InvalidArgumentError(`waitMs must be an integer from 0 to ${MAX_MS}, got ${describeValue(waitMs)}`);
  }
  const onWaitTimeout = options.onWaitTimeout ?? 'error';
  if (onWaitTimeout !== 'error' && onWaitTimeout !== 'load') throw new InvalidArgumentError(`onWaitTimeout must be 'error' or 'load', got ${describeValue(onWaitTimeout)}`);
  return {
    ttl: options.ttl ?? 0,
    leaseTtl: seconds('leaseTtl', options.leaseTtl, 1) ?? DEFAULT_LEASE_TTL,
    waitMs,
    recacheWithin: seconds('recacheWithin', options.recacheWithin, 1),
    onWaitTimeout,
    timeoutMs: options.timeoutMs ?? clientTimeoutMs,
  };
}

/** What `within` resolves with when its time ran out first. */
const EXPIRED: unique symbol = Symbol('expired');

/** Node's timers take at most 2^31-1 ms (a longer delay fires after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The flight's (or load's) outcome, or `EXPIRED` once `ms` have passed (it goes on for the others).
 * A lease up to 30 days is longer than a timer can wait: the wait is re-armed in steps. `signal`
 * (the caller's) clears the timer when the caller gives up, so it keeps no process alive.
 */
function within<T>(flight: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | typeof EXPIRED> {
  return new Promise<T | typeof EXPIRED>((resolve, reject) => {
    const until = now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const left = until - now();
      if (left <= 0) return done(EXPIRED);
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    const stop = (): void => clearTimeout(timer);
    const done = (v: T | typeof EXPIRED): void => {
      stop();
      signal?.removeEventListener('abort', stop);
      resolve(v);
    };
    signal?.addEventListener('abort', stop, { once: true });
    if (!signal?.aborted) arm();
    flight.then(done, (e: unknown) => {
      stop();
      signal?.removeEventListener('abort', stop);
      reject(e);
    });
  });
}

/** `p`, or an `AbortError` as soon as `signal` aborts (the shared flight goes on for the others). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

function abortError(signal: AbortSignal): AbortError {
  const r: unknown = signal.reason;
  const why = r instanceof Error ? `: ${r.message}` : typeof r === 'string' ? `: ${r}` : '';
  return new AbortError(`the call was aborted${why}`, { cause: r });
}

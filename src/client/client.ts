import { EventEmitter } from 'node:events';
import diagnostics from 'node:diagnostics_channel';
import createDebug from 'debug';
import { Cluster } from '../cluster/cluster.js';
import type { Locations } from '../cluster/ring.js';
import type { ServerStats } from '../cluster/server-node.js';
import { ClientClosedError, InvalidArgumentError, InvalidOptionError, MemclusterError, PartialFailureError, ProtocolError } from '../errors.js';
import { describeValue } from '../text.js';
import {
  encodeArith, encodeCas, encodeDelete, encodeFlushAll, encodeGat, encodeGet, encodeStats, encodeStore, encodeTouch, encodeVersion,
} from '../protocol/encoder.js';
import type { Reply, StoreCommand, ValueEntry, Wire } from '../protocol/types.js';
import type { ServerNode } from '../cluster/server-node.js';
import { inScope, scopeOf, type CallOptions, type Scope } from './call.js';
import { ClientCore, verifyRetrieval, type PreparedKey } from './core.js';
import { counter, createOf, Fetcher, invalidate, type CounterOptions, type FetchOptions, type FetchStats, type InvalidateOptions, type Loader } from './fetch.js';
import { entryOf, handBackIfWon, metaRequest, readFlags } from './meta.js';
import { encodeMetaGet } from '../protocol/meta-encoder.js';
import { deleteMulti, getMulti, getMultiSettled, setMulti, type MultiResult, type RetrievalCommand } from './multi.js';
import { normalizeLocation, normalizeServers, resolveOptions, type ClientOptions } from './options.js';
import { CLIENT_CALLS, traceMethods } from './tracing.js';
import { toExptime } from './ttl.js';
import { defaultSerializer, encodeItem, FLAGS, textBytes, type WireItem } from './values.js';

const log = createDebug('memcluster:client');

/** Options of a store command (plus the per-call `signal` and `timeoutMs`). */
export interface StoreOptions extends CallOptions {
  /** Seconds until the item expires (0: never). Over 30 days is sent as an absolute time. @default 0 */
  ttl?: number;
}

/** A value with its cas token (from `gets`/`gats`). */
export interface CasValue<T> {
  value: T;
  /** The item's cas unique (a uint64 as a decimal string); pass it to `cas()`. */
  cas: string;
}

/** Events a `Client` emits; each is also published on `node:diagnostics_channel` as `memcluster:<event>`. */
export interface ClientEvents {
  serverDown: [{ server: string; reason: MemclusterError; failures: number }];
  serverUp: [{ server: string; downForMs: number }];
  connectionEvicted: [{ server: string; connection: number; reason: MemclusterError }];
  /** `fetch` could not ask the cache (server down, timeout...): it called the loader directly and stored nothing. */
  fetchFallback: [{ server: string; reason: MemclusterError }];
  /** A `fetch` background reload (stale item, `recacheWithin`) failed: its loader threw or the value was not storable. */
  fetchRefreshFailed: [{ server: string; reason: unknown }];
  error: [MemclusterError];
}

const channels = {
  serverDown: diagnostics.channel('memcluster:serverDown'),
  serverUp: diagnostics.channel('memcluster:serverUp'),
  connectionEvicted: diagnostics.channel('memcluster:connectionEvicted'),
  fetchFallback: diagnostics.channel('memcluster:fetchFallback'),
  fetchRefreshFailed: diagnostics.channel('memcluster:fetchRefreshFailed'),
};

const MAX_UINT64 = 2n ** 64n - 1n;
const STORE_OK: Record<string, boolean> = { STORED: true, NOT_STORED: false, EXISTS: false, NOT_FOUND: false };

/**
 * A memcached client for a sharded fleet. Every call settles within `timeoutMs` with a value,
 * a miss (`undefined`), `false` (NOT_STORED / EXISTS / NOT_FOUND), or a typed `MemclusterError`
 * that names the server.
 *
 * @example
 * const mc = new Client(['10.0.0.1:11211', '10.0.0.2:11211'], { timeoutMs: 500 });
 * await mc.set('user:42', { name: 'Ada' }, { ttl: 300 });
 * const user = await mc.get<{ name: string }>('user:42'); // undefined on a miss
 * await mc.close();
 */
export class Client extends EventEmitter<ClientEvents> {
  private readonly core: ClientCore;
  private readonly fetcher: Fetcher;
  private closing: Promise<void> | undefined;

  constructor(servers: Locations, options: ClientOptions = {}) {
    super();
    const opts = resolveOptions(options);
    const cluster = new Cluster(normalizeServers(servers), opts, {
      onDown: (server, reason, failures) => this.publish('serverDown', { server, reason, failures }),
      onUp: (server, downForMs) => this.publish('serverUp', { server, downForMs }),
      onEvicted: (server, connection, reason) => this.publish('connectionEvicted', { server, connection, reason }),
    });
    this.core = new ClientCore(opts, cluster);
    this.fetcher = new Fetcher(this.core, {
      fallback: (server, reason) => this.publish('fetchFallback', { server, reason }),
      refreshFailed: (server, reason) => this.publish('fetchRefreshFailed', { server, reason }),
    });
  }

  static {
    // Every command method runs inside a `memcluster:command` trace (src/client/tracing.ts); with no
    // subscriber the wrapper is one `hasSubscribers` check.
    traceMethods(Client.prototype, CLIENT_CALLS, {
      route: (client, key) => client.core.cluster.nodeFor(client.core.prepare(key as string).routed).server,
      traceKeys: (client) => client.core.opts.traceKeys,
    });
  }

  /** The value, or `undefined` on a miss. */
  get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined> {
    let p: PreparedKey;
    let node: ServerNode;
    try {
      p = this.core.prepare(key);
      node = this.core.cluster.nodeFor(p.routed);
    } catch (err) {
      return Promise.reject(err); // bad input rejects, never throws
    }
    // Same-tick gets share one request; a call with its own signal or timeout goes alone.
    if (!hasCallOptions(options)) return (this.core.opts.coalesce ? this.core.coalescedGet(p, node) : this.core.getOne(p, node)) as Promise<T | undefined>;
    return this.scoped(options, (scope) => this.core.getOne(p, node, scope)) as Promise<T | undefined>;
  }

  /** The value and its cas token, or `undefined` on a miss. */
  gets<T = unknown>(key: string, options?: CallOptions): Promise<CasValue<T> | undefined> {
    return this.scoped(options, (scope) => this.retrieveOne<T>(key, 'gets', 0, scope)) as Promise<CasValue<T> | undefined>;
  }

  /** Get and touch: the value (its TTL reset to `ttl`), or `undefined` on a miss. */
  async gat<T = unknown>(key: string, ttl: number, options?: CallOptions): Promise<T | undefined> {
    const exptime = toExptime(ttl);
    return (await this.scoped(options, (scope) => this.retrieveOne<T>(key, 'gat', exptime, scope))) as T | undefined;
  }

  /** Get and touch with the cas token. */
  async gats<T = unknown>(key: string, ttl: number, options?: CallOptions): Promise<CasValue<T> | undefined> {
    const exptime = toExptime(ttl);
    return (await this.scoped(options, (scope) => this.retrieveOne<T>(key, 'gats', exptime, scope))) as CasValue<T> | undefined;
  }

  /** Stores unconditionally. Resolves `true`; a refusal (SERVER_ERROR, e.g. out of memory) rejects. */
  set(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.store('set', key, value, options);
  }

  /** Stores only if the key is absent: `false` when it exists. */
  add(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.store('add', key, value, options);
  }

  /** Stores only if the key exists: `false` when it is absent. */
  replace(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.store('replace', key, value, options);
  }

  /** Appends bytes to an existing item (its flags are kept): `false` when absent. */
  append(key: string, value: string | Buffer, options?: CallOptions): Promise<boolean> {
    return this.store('append', key, value, options);
  }

  /** Prepends bytes to an existing item: `false` when absent. */
  prepend(key: string, value: string | Buffer, options?: CallOptions): Promise<boolean> {
    return this.store('prepend', key, value, options);
  }

  /** Stores only if the item is unchanged since `gets` returned `cas`: `false` when it changed (EXISTS) or is gone (NOT_FOUND). */
  async cas(key: string, value: unknown, cas: string, options?: StoreOptions): Promise<boolean> {
    // Beyond 2^64-1 memcached refuses the line but does not skip the data block: it would run as a command.
    if (typeof cas !== 'string' || !/^\d{1,20}$/.test(cas) || BigInt(cas) > MAX_UINT64) {
      throw new InvalidArgumentError(`cas must be the decimal token from gets() (0 to 2^64-1), got ${describeValue(cas)}`);
    }
    const p = this.core.prepare(key);
    const exptime = toExptime(options?.ttl);
    const item = encodeItem(this.core.opts.serializer, value, key, this.core.opts.maxValueBytes);
    const bytes = encodeCas(p.routed, item.flags, exptime, item.data, cas, item.bytes);
    return this.scoped(options, async (scope) => statusOf(await this.sendFor(p.routed, bytes, 'store', scope), STORE_OK));
  }

  /**
   * Adds `delta` to a decimal counter: the new value, or `false` when the key is absent. With
   * `initial` and/or `ttl`, a missing counter is created holding `initial` (returned as is) that lives
   * `ttl` seconds: one `ma` round trip on meta servers; `incr`, `add`, `incr` on text (not atomic).
   */
  incr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<number | false> {
    return this.arith('incr', key, delta, options);
  }

  /** Subtracts `delta` (memcached stops at 0): the new value, or `false` when the key is absent. Options as `incr`. */
  decr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<number | false> {
    return this.arith('decr', key, delta, options);
  }

  /**
   * Read-through that is safe under a stampede: the cached value, or `loader(key)`'s, stored for
   * `ttl`. On a miss exactly one caller in the fleet loads (a lease on meta servers, an `add` lock on
   * text ones) while the others wait up to `waitMs` for its value; concurrent calls in this client
   * share one round trip and one loader call. Stale or nearly expired items (`invalidate`,
   * `recacheWithin`) are returned at once while one caller reloads them in the background. When the
   * cache cannot be asked, the loader runs directly and nothing is stored (`fetchFallback` event).
   * See README, "Stampede protection".
   */
  fetch<T>(key: string, loader: Loader<T>, options?: FetchOptions): Promise<T> {
    return this.fetcher.fetch(key, loader, options);
  }

  /**
   * Marks an item stale (`md <key> I T<staleTtl>` on meta servers): `fetch` keeps serving it while one
   * caller reloads it, and `get` reads it as a miss. On text servers a plain delete. `true` when the
   * item existed, `false` when absent.
   */
  async invalidate(key: string, options?: InvalidateOptions): Promise<boolean> {
    const p = this.core.prepare(key);
    const staleTtl = options?.staleTtl === undefined ? undefined : toExptime(options.staleTtl, 'staleTtl');
    return this.scoped(options, (scope) => invalidate(this.core, p, staleTtl, scope));
  }

  /** Counters of this client's `fetch` calls: hits, loads, waits, fallbacks, background reloads... */
  fetchStats(): FetchStats {
    return { ...this.fetcher.stats };
  }

  /** `true` when deleted, `false` when absent. */
  async delete(key: string, options?: CallOptions): Promise<boolean> {
    const p = this.core.prepare(key);
    return this.scoped(options, async (scope) => statusOf(await this.sendFor(p.routed, encodeDelete(p.routed), 'delete', scope), { DELETED: true, NOT_FOUND: false }));
  }

  /** Resets the TTL: `true` when touched, `false` when absent. */
  async touch(key: string, ttl: number, options?: CallOptions): Promise<boolean> {
    const p = this.core.prepare(key);
    const exptime = toExptime(ttl);
    return this.scoped(options, async (scope) => statusOf(await this.sendFor(p.routed, encodeTouch(p.routed, exptime), 'touch', scope), { TOUCHED: true, NOT_FOUND: false }));
  }

  /** Many keys, batched per server: a `Map` of hits (misses absent). Rejects with `PartialFailureError` if any server failed. */
  getMulti<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<Map<string, T>> {
    return this.scoped(options, (scope) => getMulti<T>(this.core, keys, 'get', 0, scope));
  }

  /** Like `getMulti`, but resolves with the hits and the per-key errors, for callers who serve partial results. */
  getMultiSettled<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<MultiResult<T>> {
    return this.scoped(options, (scope) => getMultiSettled<T>(this.core, keys, 'get', 0, scope));
  }

  /** `gets` for many keys. */
  getsMulti<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<Map<string, CasValue<T>>> {
    return this.scoped(options, (scope) => getMulti<CasValue<T>>(this.core, keys, 'gets', 0, scope));
  }

  /** `gat` for many keys (lines kept under memcached's 2 KB limit for non-get commands). */
  async gatMulti<T = unknown>(keys: readonly string[], ttl: number, options?: CallOptions): Promise<Map<string, T>> {
    const exptime = toExptime(ttl);
    return this.scoped(options, (scope) => getMulti<T>(this.core, keys, 'gat', exptime, scope));
  }

  /** `gats` for many keys. */
  async gatsMulti<T = unknown>(keys: readonly string[], ttl: number, options?: CallOptions): Promise<Map<string, CasValue<T>>> {
    const exptime = toExptime(ttl);
    return this.scoped(options, (scope) => getMulti<CasValue<T>>(this.core, keys, 'gats', exptime, scope));
  }

  /**
   * Stores many items, pipelined per server: per-key `true`/`false`. A key given twice is stored once,
   * with its last value. Rejects with `PartialFailureError` if any failed.
   */
  async setMulti(entries: Iterable<readonly [string, unknown]>, options?: StoreOptions): Promise<Map<string, boolean>> {
    const exptime = toExptime(options?.ttl);
    return this.scoped(options, (scope) => setMulti(this.core, entries, exptime, scope));
  }

  /** Deletes many keys, pipelined per server: per-key `true` (deleted) / `false` (absent); a key given twice is deleted once. */
  deleteMulti(keys: readonly string[], options?: CallOptions): Promise<Map<string, boolean>> {
    return this.scoped(options, (scope) => deleteMulti(this.core, keys, scope));
  }

  /** Invalidates every item on every server (after `delaySeconds`). Rejects with `PartialFailureError` naming failed servers. */
  async flush(delaySeconds = 0, options?: CallOptions): Promise<void> {
    // The delay is read like an exptime (over 30 days: a unix time), so it is converted the same way.
    const delay = toExptime(delaySeconds, 'delaySeconds');
    await this.scoped(options, (scope) => this.everyServer(encodeFlushAll(delay || undefined), 'ok', () => true, scope));
  }

  /** Each server's version, by server (`host:port`). */
  version(options?: CallOptions): Promise<Map<string, string>> {
    return this.scoped(options, (scope) => this.everyServer(encodeVersion(), 'version', (r) => (r.kind === 'version' ? r.version : undefined), scope));
  }

  /**
   * Each server's `stats`, by server (`host:port`). `group` is any group the server knows: `items`,
   * `slabs`, `sizes`, `settings`, `conns`, `extstore`, `cachedump <slab> <limit>` (entries
   * `key -> "[<bytes> b; <exptime> s]"`), `detail dump` (entries `prefix -> "get <n> hit <n> ..."`).
   * `reset`, `detail on` and `detail off` resolve `true` once every server did it. A reply larger
   * than the client keeps fails that server's part with `ReplyTooLargeError`; no stats reply or
   * error counts against a server's health.
   */
  stats(group: 'reset' | 'detail on' | 'detail off', options?: CallOptions): Promise<true>;
  stats(group?: string, options?: CallOptions): Promise<Map<string, Record<string, string>>>;
  async stats(group?: string, options?: CallOptions): Promise<Map<string, Record<string, string>> | true> {
    if (group !== undefined && (typeof group !== 'string' || !/^(?:[a-z_]{1,32}|detail (?:on|off|dump)|cachedump \d{1,10} \d{1,10})$/.test(group))) {
      throw new InvalidArgumentError(`stats group must be a word like 'items' (or 'cachedump 1 10', 'detail dump'), got ${describeValue(group)}`);
    }
    // `stats sizes_enable|sizes_disable` answer one STAT line and no END.
    const kind = group === 'sizes_enable' || group === 'sizes_disable' ? 'stats_line' : 'stats';
    const perServer = await this.scoped(options, (scope) => this.everyServer(encodeStats(group), kind, statsRecord, scope));
    return group === 'reset' || group === 'detail on' || group === 'detail off' ? true : perServer as Map<string, Record<string, string>>;
  }

  /** The client's own view of each server: health, pool sizes, queue, failures, validation figures. */
  serverStats(): ServerStats[] {
    return this.core.cluster.all().map((n) => n.stats());
  }

  /** Adds a server at run time (same location forms as the constructor). */
  addServer(location: string, weight?: number): void {
    if (this.core.closed) throw new ClientClosedError();
    this.core.cluster.add(normalizeLocation(location), weight);
  }

  /** Removes a server at run time; its in-flight requests finish, then its sockets close. */
  removeServer(location: string): Promise<void> {
    return this.core.cluster.remove(normalizeLocation(location));
  }

  /**
   * Replaces a server by another in one step (e.g. a failed host by a new one): the ring becomes
   * exactly the ring of the new server list, so this client routes like one built with that list,
   * and only the keys the ring moves change server. The old server's in-flight requests finish.
   */
  async replaceServer(from: string, to: string, weight?: number): Promise<void> {
    if (this.core.closed) throw new ClientClosedError();
    if (!this.core.cluster.has(normalizeLocation(from))) throw new InvalidOptionError(`server ${describeValue(from)} is not in the cluster`);
    this.addServer(to, weight); // throws before any change if `to` or `weight` is invalid, or `to` is present
    await this.core.cluster.remove(normalizeLocation(from));
  }

  /** `await using mc = new Client(...)` closes the client at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Refuses new calls, lets in-flight ones settle (each within its timeout), closes every socket and timer. */
  close(): Promise<void> {
    if (!this.closing) {
      this.core.closed = true;
      log('closing');
      this.closing = this.core.cluster.close();
    }
    return this.closing;
  }

  /** One `mg` read on a meta server, as a classic retrieval sees it (see `entryOf`, `handBackIfWon`). */
  private async metaRead(node: ServerNode, routed: string, withCas: boolean, touch: number | undefined, scope: Scope | undefined, read: boolean): Promise<ValueEntry | undefined> {
    const r = await metaRequest(this.core, node, encodeMetaGet(routed, readFlags(withCas, touch, false)), routed, scope, read);
    await handBackIfWon(node, r, routed, this.core.opts.timeoutMs);
    return entryOf(r, routed);
  }

  /** Runs a call in the scope its options make (deadline, signal); with no options, the client's defaults. */
  private scoped<T>(options: CallOptions | undefined, fn: (scope: Scope | undefined) => Promise<T>): Promise<T> {
    if (!hasCallOptions(options)) return fn(undefined);
    let scope: Scope;
    try {
      scope = scopeOf(options, this.core.opts.timeoutMs);
    } catch (err) {
      return Promise.reject(err); // bad options reject, never throw
    }
    return inScope(scope, fn);
  }

  private async retrieveOne<T>(key: string, cmd: RetrievalCommand, exptime: number, scope: Scope | undefined): Promise<T | CasValue<T> | undefined> {
    const p = this.core.prepare(key);
    const node = this.core.cluster.nodeFor(p.routed);
    const bytes = cmd === 'gat' || cmd === 'gats' ? encodeGat(cmd, exptime, [p.routed]) : encodeGet(cmd as 'get' | 'gets', [p.routed]);
    const withCas = cmd === 'gets' || cmd === 'gats';
    const v = node.meta === true
      ? await this.metaRead(node, p.routed, withCas, cmd === 'gat' || cmd === 'gats' ? exptime : undefined, scope, cmd === 'gets')
      : this.core.single(await this.core.send(node, bytes, 'retrieval', (r) => verifyRetrieval(r, [p.routed], node.server, withCas), p.routed, scope, cmd === 'gets'), p.routed, node.server);
    if (!v) return undefined;
    const value = this.core.decode(v, key, node.server) as T;
    if (cmd === 'get' || cmd === 'gat') return value;
    if (v.cas === undefined) throw new ProtocolError(`${cmd} reply carried no cas`, { server: node.server });
    return { value, cas: v.cas };
  }

  private store(cmd: StoreCommand, key: string, value: unknown, options: StoreOptions | CallOptions | undefined): Promise<boolean> {
    let bytes: Wire;
    let routed: string;
    try {
      routed = this.core.routedKey(key);
      const exptime = toExptime((options as StoreOptions | undefined)?.ttl);
      const opts = this.core.opts;
      if (typeof value === 'string' && opts.serializer === defaultSerializer && cmd !== 'append' && cmd !== 'prepend') {
        // The usual store: a text value under the default format, one string request (flags 0).
        bytes = encodeStore(cmd, routed, FLAGS.STRING, exptime, value, textBytes(value, key, opts.maxValueBytes));
        return this.sendStore(routed, bytes, options);
      }
      let item: WireItem;
      if (cmd === 'append' || cmd === 'prepend') {
        if (typeof value === 'string') item = { data: value, bytes: Buffer.byteLength(value, 'utf8'), flags: 0 };
        else if (Buffer.isBuffer(value)) item = { data: value, bytes: value.length, flags: 0 };
        else throw new InvalidArgumentError(`${cmd} takes a string or Buffer (raw bytes added to the item), got ${typeof value}`);
        if (item.bytes > this.core.opts.maxValueBytes) throw new InvalidArgumentError(`${cmd} of ${item.bytes} bytes exceeds maxValueBytes`);
      } else {
        item = encodeItem(this.core.opts.serializer, value, key, this.core.opts.maxValueBytes);
      }
      bytes = encodeStore(cmd, routed, item.flags, exptime, item.data, item.bytes);
    } catch (err) {
      return Promise.reject(err); // bad input rejects, never throws
    }
    return this.sendStore(routed, bytes, options);
  }

  private sendStore(routed: string, bytes: Wire, options: CallOptions | undefined): Promise<boolean> {
    // The hot path: no extra async layer when the call has no options of its own.
    if (!hasCallOptions(options)) return this.core.sendMapped(this.core.cluster.nodeFor(routed), bytes, 'store', storeResult, undefined, routed);
    return this.scoped(options, (scope) => this.core.sendMapped(this.core.cluster.nodeFor(routed), bytes, 'store', storeResult, undefined, routed, scope));
  }


  private async arith(cmd: 'incr' | 'decr', key: string, delta: number | bigint, options: CounterOptions | undefined): Promise<number | false> {
    const p = this.core.prepare(key);
    const ok = (typeof delta === 'number' && Number.isSafeInteger(delta) && delta >= 0) || (typeof delta === 'bigint' && delta >= 0n && delta <= MAX_UINT64);
    if (!ok) throw new InvalidArgumentError(`${cmd} delta must be an integer from 0 to 2^64-1, got ${describeValue(delta)}`);
    const create = createOf(options);
    if (create) return this.scoped(options, (scope) => counter(this.core, cmd, p, String(delta), create, scope));
    const bytes = encodeArith(cmd, p.routed, String(delta));
    return this.scoped(options, async (scope) => {
      const reply = await this.sendFor(p.routed, bytes, 'arith', scope);
      if (reply.kind === 'number') return Number(reply.value);
      return statusOf(reply, { NOT_FOUND: false }) as false;
    });
  }

  private sendFor(routed: string, bytes: Wire, kind: Parameters<ClientCore['send']>[2], scope: Scope | undefined): Promise<Reply> {
    return this.core.send(this.core.cluster.nodeFor(routed), bytes, kind, undefined, routed, scope);
  }

  private async everyServer<R>(bytes: Wire, kind: Parameters<ClientCore['send']>[2], pick: (r: Reply) => R | undefined, scope: Scope | undefined): Promise<Map<string, R>> {
    if (this.core.closed) throw new ClientClosedError();
    const values = new Map<string, R>();
    const errors = new Map<string, MemclusterError>();
    await Promise.all(this.core.cluster.all().map(async (node) => {
      try {
        const reply = await this.core.send(node, bytes, kind, undefined, undefined, scope);
        const r = pick(reply);
        if (r === undefined) throw new ProtocolError(`unexpected reply ${reply.kind}`, { server: node.server });
        values.set(node.server, r);
      } catch (err) {
        errors.set(node.server, err as MemclusterError);
      }
    }));
    if (errors.size > 0) throw new PartialFailureError(`${errors.size} of ${errors.size + values.size} servers failed`, values, errors);
    return values;
  }

  private publish<E extends keyof typeof channels>(event: E, payload: ClientEvents[E][0]): void {
    const ch = channels[event];
    if (ch.hasSubscribers) ch.publish(payload);
    try {
      (this.emit as (e: string, p: unknown) => boolean)(event, payload);
    } catch (err) {
      // A throwing listener must not break the socket handler that reported the event.
      if (this.listenerCount('error') === 0) return;
      try {
        this.emit('error', new MemclusterError('MC_ERR_LISTENER', `a '${event}' listener threw: ${describeValue((err as Error)?.message ?? err)}`, { server: payload.server, cause: err }));
      } catch {
        // An 'error' listener that throws too has nowhere left to report to.
      }
    }
  }
}

/**
 * One server's stats reply as a record: `STAT name value` lines as name -> value, other lines
 * (`ITEM key rest`, `PREFIX prefix rest`) as their second word -> the rest; `RESET`/`OK` as `{}`.
 */
function statsRecord(reply: Reply): Record<string, string> | undefined {
  if (reply.kind !== 'stats') return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of reply.stats) out[name] = value;
  for (const line of reply.lines) {
    const m = /^\S+ (\S+) ?(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Whether a call's options set its own signal or timeout (else the client's defaults apply as they are). */
function hasCallOptions(options: CallOptions | undefined): options is CallOptions {
  return options !== undefined && (options.signal !== undefined || options.timeoutMs !== undefined);
}

/** A store's outcome: `STORED` true, `NOT_STORED`/`EXISTS`/`NOT_FOUND` false (the first checked directly: it is the usual one). */
const storeResult = (reply: Reply): boolean => (reply.kind === 'status' && reply.status === 'STORED') || statusOf(reply, STORE_OK);

function statusOf(reply: Reply, table: Record<string, boolean>): boolean {
  if (reply.kind === 'status' && reply.status in table) return table[reply.status]!;
  throw new ProtocolError(`unexpected reply: ${reply.kind === 'status' ? reply.status : reply.kind}`);
}

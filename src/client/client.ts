import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { Cluster } from '../cluster/cluster.js';
import type { Locations } from '../cluster/ring.js';
import type { ServerStats } from '../cluster/server-node.js';
import { ClientClosedError, InvalidOptionError } from '../errors.js';
import { describeValue } from '../text.js';
import { encodeArith, encodeCas, encodeDelete, encodeTouch } from '../protocol/encoder.js';
import type { Reply, StoreCommand, Wire } from '../protocol/types.js';
import type { ServerNode } from '../cluster/server-node.js';
import { COUNTER_OPTIONS, hasCallOptions, INVALIDATE_OPTIONS, scoped, STORE_OPTIONS, type CallOptions, type OptionNames, type Scope } from './call.js';
import { ClientCore, type PreparedKey } from './core.js';
import { Fetcher, type FetchOptions, type FetchStats, type Loader } from './fetch.js';
import { counter, createOf, invalidate, type CounterOptions, type InvalidateOptions } from './lease-ops.js';
import { deleteMulti, getMulti, getMultiSettled, setMulti, type MultiResult } from './multi.js';
import { normalizeLocation, normalizeServers, resolveOptions, type ClientOptions } from './options.js';
import { checkStatsGroup, flushAll, statsOf, versions } from './admin.js';
import { checkCas, checkDelta, retrieveOne, statusOf, STORE_OK, storeBytes, storeResult, type CasValue, type StoreOptions } from './single.js';
import { publishEvent, type ClientEvents, type ServerEvent } from './events.js';
import { CLIENT_CALLS, traceMethods } from './tracing.js';
import { toExptime } from './ttl.js';
import { encodeItem } from './values.js';

export type { CasValue, ClientEvents, StoreOptions };

const log = createDebug('memcluster:client');

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
    return this.scoped(options, (scope) => retrieveOne<T>(this.core, key, 'gets', 0, scope)) as Promise<CasValue<T> | undefined>;
  }

  /** Get and touch: the value (its TTL reset to `ttl`), or `undefined` on a miss. */
  async gat<T = unknown>(key: string, ttl: number, options?: CallOptions): Promise<T | undefined> {
    const exptime = toExptime(ttl);
    return (await this.scoped(options, (scope) => retrieveOne<T>(this.core, key, 'gat', exptime, scope))) as T | undefined;
  }

  /** Get and touch with the cas token. */
  async gats<T = unknown>(key: string, ttl: number, options?: CallOptions): Promise<CasValue<T> | undefined> {
    const exptime = toExptime(ttl);
    return (await this.scoped(options, (scope) => retrieveOne<T>(this.core, key, 'gats', exptime, scope))) as CasValue<T> | undefined;
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
    checkCas(cas);
    const p = this.core.prepare(key);
    const exptime = toExptime(options?.ttl);
    const item = encodeItem(this.core.opts.serializer, value, key, this.core.opts.maxValueBytes);
    const bytes = encodeCas(p.routed, item.flags, exptime, item.data, cas, item.bytes);
    return this.scoped(options, async (scope) => statusOf(await this.sendFor(p.routed, bytes, 'store', scope), STORE_OK), STORE_OPTIONS);
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
    return this.scoped(options, (scope) => invalidate(this.core, p, staleTtl, scope), INVALIDATE_OPTIONS);
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
    return this.scoped(options, (scope) => setMulti(this.core, entries, exptime, scope), STORE_OPTIONS);
  }

  /** Deletes many keys, pipelined per server: per-key `true` (deleted) / `false` (absent); a key given twice is deleted once. */
  deleteMulti(keys: readonly string[], options?: CallOptions): Promise<Map<string, boolean>> {
    return this.scoped(options, (scope) => deleteMulti(this.core, keys, scope));
  }

  /** Invalidates every item on every server (after `delaySeconds`). Rejects with `PartialFailureError` naming failed servers. */
  async flush(delaySeconds = 0, options?: CallOptions): Promise<void> {
    // The delay is read like an exptime (over 30 days: a unix time), so it is converted the same way.
    const delay = toExptime(delaySeconds, 'delaySeconds');
    await this.scoped(options, (scope) => flushAll(this.core, delay, scope));
  }

  /** Each server's version, by server (`host:port`). */
  version(options?: CallOptions): Promise<Map<string, string>> {
    return this.scoped(options, (scope) => versions(this.core, scope));
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
    checkStatsGroup(group);
    return this.scoped(options, (scope) => statsOf(this.core, group, scope));
  }

  /** The prefix every key is stored under (option `keyPrefix`; '' when none). */
  get keyPrefix(): string {
    return this.core.opts.keyPrefix;
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
    if (this.core.closed) return Promise.reject(new ClientClosedError());
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

  /** Runs a call in the scope its options make (see `scoped` in call.ts). */
  private scoped<T>(options: CallOptions | undefined, fn: (scope: Scope | undefined) => Promise<T>, names?: OptionNames): Promise<T> {
    return scoped(options, this.core.opts.timeoutMs, fn, names);
  }

  private store(cmd: StoreCommand, key: string, value: unknown, options: StoreOptions | CallOptions | undefined): Promise<boolean> {
    let routed: string;
    let bytes: Wire;
    let node: ServerNode;
    try {
      routed = this.core.routedKey(key); // the key is checked first, then the ttl, then the value
      bytes = storeBytes(this.core, cmd, key, routed, value, (options as StoreOptions | undefined)?.ttl);
      node = this.core.cluster.nodeFor(routed); // NoServersError once the last server was removed
    } catch (err) {
      return Promise.reject(err); // bad input rejects, never throws
    }
    // The hot path: no extra async layer when the call has no options of its own.
    const names = cmd === 'append' || cmd === 'prepend' ? undefined : STORE_OPTIONS;
    if (!hasCallOptions(options, names)) return this.core.sendMapped(node, bytes, 'store', storeResult, undefined, routed);
    return this.scoped(options, (scope) => this.core.sendMapped(node, bytes, 'store', storeResult, undefined, routed, scope), names);
  }


  private async arith(cmd: 'incr' | 'decr', key: string, delta: number | bigint, options: CounterOptions | undefined): Promise<number | false> {
    const p = this.core.prepare(key);
    checkDelta(cmd, delta);
    const create = createOf(options);
    if (create) return this.scoped(options, (scope) => counter(this.core, cmd, p, String(delta), create, scope), COUNTER_OPTIONS);
    const bytes = encodeArith(cmd, p.routed, String(delta));
    return this.scoped(options, async (scope) => {
      const reply = await this.sendFor(p.routed, bytes, 'arith', scope);
      if (reply.kind === 'number') return Number(reply.value);
      return statusOf(reply, { NOT_FOUND: false }) as false;
    }, COUNTER_OPTIONS);
  }

  private sendFor(routed: string, bytes: Wire, kind: Parameters<ClientCore['send']>[2], scope: Scope | undefined): Promise<Reply> {
    return this.core.send(this.core.cluster.nodeFor(routed), bytes, kind, undefined, routed, scope);
  }

  private publish<E extends ServerEvent>(event: E, payload: ClientEvents[E][0]): void {
    publishEvent(this, event, payload);
  }
}

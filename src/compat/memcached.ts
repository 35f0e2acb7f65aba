import { EventEmitter } from 'node:events';
import { serverIds, type Locations, type Ring } from '../cluster/ring.js';
import type { ServerNode } from '../cluster/server-node.js';
import { InvalidArgumentError, InvalidValueError, ProtocolError } from '../errors.js';
import { encodeArith, encodeCas, encodeDelete, encodeGet, encodeStore, encodeTouch } from '../protocol/encoder.js';
import type { StoreCommand } from '../protocol/types.js';
import { verifyRetrieval } from '../client/batch.js';
import { statusOf } from '../client/single.js';
import { traceCompat } from '../client/tracing.js';
import { errorData, NotStoredError, TEXT } from './errors.js';
import { Fleet } from './fleet.js';
import type { IssueLog } from './issues.js';
import { legacySerializer } from './legacy-serializer.js';
import { cachedump, getMultiCompat, put, singlesCompat, type SingleType } from './multi.js';
import { compatExptime, compatKey, DEFAULT_CONFIG, keyText, mergeConfig, normalizeLocations, resolveCompat, type CompatSettings } from './options.js';
import { CompatConnection, ServerState } from './servers.js';
import type {
  CompatCacheDumpData as CacheDumpData, CompatCommandData as CommandData, CompatConfig as Config, CompatIssueData as IssueData,
  CompatLocation as Location, CompatOptions as options, CompatStatusData as StatusData, CompatVersionData as VersionData, QueryCallback,
} from './types.js';

/** The events of the compat client, each with 2.2.2's payload. */
export interface CompatEvents {
  issue: [IssueData];
  failure: [IssueData];
  reconnecting: [IssueData];
  reconnect: [IssueData];
  remove: [IssueData];
}

type Validate = CommandData['validate'];
const V = {
  key: [['key', String], ['callback', Function]] as Validate,
  store: [['key', String], ['value', String], ['lifetime', Number], ['callback', Function]] as Validate,
  touch: [['key', String], ['lifetime', Number], ['callback', Function]] as Validate,
  arith: [['key', String], ['value', Number], ['callback', Function]] as Validate,
  dump: [['number', Number], ['slabid', Number], ['callback', Function]] as Validate,
};
const noop = (): void => {};

/**
 * The `memcached` 2.2.2 API (callbacks, results, events, options) on memcluster's pools,
 * validation, health tracking and batching. See src/compat/README.md for every difference.
 */
export class MemcachedClient extends EventEmitter<CompatEvents> {
  /** Defaults read by every client at construction; change them to configure all clients. */
  static config: Config = { ...DEFAULT_CONFIG };

  /** The server locations, as given (2.2.2's `servers`). */
  readonly servers: string[];
  /** The consistent-hash ring (hashring's, built as 2.2.2 built it); kept in step with `remove: true`. Read it; changing it does not reroute. */
  readonly HashRing: Ring;
  /** `host:port` -> the server's socket pool, from its first request on (2.2.2 kept jackpot pools here). */
  readonly connections: Record<string, CompatConnection>;
  /** `host:port` -> 2.2.2's IssueLog of a server that failed (an array used as a map, as in 2.2.2). */
  readonly issues: IssueLog[] & Record<string, IssueLog>;

  // 2.2.2 copied every option onto the instance; these are the ones it defined (raw values, as given).
  declare maxKeySize: number;
  declare maxExpiration: number;
  declare maxValue: number;
  declare activeQueries: number;
  declare maxQueueSize: number;
  declare algorithm: string;
  declare compatibility: string;
  declare poolSize: number;
  declare retries: number;
  declare factor: number;
  declare minTimeout: number;
  declare maxTimeout: number;
  declare randomize: boolean;
  declare reconnect: number;
  declare timeout: number;
  declare failures: number;
  declare failuresTimeout: number;
  declare retry: number;
  declare idle: number;
  declare remove: boolean;
  declare redundancy: boolean | number;
  declare keyCompression: boolean;
  declare namespace: string;
  declare debug: boolean;
  declare failOverServers: string | string[] | undefined;

  private readonly locations: Locations;
  private readonly compat: CompatSettings;
  private readonly state: ServerState;
  private current: Fleet | undefined;

  constructor(location?: Location, options?: options) {
    super();
    this.locations = normalizeLocations(location);
    this.servers = serverIds(this.locations);
    const merged = mergeConfig((this.constructor as typeof MemcachedClient).config ?? DEFAULT_CONFIG, options);
    this.compat = resolveCompat(merged);
    // As 2.2.2's `Utils.merge(this, config); Utils.merge(this, options)`, minus anything that would
    // shadow a method or this client's own state (2.2.2 let an option named `get` replace get()).
    for (const [k, v] of Object.entries(merged)) {
      if (k in this || k.startsWith('_')) continue;
      Object.defineProperty(this, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    this.state = new ServerState(this.locations, this.compat, { open: () => this.fleet, current: () => this.current },
      (event, details) => process.nextTick(() => (this.emit as (e: string, d: IssueData) => boolean)(event, details)));
    this.HashRing = this.state.ring;
    this.connections = this.state.connections;
    this.issues = this.state.issues;
    // Own state stays out of Object.keys(), which lists what 2.2.2's instance has.
    for (const k of ['locations', 'compat', 'state', 'current']) {
      Object.defineProperty(this, k, { value: (this as Record<string, unknown>)[k], enumerable: false, writable: true, configurable: true });
    }
  }

  touch(key: string, lifetime: number, cb?: QueryCallback<boolean>): void {
    const q = this.query('touch', key, cb, V.touch, { lifetime });
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      const exptime = compatExptime(lifetime, this.compat.maxExpiration);
      q.command = `touch ${k.wire} ${exptime}`;
      const reply = await fleet.core.send(at(k.full), encodeTouch(k.wire, exptime), 'touch');
      return statusOf(reply, { TOUCHED: true, NOT_FOUND: false });
    });
  }

  get(key: string | string[], cb?: QueryCallback<any>): void {
    if (Array.isArray(key)) return this.getMulti(key, cb as never);
    const q = this.query('get', key, cb, V.key);
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      q.command = `get ${k.wire}`;
      return fleet.core.coalescedGet({ key: String(key), routed: k.wire, bytes: k.bytes }, at(k.full));
    });
  }

  /** The value and its cas token as `{ [key]: value, cas }` (keyed like 2.2.2: by namespace + key), or `undefined` on a miss. */
  gets(key: string, cb?: QueryCallback<{ [key: string]: any; cas: string }>): void {
    const q = this.query('gets', key, cb, V.key);
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      q.command = `gets ${k.wire}`;
      const node = at(k.full);
      const reply = await fleet.core.send(node, encodeGet('gets', [k.wire]), 'retrieval', (r) => verifyRetrieval(r, [k.wire], node.server));
      const v = fleet.core.single(reply, k.wire, node.server);
      if (!v) return undefined;
      if (v.cas === undefined) throw new ProtocolError('gets reply carried no cas', { server: node.server });
      const out: Record<string, unknown> = {};
      const value = fleet.core.decode(v, String(key), node.server);
      // Keyed as 2.2.2 keys it: by the key on the wire (namespace + key, or its md5 when over-long).
      // Your own key reads the value too, as an unlisted property, so `data[key]` works either way.
      put(out, k.wire, value);
      out.cas = v.cas;
      if (k.wire !== String(key) && String(key) !== 'cas') Object.defineProperty(out, String(key), { value, enumerable: false, configurable: true });
      return out;
    });
  }

  /** `{ key: value }` for the hits; `err` is an array of errors (or undefined) beside the partial data. */
  getMulti(keys: string[], cb?: (this: undefined, err: any, data: { [key: string]: any }) => void): void {
    const fleet = this.openFleet();
    (fleet instanceof Fleet ? fleet.track(getMultiCompat(fleet, this.state, this.compat, keys)) : Promise.reject(fleet.error)).then(({ errors, data }) => {
      if (typeof cb === 'function') process.nextTick(() => cb.call(undefined, errors.length > 0 ? errors : undefined, data));
    }, (err) => {
      if (typeof cb === 'function') process.nextTick(() => cb.call(undefined, [err], {}));
    });
  }

  set(key: string, value: any, lifetime: number, cb?: QueryCallback<boolean>): void {
    this.store('set', key, value, lifetime, cb);
  }

  replace(key: string, value: any, lifetime: number, cb?: QueryCallback<boolean>): void {
    this.store('replace', key, value, lifetime, cb);
  }

  add(key: string, value: any, lifetime: number, cb?: QueryCallback<boolean>): void {
    this.store('add', key, value, lifetime, cb);
  }

  cas(key: string, value: any, cas: string, lifetime: number, cb?: QueryCallback<boolean>): void {
    this.store('cas', key, value, lifetime, cb, cas);
  }

  append(key: string, value: any, cb?: QueryCallback<boolean>): void {
    this.store('append', key, value, 0, cb);
  }

  prepend(key: string, value: any, cb?: QueryCallback<boolean>): void {
    this.store('prepend', key, value, 0, cb);
  }

  incr(key: string, amount: number, cb?: QueryCallback<boolean | number>): void {
    this.arith('incr', key, amount, cb);
  }

  decr(key: string, amount: number, cb?: QueryCallback<boolean | number>): void {
    this.arith('decr', key, amount, cb);
  }

  increment(key: string, amount: number, cb?: QueryCallback<boolean | number>): void {
    this.arith('incr', key, amount, cb);
  }

  decrement(key: string, amount: number, cb?: QueryCallback<boolean | number>): void {
    this.arith('decr', key, amount, cb);
  }

  del(key: string, cb?: QueryCallback<boolean>): void {
    const q = this.query('delete', key, cb, V.key, { redundancyEnabled: true });
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      q.command = `delete ${k.wire}`;
      return statusOf(await fleet.core.send(at(k.full), encodeDelete(k.wire), 'delete'), { DELETED: true, NOT_FOUND: false });
    });
  }

  delete(key: string, cb?: QueryCallback<boolean>): void {
    this.del(key, cb);
  }

  version(cb?: (err: any, version: VersionData[]) => void): void { this.singles('version', cb); }
  flush(cb?: (this: undefined, err: any, results: boolean[]) => void): void { this.singles('flush_all', cb); }
  flushAll(cb?: (this: undefined, err: any, results: boolean[]) => void): void { this.singles('flush_all', cb); }
  stats(cb?: (err: any, stats: StatusData[]) => void): void { this.singles('stats', cb); }
  settings(cb?: (err: any, settings: StatusData[]) => void): void { this.singles('stats settings', cb); }
  statsSettings(cb?: (err: any, settings: StatusData[]) => void): void { this.singles('stats settings', cb); }
  slabs(cb?: (err: any, stats: StatusData[]) => void): void { this.singles('stats slabs', cb); }
  statsSlabs(cb?: (err: any, stats: StatusData[]) => void): void { this.singles('stats slabs', cb); }
  items(cb?: (err: any, stats: StatusData[]) => void): void { this.singles('stats items', cb); }
  statsItems(cb?: (err: any, stats: StatusData[]) => void): void { this.singles('stats items', cb); }

  /** `stats cachedump` on one server (`'host:port'`): no item -> undefined, one -> the item, several -> an array. */
  cachedump(server: string, slabid: number, number: number, cb?: (err: any, cachedump: CacheDumpData | CacheDumpData[]) => void): void {
    const q = { ...this.query('stats cachedump', undefined, cb, V.dump), slabid, number, command: `stats cachedump ${slabid} ${number}` };
    this.run(q, (_fleet, _at, ctx) => {
      if (typeof server === 'string' && /:\d+$/.test(server)) {
        ctx.server = server;
        this.state.connection(server);
        this.state.check(server);
      }
      return cachedump(server, slabid, number, this.compat.client.timeoutMs);
    });
  }

  /**
   * Closes every socket and timer; calls in flight still call back (each within `timeout`).
   * As in 2.2.2, a later call connects again; `connections` and `issues` are kept.
   */
  end(): void {
    const fleet = this.current;
    this.current = undefined;
    fleet?.close().catch(noop);
  }

  private get fleet(): Fleet {
    return (this.current ??= new Fleet(this.locations, this.compat, this.state.changes));
  }

  /** The fleet, or the error building it gave (a location it cannot use): calls get it through their callback. */
  private openFleet(): Fleet | { error: unknown } {
    try {
      return this.fleet;
    } catch (error) {
      return { error };
    }
  }

  private store(type: StoreCommand | 'cas', key: string, value: unknown, lifetime: unknown, cb: unknown, cas?: unknown): void {
    if (typeof lifetime === 'function' && cb === undefined) [cb, lifetime] = [lifetime, 0]; // set(key, value, cb)
    const q = this.query(type, key, cb, V.store, { lifetime: lifetime as number, value, cas: cas as string, redundancyEnabled: false });
    this.run(q, async (fleet, at) => {
      // 2.2.2's order: the value's size first (before anything about the key), then the arguments.
      let item: { data: Buffer; flags: number };
      try {
        item = legacySerializer.serialize(value);
      } catch (err) {
        throw new InvalidValueError(`cannot store the value for key ${String(key)}: ${(err as Error).message}`, { cause: err });
      }
      if (item.data.length > this.compat.maxValue) throw new InvalidValueError(TEXT.valueTooLarge(this.compat.maxValue));
      const k = compatKey(key, this.compat);
      const exptime = type === 'append' || type === 'prepend' ? 0 : compatExptime(lifetime, this.compat.maxExpiration);
      if (type === 'cas' && ((typeof cas !== 'string' && typeof cas !== 'number') || !/^\d{1,20}$/.test(String(cas)))) {
        throw new InvalidArgumentError(`Argument "cas" must be the token from gets(), got ${JSON.stringify(cas)}`);
      }
      const header = `${type} ${k.wire} ${item.flags} ${exptime} ${item.data.length}${type === 'cas' ? ` ${cas}` : ''}`;
      Object.defineProperty(q, 'command', { get: () => `${header}\r\n${item.data.toString('utf8')}`, enumerable: true, configurable: true });
      const bytes = type === 'cas'
        ? encodeCas(k.wire, item.flags, exptime, item.data, String(cas))
        : encodeStore(type, k.wire, item.flags, exptime, item.data);
      const node = at(k.full);
      const reply = await fleet.core.send(node, bytes, 'store');
      if (reply.kind === 'status' && reply.status === 'NOT_STORED') throw new NotStoredError({ server: node.server });
      return statusOf(reply, { STORED: true, EXISTS: false, NOT_FOUND: false });
    });
  }

  private arith(type: 'incr' | 'decr', key: string, amount: unknown, cb: unknown): void {
    if (typeof amount === 'function' && cb === undefined) [cb, amount] = [amount, 1]; // incr(key, cb)
    const q = this.query(type, key, cb, V.arith, { value: amount, redundancyEnabled: true });
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      if (typeof amount !== 'number') throw new InvalidArgumentError(TEXT.notA('value', 'Number'));
      // 2.2.2 sent these and memcached answered CLIENT_ERROR with this text; refused here before sending.
      // A whole number up to 2^64 goes as its exact decimal (over 2^53 too, as 2.2.2 sent it).
      if (!Number.isInteger(amount) || amount < 0 || amount >= 2 ** 64) throw new InvalidArgumentError(TEXT.badDelta);
      const delta = BigInt(amount).toString();
      q.command = `${type} ${k.wire} ${delta}`;
      const reply = await fleet.core.send(at(k.full), encodeArith(type, k.wire, delta), 'arith');
      if (reply.kind === 'number') return Number(reply.value);
      return statusOf(reply, { NOT_FOUND: false });
    });
  }

  private singles(type: SingleType, cb: ((err: any, data: any) => void) | undefined): void {
    const fleet = this.openFleet();
    if (!(fleet instanceof Fleet)) {
      if (typeof cb === 'function') process.nextTick(() => cb.call(undefined, fleet.error, []));
      return;
    }
    fleet.track(singlesCompat(fleet, this.state, type)).then(({ error, results }) => {
      if (typeof cb === 'function') process.nextTick(() => cb.call(undefined, error, results));
    }, noop);
  }

  /** 2.2.2's query object: `this` inside single-key callbacks. */
  private query(type: string, key: unknown, cb: unknown, validate: Validate, extra: Partial<CommandData> = {}): CommandData {
    const text = keyText(key);
    const full = text === undefined ? undefined : this.compat.namespace + text;
    const callback = typeof cb === 'function' ? (cb as CommandData['callback']) : noop;
    return { key: full, callback, validate, type, command: full === undefined ? type : `${type} ${full}`, start: 0, execution: 0, ...extra };
  }

  /**
   * Runs one request and calls back exactly once, on a later tick (never synchronously, never
   * twice): `(undefined, data)`, or `(err, data)` with the error in 2.2.2's words and the `data`
   * 2.2.2 gave beside it; `this` is the query object. `at(full)` routes the key and refuses, as
   * 2.2.2 did, a server its IssueLog has failed; a failure of the server itself is logged there.
   */
  private run(q: CommandData, work: (fleet: Fleet, at: (full: string) => ServerNode, ctx: { server?: string }) => Promise<unknown>): void {
    const ctx: { server?: string } = {};
    const at = (full: string): ServerNode => {
      const node = this.state.target(full);
      ctx.server = node.server;
      return node;
    };
    let p: Promise<unknown>;
    q.start = Date.now();
    const fleet = this.openFleet();
    if (!(fleet instanceof Fleet)) {
      p = Promise.reject(fleet.error);
    } else {
      try {
        p = traceCompat(q, fleet, (f) => work(f, at, ctx)); // a `memcluster:command` trace when anyone subscribes
      } catch (err) {
        p = Promise.reject(err);
      }
      fleet.track(p);
    }
    const done = (err: unknown, data: unknown) => {
      q.execution = Date.now() - q.start;
      process.nextTick(() => q.callback.call(q, err, data));
    };
    p.then((data) => done(undefined, data), (err) => done(this.state.failed(ctx.server, err), errorData(err)));
  }
}

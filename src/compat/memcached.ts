import { EventEmitter } from 'node:events';
import { serverIds, type Locations } from '../cluster/ring.js';
import { InvalidArgumentError, InvalidOptionError, InvalidValueError, ProtocolError } from '../errors.js';
import { encodeArith, encodeCas, encodeDelete, encodeGet, encodeStore, encodeTouch } from '../protocol/encoder.js';
import type { Reply, StoreCommand } from '../protocol/types.js';
import { verifyRetrieval } from '../client/batch.js';
import { traceCompat } from '../client/tracing.js';
import { Fleet } from './fleet.js';
import { legacySerializer } from './legacy-serializer.js';
import { cachedump, getMultiCompat, put, singlesCompat, type SingleType } from './multi.js';
import { compatExptime, compatKey, DEFAULT_CONFIG, resolveCompat, type CompatSettings } from './options.js';
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

/** 2.2.2's error for add/replace/append/prepend that did not store. */
function notStored(): Error {
  return Object.assign(new Error('Item is not stored'), { notStored: true });
}

/**
 * The `memcached` 2.2.2 API (callbacks, results, events, options) on memcluster's pools,
 * validation, health tracking and batching. See src/compat/README.md for every difference.
 */
export class MemcachedClient extends EventEmitter<CompatEvents> {
  /** Defaults read by every client at construction; change them to configure all clients. */
  static config: Config = { ...DEFAULT_CONFIG };

  /** The server locations, as given (2.2.2's `servers`). */
  readonly servers: string[];
  private readonly locations: Locations;
  private readonly compat: CompatSettings;
  private current: Fleet | undefined;

  constructor(location?: Location, options?: options) {
    super();
    this.locations = normalizeLocations(location);
    this.servers = serverIds(this.locations);
    this.compat = resolveCompat((this.constructor as typeof MemcachedClient).config ?? DEFAULT_CONFIG, options);
    this.current = this.openFleet();
  }

  touch(key: string, lifetime: number, cb?: QueryCallback<boolean>): void {
    const q = this.query('touch', key, cb, V.touch, { lifetime });
    this.run(q, false, async (fleet) => {
      const k = compatKey(key, this.compat);
      const exptime = compatExptime(lifetime, this.compat.maxExpiration);
      q.command = `touch ${k.wire} ${exptime}`;
      const reply = await fleet.core.send(fleet.nodeFor(k.full), encodeTouch(k.wire, exptime), 'touch');
      return status(reply, { TOUCHED: true, NOT_FOUND: false });
    });
  }

  get(key: string | string[], cb?: QueryCallback<any>): void {
    if (Array.isArray(key)) return this.getMulti(key, cb as never);
    const q = this.query('get', key, cb, V.key);
    this.run(q, undefined, async (fleet) => {
      const k = compatKey(key, this.compat);
      q.command = `get ${k.wire}`;
      return fleet.core.coalescedGet({ key: String(key), routed: k.wire, bytes: k.bytes }, fleet.nodeFor(k.full));
    });
  }

  /** The value and its cas token as `{ [key]: value, cas }` (keyed like 2.2.2: by namespace + key), or `undefined` on a miss. */
  gets(key: string, cb?: QueryCallback<{ [key: string]: any; cas: string }>): void {
    const q = this.query('gets', key, cb, V.key);
    this.run(q, undefined, async (fleet) => {
      const k = compatKey(key, this.compat);
      q.command = `gets ${k.wire}`;
      const node = fleet.nodeFor(k.full);
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
    const fleet = this.fleet;
    getMultiCompat(fleet, this.compat, keys).then(({ errors, data }) => {
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
    this.run(q, false, async (fleet) => {
      const k = compatKey(key, this.compat);
      q.command = `delete ${k.wire}`;
      return status(await fleet.core.send(fleet.nodeFor(k.full), encodeDelete(k.wire), 'delete'), { DELETED: true, NOT_FOUND: false });
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
    this.run(q, undefined, () => cachedump(server, slabid, number, this.compat.client.timeoutMs));
  }

  /**
   * Closes every socket and timer; calls in flight still call back (each within `timeout`).
   * As in 2.2.2, a later call connects again.
   */
  end(): void {
    const fleet = this.current;
    this.current = undefined;
    fleet?.close().catch(noop);
  }

  private get fleet(): Fleet {
    return (this.current ??= this.openFleet());
  }

  private openFleet(): Fleet {
    return new Fleet(this.locations, this.compat, (event, details) => (this.emit as (e: string, d: IssueData) => boolean)(event, details));
  }

  private store(type: StoreCommand | 'cas', key: string, value: unknown, lifetime: unknown, cb: unknown, cas?: unknown): void {
    if (typeof lifetime === 'function' && cb === undefined) [cb, lifetime] = [lifetime, 0]; // set(key, value, cb)
    const q = this.query(type, key, cb, V.store, { lifetime: lifetime as number, value, cas: cas as string, redundancyEnabled: false });
    this.run(q, false, async (fleet) => {
      const k = compatKey(key, this.compat);
      const exptime = type === 'append' || type === 'prepend' ? 0 : compatExptime(lifetime, this.compat.maxExpiration);
      if (type === 'cas' && ((typeof cas !== 'string' && typeof cas !== 'number') || !/^\d{1,20}$/.test(String(cas)))) {
        throw new InvalidArgumentError(`Argument "cas" must be the token from gets(), got ${JSON.stringify(cas)}`);
      }
      let item: { data: Buffer; flags: number };
      try {
        item = legacySerializer.serialize(value);
      } catch (err) {
        throw new InvalidValueError(`cannot store the value for key ${k.full}: ${(err as Error).message}`, { cause: err });
      }
      if (item.data.length > this.compat.maxValue) throw new InvalidValueError(`The length of the value is greater than ${this.compat.maxValue}`);
      const header = `${type} ${k.wire} ${item.flags} ${exptime} ${item.data.length}${type === 'cas' ? ` ${cas}` : ''}`;
      Object.defineProperty(q, 'command', { get: () => `${header}\r\n${item.data.toString('utf8')}`, enumerable: true, configurable: true });
      const bytes = type === 'cas'
        ? encodeCas(k.wire, item.flags, exptime, item.data, String(cas))
        : encodeStore(type, k.wire, item.flags, exptime, item.data);
      const reply = await fleet.core.send(fleet.nodeFor(k.full), bytes, 'store');
      if (reply.kind === 'status' && reply.status === 'NOT_STORED') throw notStored();
      return status(reply, { STORED: true, EXISTS: false, NOT_FOUND: false });
    });
  }

  private arith(type: 'incr' | 'decr', key: string, amount: unknown, cb: unknown): void {
    if (typeof amount === 'function' && cb === undefined) [cb, amount] = [amount, 1]; // incr(key, cb)
    const q = this.query(type, key, cb, V.arith, { value: amount, redundancyEnabled: true });
    this.run(q, false, async (fleet) => {
      const k = compatKey(key, this.compat);
      if (typeof amount !== 'number') throw new InvalidArgumentError('Argument "value" is not a valid Number.');
      if (!Number.isSafeInteger(amount) || amount < 0) throw new InvalidArgumentError(`${type} amount must be a whole number >= 0, got ${amount}`);
      q.command = `${type} ${k.wire} ${amount}`;
      const reply = await fleet.core.send(fleet.nodeFor(k.full), encodeArith(type, k.wire, String(amount)), 'arith');
      if (reply.kind === 'number') return Number(reply.value);
      return status(reply, { NOT_FOUND: false });
    });
  }

  private singles(type: SingleType, cb: ((err: any, data: any) => void) | undefined): void {
    singlesCompat(this.fleet, type).then(({ error, results }) => {
      if (typeof cb === 'function') process.nextTick(() => cb.call(undefined, error, results));
    }, noop);
  }

  /** 2.2.2's query object: `this` inside single-key callbacks. */
  private query(type: string, key: unknown, cb: unknown, validate: Validate, extra: Partial<CommandData> = {}): CommandData {
    const full = typeof key === 'string' || typeof key === 'number' || typeof key === 'bigint' ? this.compat.namespace + String(key) : undefined;
    const callback = typeof cb === 'function' ? (cb as CommandData['callback']) : noop;
    return { key: full, callback, validate, type, command: full === undefined ? type : `${type} ${full}`, start: 0, execution: 0, ...extra };
  }

  /**
   * Runs one request and calls back exactly once, on a later tick (never synchronously, never
   * twice): `(undefined, data)` or `(err, errData)`, with `this` = the query object.
   */
  private run(q: CommandData, errData: unknown, work: (fleet: Fleet) => Promise<unknown>): void {
    let p: Promise<unknown>;
    q.start = Date.now();
    try {
      p = traceCompat(q, this.fleet, work); // a `memcluster:command` trace when anyone subscribes
    } catch (err) {
      p = Promise.reject(err);
    }
    const done = (err: unknown, data: unknown) => {
      q.execution = Date.now() - q.start;
      process.nextTick(() => q.callback.call(q, err, data));
    };
    p.then((data) => done(undefined, data), (err) => done(err, errData));
  }
}

function status(reply: Reply, table: Record<string, boolean>): boolean {
  if (reply.kind === 'status' && reply.status in table) return table[reply.status]!;
  throw new ProtocolError(`unexpected reply: ${reply.kind === 'status' ? reply.status : reply.kind}`);
}

/** 2.2.2's location handling: an empty array or nothing means `localhost:11211`. */
function normalizeLocations(location: unknown): Locations {
  if (Array.isArray(location)) return location.length > 0 ? [...(location as string[])] : ['localhost:11211'];
  if (location !== null && typeof location === 'object') return { ...(location as Record<string, number>) };
  if (location === undefined || location === null || location === '') return 'localhost:11211';
  if (typeof location !== 'string') throw new InvalidOptionError(`location must be a string, an array of strings or { 'host:port': weight }, got ${typeof location}`);
  return location;
}

import { createHash, randomBytes } from 'node:crypto';
import createDebug from 'debug';
import { EventEmitter } from 'node:events';
import { Client } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import type { Locations } from '../cluster/ring.js';
import { InvalidOptionError } from '../errors.js';
import { MAX_RELATIVE_TTL } from '../client/ttl.js';
import { MAX_KEY_BYTES, validateKey } from '../protocol/keys.js';


const log = createDebug('memcluster:keyv');
/** Options of `KeyvMemcluster` beyond the client's. */
export interface KeyvMemclusterOptions {
  /**
   * What `clear()` does:
   * - `'namespace'` (default): clears this store's Keyv namespace only, at once and on every
   *   process, by moving the namespace to a new generation (one small item per namespace, read
   *   alongside each call). Old items become unreachable and age out under memcached's LRU.
   * - `'flush'`: `flush_all` on every server: every namespace, and every other user of those
   *   servers. Calls then read no generation.
   * @default 'namespace'
   */
  clear?: 'namespace' | 'flush';
}

/** Keys longer than this (UTF-8 bytes), or not valid memcached keys, are stored under their SHA-256. */
const MAX_PLAIN_KEY_BYTES = 180;
/** A generation (at most 16 letters and digits, see `newGeneration`) and its `:`. */
const GENERATION_BYTES = 17;
/** `#<sha256 hex>`. */
const HASHED_KEY_BYTES = 65;
/** Items that hold a namespace's generation: `keyv-generation:<namespace>`; data keys start with a generation (letters and digits, then `:`), or are used only with `clear: 'flush'`. */
const GENERATION_PREFIX = 'keyv-generation:';

/**
 * A Keyv 5 store on memcluster: `new Keyv({ store: new KeyvMemcluster(['10.0.0.1:11211']) })`, or
 * `new KeyvMemcluster(existingClient)` to share a client (which `disconnect()` then leaves open).
 *
 * - TTLs arrive in milliseconds and are rounded up to whole seconds (memcached's unit), so an item
 *   never expires early; Keyv also checks the exact expiry it stores with the value.
 * - `getMany` is one `getMulti` (batched per server); `setMany` one `setMulti` per distinct TTL;
 *   `deleteMany` one `deleteMulti`.
 * - `clear()`: see {@link KeyvMemclusterOptions.clear}.
 * - Keys that are not valid memcached keys (spaces, control characters) or over 180 bytes (less
 *   when the client's key prefix is over 53 bytes) are stored under `#<sha256>`: any string works
 *   as a Keyv key. A client prefix over 168 bytes leaves no room: the constructor refuses it.
 * - A TTL that reaches past January 2038 (memcached's exptime cannot hold it) is stored without
 *   expiry; Keyv's own expiry check still applies.
 * - No `iterator()`: memcached cannot list keys.
 */
export class KeyvMemcluster extends EventEmitter {
  /** Set by Keyv to its namespace; it scopes `clear()`. */
  namespace: string | undefined;
  /** What this store was built with (Keyv reads and may annotate it). */
  readonly opts: Record<string, unknown>;
  /** The client this store talks through. */
  readonly client: Client;
  private readonly ownsClient: boolean;
  private readonly clearMode: 'namespace' | 'flush';
  /** Last generation seen per namespace, so a call reads the generation alongside its own request. */
  private readonly generations = new Map<string, string>();
  /** The longest key stored as it is: 180 bytes, less when the client's key prefix leaves less room. */
  private readonly maxPlain: number;

  constructor(client: Client, options?: KeyvMemclusterOptions);
  constructor(servers: Locations, options?: ClientOptions & KeyvMemclusterOptions);
  constructor(target: Client | Locations, options: ClientOptions & KeyvMemclusterOptions = {}) {
    super();
    const { clear = 'namespace', ...clientOptions } = options;
    if (clear !== 'namespace' && clear !== 'flush') throw new InvalidOptionError(`option clear must be 'namespace' or 'flush', got ${JSON.stringify(clear)}`);
    this.clearMode = clear;
    if (target instanceof Client) {
      if (Object.keys(clientOptions).length > 0) throw new InvalidOptionError('client options go to the Client itself when an existing Client is passed');
      this.client = target;
      this.ownsClient = false;
    } else {
      this.client = new Client(target, clientOptions);
      this.ownsClient = true;
    }
    this.opts = { dialect: 'memcache', clear };
    // Every stored key is the client's prefix, a generation and the key (or its hash): all must fit.
    const room = MAX_KEY_BYTES - Buffer.byteLength(this.client.keyPrefix) - GENERATION_BYTES;
    if (room < HASHED_KEY_BYTES) {
      throw new InvalidOptionError(`the client's keyPrefix leaves ${room} bytes for Keyv keys; at most ${MAX_KEY_BYTES - GENERATION_BYTES - HASHED_KEY_BYTES} bytes of prefix fit`);
    }
    this.maxPlain = Math.min(MAX_PLAIN_KEY_BYTES, room);
  }

  /** What Keyv stored (its serialized string, by default), or `undefined` on a miss. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    return this.inGeneration((gen) => this.client.get<T>(this.wire(gen, key)));
  }

  /** One `getMulti`: values in the order of `keys`, `undefined` for misses. */
  async getMany<T = unknown>(keys: string[]): Promise<Array<T | undefined>> {
    return this.inGeneration(async (gen) => {
      const wire = keys.map((k) => this.wire(gen, k));
      const found = await this.client.getMulti<T>(wire);
      return wire.map((k) => found.get(k));
    });
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const seconds = toSeconds(ttl);
    return this.inGeneration((gen) => this.client.set(this.wire(gen, key), value, { ttl: seconds }));
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const byTtl = new Map<number, Array<[string, unknown]>>();
    await this.inGeneration(async (gen) => {
      byTtl.clear();
      for (const e of entries) {
        const s = toSeconds(e.ttl);
        let group = byTtl.get(s);
        if (!group) byTtl.set(s, (group = []));
        group.push([this.wire(gen, e.key), e.value]);
      }
      await Promise.all([...byTtl].map(([ttl, group]) => this.client.setMulti(group, { ttl })));
    });
  }

  async delete(key: string): Promise<boolean> {
    return this.inGeneration((gen) => this.client.delete(this.wire(gen, key)));
  }

  /** `true` only when every key existed and was deleted. */
  async deleteMany(keys: string[]): Promise<boolean> {
    return this.inGeneration(async (gen) => {
      const results = await this.client.deleteMulti(keys.map((k) => this.wire(gen, k)));
      return [...results.values()].every(Boolean) && results.size > 0;
    });
  }

  /** See {@link KeyvMemclusterOptions.clear}. */
  async clear(): Promise<void> {
    if (this.clearMode === 'flush') {
      await this.client.flush();
      return;
    }
    const gen = newGeneration();
    await this.client.set(this.generationKey(), gen);
    this.generations.set(this.namespace ?? '', gen);
  }

  /** Closes the client if this store created it; a client passed in stays open. */
  async disconnect(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  /** `gen:key`, or `gen:#<sha256>` for a key memcached cannot take as it is. */
  private wire(gen: string, key: string): string {
    return gen ? `${gen}:${plainOrHashed(key, this.maxPlain)}` : plainOrHashed(key, this.maxPlain);
  }

  /** The item holding the namespace's generation (data keys never start with `keyv-generation:`, see `newGeneration`). */
  private generationKey(): string {
    return `${GENERATION_PREFIX}${plainOrHashed(this.namespace ?? '', this.maxPlain)}`;
  }

  /**
   * Runs `op` in the namespace's current generation. The generation is read alongside `op` (one
   * round trip, not two); if it moved since the last call (a `clear()` here or elsewhere), `op`
   * runs again in the new one. With `clear: 'flush'` there is no generation.
   */
  private async inGeneration<R>(op: (gen: string) => Promise<R>): Promise<R> {
    if (this.clearMode === 'flush') return op('');
    const ns = this.namespace ?? '';
    const known = this.generations.get(ns);
    if (known === undefined) {
      const gen = await this.readGeneration();
      return op(gen);
    }
    // The generation item lives on one server: while that server fails, the others keep serving
    // in the last generation this process saw (a clear() made elsewhere meanwhile is seen once it is
    // back). Only the key's own call can fail the key.
    const generation = this.readGeneration().catch((err: unknown) => {
      log('namespace %s: generation unreadable (%s), using the last one seen', ns, (err as { code?: string }).code ?? String(err));
      return known;
    });
    const [current, result] = await Promise.all([generation, op(known)]);
    if (current === known) return result;
    return op(current);
  }

  /** The namespace's generation, created (with `add`, so concurrent creators agree) when absent or evicted. */
  private async readGeneration(): Promise<string> {
    const key = this.generationKey();
    const ns = this.namespace ?? '';
    let gen = await this.client.get<string>(key);
    if (typeof gen !== 'string') {
      const fresh = newGeneration();
      gen = (await this.client.add(key, fresh)) ? fresh : await this.client.get<string>(key);
      if (typeof gen !== 'string') gen = fresh; // evicted again at once: any new generation is safe
    }
    this.generations.set(ns, gen);
    return gen;
  }
}

/** The key as it is when memcached can take it (with room for a generation and a client key prefix), else `#<sha256>`. */
function plainOrHashed(key: string, maxPlain: number): string {
  try {
    if (!key.startsWith('#') && validateKey(key) <= maxPlain) return key;
  } catch {
    // spaces, control characters, lone surrogates, empty: hashed below
  }
  return `#${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * A generation never used before, even if the item holding the last one was evicted: time plus
 * randomness (base 36, letters and digits only).
 */
function newGeneration(): string {
  return `${Date.now().toString(36)}${randomBytes(4).readUInt32BE().toString(36)}`;
}

/**
 * Keyv's TTL (ms; undefined or 0 = none) as memcached seconds, rounded up so nothing expires early.
 * A TTL reaching past what memcached's exptime can hold (January 2038) is stored without expiry:
 * Keyv keeps the exact expiry with the value and checks it on read.
 */
export function toSeconds(ttl: number | undefined, nowMs = Date.now()): number {
  if (ttl === undefined || ttl === null || ttl === 0) return 0;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) throw new InvalidOptionError(`ttl must be a number of milliseconds >= 0, got ${String(ttl)}`);
  const seconds = Math.ceil(ttl / 1000);
  return seconds > MAX_RELATIVE_TTL && Math.floor(nowMs / 1000) + seconds > MAX_EXPTIME ? 0 : seconds;
}

/** The largest exptime memcached can hold (a signed 32-bit unix time). */
const MAX_EXPTIME = 0x7fffffff;

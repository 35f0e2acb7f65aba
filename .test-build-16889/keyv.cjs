"use strict";Object.defineProperty(exports, "__esModule", {value: true}); function _interopRequireDefault(obj) { return obj && obj.__esModule ? obj : { default: obj }; }

var _chunk7D2N547Mcjs = require('./chunk-7D2N547M.cjs');





var _chunkQQCFO3ILcjs = require('./chunk-QQCFO3IL.cjs');
require('./chunk-NYUFQ7A3.cjs');

// src/keyv/store.ts
var _crypto = require('crypto');
var _debug = require('debug'); var _debug2 = _interopRequireDefault(_debug);
var _events = require('events');
var log = _debug2.default.call(void 0, "memcluster:keyv");
var MAX_PLAIN_KEY_BYTES = 180;
var GENERATION_BYTES = 17;
var HASHED_KEY_BYTES = 65;
var GENERATION_PREFIX = "keyv-generation:";
var KeyvMemcluster = class extends _events.EventEmitter {
  /** Set by Keyv to its namespace; it scopes `clear()`. */
  namespace;
  /** What this store was built with (Keyv reads and may annotate it). */
  opts;
  /** The client this store talks through. */
  client;
  ownsClient;
  clearMode;
  /** Last generation seen per namespace, so a call reads the generation alongside its own request. */
  generations = /* @__PURE__ */ new Map();
  /** The longest key stored as it is: 180 bytes, less when the client's key prefix leaves less room. */
  maxPlain;
  constructor(target, options = {}) {
    super();
    const { clear = "namespace", ...clientOptions } = options;
    if (clear !== "namespace" && clear !== "flush") throw new (0, _chunkQQCFO3ILcjs.InvalidOptionError)(`option clear must be 'namespace' or 'flush', got ${JSON.stringify(clear)}`);
    this.clearMode = clear;
    if (target instanceof _chunk7D2N547Mcjs.Client) {
      if (Object.keys(clientOptions).length > 0) throw new (0, _chunkQQCFO3ILcjs.InvalidOptionError)("client options go to the Client itself when an existing Client is passed");
      this.client = target;
      this.ownsClient = false;
    } else {
      this.client = new (0, _chunk7D2N547Mcjs.Client)(target, clientOptions);
      this.ownsClient = true;
    }
    this.opts = { dialect: "memcache", clear };
    const room = _chunkQQCFO3ILcjs.MAX_KEY_BYTES - Buffer.byteLength(this.client.keyPrefix) - GENERATION_BYTES;
    if (room < HASHED_KEY_BYTES) {
      throw new (0, _chunkQQCFO3ILcjs.InvalidOptionError)(`the client's keyPrefix leaves ${room} bytes for Keyv keys; at most ${_chunkQQCFO3ILcjs.MAX_KEY_BYTES - GENERATION_BYTES - HASHED_KEY_BYTES} bytes of prefix fit`);
    }
    this.maxPlain = Math.min(MAX_PLAIN_KEY_BYTES, room);
  }
  /** What Keyv stored (its serialized string, by default), or `undefined` on a miss. */
  async get(key) {
    return this.inGeneration((gen) => this.client.get(this.wire(gen, key)));
  }
  /** One `getMulti`: values in the order of `keys`, `undefined` for misses. */
  async getMany(keys) {
    return this.inGeneration(async (gen) => {
      const wire = keys.map((k) => this.wire(gen, k));
      const found = await this.client.getMulti(wire);
      return wire.map((k) => found.get(k));
    });
  }
  async set(key, value, ttl) {
    const seconds = toSeconds(ttl);
    return this.inGeneration((gen) => this.client.set(this.wire(gen, key), value, { ttl: seconds }));
  }
  async setMany(entries) {
    const byTtl = /* @__PURE__ */ new Map();
    await this.inGeneration(async (gen) => {
      byTtl.clear();
      for (const e of entries) {
        const s = toSeconds(e.ttl);
        let group = byTtl.get(s);
        if (!group) byTtl.set(s, group = []);
        group.push([this.wire(gen, e.key), e.value]);
      }
      await Promise.all([...byTtl].map(([ttl, group]) => this.client.setMulti(group, { ttl })));
    });
  }
  async delete(key) {
    return this.inGeneration((gen) => this.client.delete(this.wire(gen, key)));
  }
  /** `true` only when every key existed and was deleted. */
  async deleteMany(keys) {
    return this.inGeneration(async (gen) => {
      const results = await this.client.deleteMulti(keys.map((k) => this.wire(gen, k)));
      return [...results.values()].every(Boolean) && results.size > 0;
    });
  }
  /** See {@link KeyvMemclusterOptions.clear}. */
  async clear() {
    if (this.clearMode === "flush") {
      await this.client.flush();
      return;
    }
    const gen = newGeneration();
    await this.client.set(this.generationKey(), gen);
    this.generations.set(this.namespace ?? "", gen);
  }
  /** Closes the client if this store created it; a client passed in stays open. */
  async disconnect() {
    if (this.ownsClient) await this.client.close();
  }
  /** `gen:key`, or `gen:#<sha256>` for a key memcached cannot take as it is. */
  wire(gen, key) {
    return gen ? `${gen}:${plainOrHashed(key, this.maxPlain)}` : plainOrHashed(key, this.maxPlain);
  }
  /** The item holding the namespace's generation (data keys never start with `keyv-generation:`, see `newGeneration`). */
  generationKey() {
    return `${GENERATION_PREFIX}${plainOrHashed(this.namespace ?? "", this.maxPlain)}`;
  }
  /**
   * Runs `op` in the namespace's current generation. The generation is read alongside `op` (one
   * round trip, not two); if it moved since the last call (a `clear()` here or elsewhere), `op`
   * runs again in the new one. With `clear: 'flush'` there is no generation.
   */
  async inGeneration(op) {
    if (this.clearMode === "flush") return op("");
    const ns = this.namespace ?? "";
    const known = this.generations.get(ns);
    if (known === void 0) {
      const gen = await this.readGeneration();
      return op(gen);
    }
    const generation = this.readGeneration().catch((err) => {
      log("namespace %s: generation unreadable (%s), using the last one seen", ns, err.code ?? String(err));
      return known;
    });
    const [current, result] = await Promise.all([generation, op(known)]);
    if (current === known) return result;
    return op(current);
  }
  /** The namespace's generation, created (with `add`, so concurrent creators agree) when absent or evicted. */
  async readGeneration() {
    const key = this.generationKey();
    const ns = this.namespace ?? "";
    let gen = await this.client.get(key);
    if (typeof gen !== "string") {
      const fresh = newGeneration();
      gen = await this.client.add(key, fresh) ? fresh : await this.client.get(key);
      if (typeof gen !== "string") gen = fresh;
    }
    this.generations.set(ns, gen);
    return gen;
  }
};
function plainOrHashed(key, maxPlain) {
  try {
    if (!key.startsWith("#") && _chunkQQCFO3ILcjs.validateKey.call(void 0, key) <= maxPlain) return key;
  } catch {
  }
  return `#${_crypto.createHash.call(void 0, "sha256").update(key).digest("hex")}`;
}
function newGeneration() {
  return `${Date.now().toString(36)}${_crypto.randomBytes.call(void 0, 4).readUInt32BE().toString(36)}`;
}
function toSeconds(ttl, nowMs = Date.now()) {
  if (ttl === void 0 || ttl === null || ttl === 0) return 0;
  if (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl < 0) throw new (0, _chunkQQCFO3ILcjs.InvalidOptionError)(`ttl must be a number of milliseconds >= 0, got ${String(ttl)}`);
  const seconds = Math.ceil(ttl / 1e3);
  return seconds > _chunkQQCFO3ILcjs.MAX_RELATIVE_TTL && Math.floor(nowMs / 1e3) + seconds > MAX_EXPTIME ? 0 : seconds;
}
var MAX_EXPTIME = 2147483647;



exports.KeyvMemcluster = KeyvMemcluster; exports.toSeconds = toSeconds;

//# sourceMappingURL=keyv.cjs.map

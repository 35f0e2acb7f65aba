"use strict";Object.defineProperty(exports, "__esModule", {value: true}); function _interopRequireDefault(obj) { return obj && obj.__esModule ? obj : { default: obj }; }

var _chunkGTFQDHZScjs = require('./chunk-GTFQDHZS.cjs');










































var _chunkQQCFO3ILcjs = require('./chunk-QQCFO3IL.cjs');
require('./chunk-NYUFQ7A3.cjs');

// src/compat/memcached.ts
var _events = require('events');

// src/compat/errors.ts
var TEXT = {
  whitespace: "The key should not contain any whitespace or new lines",
  keyTooLong: (max, name = "key") => `Argument "${name}" is longer than the maximum allowed length of ${max}`,
  notA: (name, type) => `Argument "${name}" is not a valid ${type}.`,
  valueTooLarge: (max) => `The length of the value is greater than ${max}`,
  notStored: "Item is not stored",
  notAvailable: (server) => `Server at ${server} not available`,
  connectTimeout: "Timed out while trying to establish connection",
  errorReply: "Received an ERROR response",
  overQueue: "over queue limit",
  /** memcached's own CLIENT_ERROR text for a negative or fractional incr/decr amount (2.2.2 sent it). */
  badDelta: "invalid numeric delta argument"
};
function systemCause(err) {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (!(e instanceof _chunkQQCFO3ILcjs.MemclusterError) && typeof e.syscall === "string") return e;
  }
  return void 0;
}
function connectTimedOut(err) {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof _chunkQQCFO3ILcjs.ConnectTimeoutError) return true;
    if (e instanceof _chunkQQCFO3ILcjs.ValidationFailedError && /in time|timed out|timeout/i.test(e.message)) return true;
  }
  return false;
}
function legacyText(err, server) {
  if (err instanceof _chunkQQCFO3ILcjs.ServerUnavailableError || err instanceof _chunkQQCFO3ILcjs.NoServersError) return TEXT.notAvailable(server ?? err.server);
  if (err instanceof _chunkQQCFO3ILcjs.PoolFullError) return TEXT.overQueue;
  if (err instanceof _chunkQQCFO3ILcjs.ClientErrorReply) {
    const m = /^CLIENT_ERROR (.*)$/s.exec(err.detail);
    return m ? m[1] : TEXT.errorReply;
  }
  if (err instanceof _chunkQQCFO3ILcjs.ConnectionError || err instanceof _chunkQQCFO3ILcjs.TimeoutError || err instanceof _chunkQQCFO3ILcjs.ConnectTimeoutError || err instanceof _chunkQQCFO3ILcjs.ValidationFailedError) {
    const sys = systemCause(err);
    if (sys) return sys.message;
    if (connectTimedOut(err)) return TEXT.connectTimeout;
  }
  return void 0;
}
function shapeError(err, server) {
  if (!(err instanceof _chunkQQCFO3ILcjs.MemclusterError)) return err;
  const e = err;
  if (Object.prototype.hasOwnProperty.call(e, "memclusterMessage")) return e;
  const text = legacyText(e, server);
  const original = e.message;
  if (text !== void 0 && text !== original) {
    e.message = text;
  }
  Object.defineProperty(e, "memclusterMessage", { value: original, enumerable: true, writable: true, configurable: true });
  const sys = systemCause(e);
  if (sys && text === sys.message) {
    for (const k of ["errno", "syscall", "address", "port"]) {
      if (sys[k] !== void 0) e[k] = sys[k];
    }
  }
  const oldHead = `${e.name}: ${original}`;
  e.name = "Error";
  if (typeof e.stack === "string" && e.stack.startsWith(oldHead)) e.stack = `Error: ${e.message}${e.stack.slice(oldHead.length)}`;
  return e;
}
var NotStoredError = class extends _chunkQQCFO3ILcjs.MemclusterError {
  notStored = true;
  constructor(opts = {}) {
    super("MC_ERR_NOT_STORED", TEXT.notStored, opts);
    this.message = TEXT.notStored;
  }
};
function errorData(err) {
  if (err instanceof _chunkQQCFO3ILcjs.InvalidValueError || err instanceof NotStoredError || err instanceof _chunkQQCFO3ILcjs.ClientErrorReply || err instanceof _chunkQQCFO3ILcjs.ServerErrorReply || err instanceof _chunkQQCFO3ILcjs.ProtocolError) return false;
  if (err instanceof _chunkQQCFO3ILcjs.InvalidArgumentError && err.message === TEXT.badDelta) return false;
  if (err instanceof _chunkQQCFO3ILcjs.InvalidKeyError || err instanceof _chunkQQCFO3ILcjs.InvalidArgumentError) return void 0;
  return void 0;
}
function isServerFailure(err) {
  return err instanceof _chunkQQCFO3ILcjs.ConnectionError || err instanceof _chunkQQCFO3ILcjs.ConnectTimeoutError || err instanceof _chunkQQCFO3ILcjs.TimeoutError && err.stalled || err instanceof _chunkQQCFO3ILcjs.ValidationFailedError;
}

// src/compat/fleet.ts
var Fleet = class {
  constructor(locations, settings, changes) {
    this.settings = settings;
    this.cluster = new (0, _chunkQQCFO3ILcjs.Cluster)(locations, settings.client, {
      onFailure: (server, reason) => this.failed(server, reason),
      onDown: () => {
      },
      onUp: () => {
      },
      onEvicted: () => {
      }
    }, true);
    for (const c of changes) this.apply(c);
    this.core = new (0, _chunkQQCFO3ILcjs.ClientCore)(settings.client, this.cluster);
  }
  settings;
  core;
  cluster;
  closed = false;
  waiters = /* @__PURE__ */ new Map();
  guards = /* @__PURE__ */ new WeakMap();
  /**
   * The server for a routed (`namespace + key`) key, as a node whose requests are subject to
   * `retries` (pass it to `core.send`, `coalescedGet` or a `BatchWriter`).
   */
  nodeFor(full) {
    return this.guarded(this.cluster.nodeFor(full));
  }
  all() {
    return this.cluster.all().map((n) => this.guarded(n));
  }
  /** Applies a ring change now (the retired server's sockets close in the background). */
  apply(change) {
    const done = change.op === "remove" ? this.cluster.remove(change.id) : this.cluster.swap(change.from, change.to);
    done.catch(() => {
    });
  }
  /** Calls made on this fleet that have not settled yet. */
  calls = 0;
  onIdle;
  /** Counts a call until it settles, so `end()` can let it finish. */
  track(p) {
    this.calls++;
    const settled = () => {
      if (--this.calls === 0) this.onIdle?.();
    };
    p.then(settled, settled);
    return p;
  }
  /**
   * Closes every socket and timer once the calls already made have settled (each within its
   * timeout): 2.2.2's `end()` dropped their replies, so their callbacks never ran. New calls go to
   * a fresh fleet meanwhile.
   */
  close() {
    this.closed = true;
    const shut = () => {
      this.core.closed = true;
      return this.cluster.close();
    };
    if (this.calls === 0) return shut();
    return new Promise((resolve) => {
      this.onIdle = () => resolve(shut());
    });
  }
  /**
   * The node with its `submit` wrapped: the job settles at most once, either by memcluster or,
   * when connects keep failing while nothing of this server is in flight, by `failed`.
   * Everything else is the node itself (it is the prototype).
   */
  guarded(node) {
    let g = this.guards.get(node);
    if (g) return g;
    const waiters = this.waitersOf(node.server);
    g = Object.create(node);
    g.submit = (job) => {
      let settled = false;
      let written;
      const own = {
        aborted: false,
        reason: void 0,
        track: (handle) => {
          written = handle;
        },
        queuedOn: () => {
        }
      };
      const waiter = {
        seen: 0,
        last: void 0,
        fail: (err) => {
          if (!job.cancel && !settled) {
            own.aborted = true;
            own.reason = err;
            node.purge(own);
            written?.abandon(err);
          }
          finish(() => job.reject(err));
        }
      };
      const finish = (settle) => {
        if (settled) return;
        settled = true;
        waiters.delete(waiter);
        settle();
      };
      waiters.add(waiter);
      node.submit({
        ...job,
        cancel: job.cancel ?? own,
        resolve: (reply) => finish(() => job.resolve(reply)),
        // A request that timed out waiting for a socket while connects failed failed for that
        // reason (2.2.2 called back with the last connect error once its retries ran out).
        reject: (err) => finish(() => job.reject(err instanceof _chunkQQCFO3ILcjs.TimeoutError && waiter.last ? waiter.last : err))
      });
    };
    this.guards.set(node, g);
    return g;
  }
  waitersOf(server) {
    let set = this.waiters.get(server);
    if (!set) {
      set = /* @__PURE__ */ new Set();
      this.waiters.set(server, set);
    }
    return set;
  }
  /** memcluster counted a failure against `server` (a connect, validation or socket failure). */
  failed(server, reason) {
    const waiters = this.waiters.get(server);
    if (!waiters || waiters.size === 0) return;
    const node = this.cluster.all().find((n) => n.server === server);
    if (node && node.stats().inFlight > 0) return;
    for (const w of [...waiters]) {
      w.last = reason;
      if (++w.seen > this.settings.retries) w.fail(reason);
    }
  }
};

// src/compat/multi.ts
var _net = require('net'); var _net2 = _interopRequireDefault(_net);

// src/compat/options.ts
var _crypto = require('crypto'); var _crypto2 = _interopRequireDefault(_crypto);
var DEFAULT_CONFIG = {
  maxKeySize: 250,
  maxExpiration: 2592e3,
  maxValue: 1048576,
  activeQueries: 0,
  maxQueueSize: -1,
  algorithm: "md5",
  compatibility: "ketama",
  poolSize: 10,
  retries: 5,
  factor: 3,
  minTimeout: 1e3,
  maxTimeout: 6e4,
  randomize: false,
  reconnect: 18e6,
  timeout: 5e3,
  failures: 5,
  failuresTimeout: 3e5,
  retry: 3e4,
  idle: 5e3,
  remove: false,
  redundancy: false,
  keyCompression: true,
  namespace: "",
  debug: false
};
var MAX_RECONNECT_MS = 6e4;
var MAX_MS = 2 ** 31 - 1;
function mergeConfig(config, options) {
  const given = options !== null && typeof options === "object" ? options : {};
  const o = { ...DEFAULT_CONFIG };
  for (const src of [config ?? {}, given]) {
    for (const [k, v] of Object.entries(src)) if (v !== void 0) o[k] = v;
  }
  return o;
}
function resolveCompat(o) {
  const timeout = typeof o.timeout === "number" && o.timeout > 0 ? num(o.timeout, 1, MAX_MS) : 5e3;
  const reconnect = num(o.reconnect, 1, MAX_MS) ?? DEFAULT_CONFIG.reconnect;
  const maxValue = num(o.maxValue, 0, 2 ** 31 - 1) ?? 1048576;
  const failOver = o.failOverServers;
  const maxQueueSize = typeof o.maxQueueSize === "number" && o.maxQueueSize > 0 ? num(o.maxQueueSize, 1, 2 ** 30) : void 0;
  const poolSize = num(Number(o.poolSize) || 20, 1, 1e4);
  const failuresRaw = typeof o.failures === "number" ? o.failures : Number(o.failures);
  const failures = Number.isNaN(failuresRaw) ? 5 : failuresRaw;
  const retries = num(o.retries, 0, 1e3);
  return {
    namespace: o.namespace === null || o.namespace === void 0 ? "" : String(o.namespace),
    maxKeySize: num(o.maxKeySize, 1, MAX_MS) ?? 250,
    keyCompression: Boolean(o.keyCompression),
    maxExpiration: num(o.maxExpiration, 0, MAX_MS) ?? 2592e3,
    maxValue,
    remove: Boolean(o.remove),
    failOverServers: typeof failOver === "string" ? [failOver] : Array.isArray(failOver) ? failOver.filter((s) => typeof s === "string") : [],
    failures,
    retry: num(o.retry, 0, MAX_MS) ?? 3e4,
    reconnect,
    failuresTimeout: num(o.failuresTimeout, 0, MAX_MS) ?? 3e5,
    retries: retries === void 0 ? 5 : Math.floor(retries),
    client: _chunkQQCFO3ILcjs.resolveOptions.call(void 0, {
      timeoutMs: timeout,
      connectTimeoutMs: timeout,
      // 2.2.2's timeout bounded the whole connect: a server slower than 250 ms to answer the new
      // socket's first request is not a failed server. A tenth is left so that a socket that never
      // answers fails its validation (a failure of the server) before the call's own deadline.
      validateTimeoutMs: Math.max(1, Math.floor(timeout * 0.9)),
      maxConnections: poolSize,
      idleTimeoutMs: num(o.idle, 0, MAX_MS) ?? 5e3,
      // The compat layer decides when a server is dead (2.2.2's IssueLog, src/compat/issues.ts);
      // memcluster's own count must never take a server out behind its back.
      failureThreshold: 1e6,
      retryDelayMs: Math.min(reconnect, MAX_RECONNECT_MS),
      maxRetryDelayMs: Math.min(reconnect, MAX_RECONNECT_MS),
      maxQueue: maxQueueSize ?? _chunkQQCFO3ILcjs.DEFAULTS.maxQueue,
      // Reads accept items as large as a server can hold (`-I` goes up to 1 GiB), as 2.2.2 read
      // any size: maxValue caps only our writes, and `store` checks it itself.
      maxValueBytes: MAX_ITEM_BYTES,
      serializer: _chunkGTFQDHZScjs.legacySerializer,
      failover: false,
      coalesce: true
    })
  };
}
var MAX_ITEM_BYTES = 1 << 30;
function num(v, min, max) {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (!Number.isFinite(n)) return void 0;
  return Math.min(max, Math.max(min, Math.ceil(n)));
}
var RELATIVE_LIMIT = 2592e3;
function compatKey(key, o, index) {
  const text = keyText(key);
  if (text === void 0) throw new (0, _chunkQQCFO3ILcjs.InvalidKeyError)(TEXT.notA("key", "String"), String(typeof key));
  const full = o.namespace + text;
  let wire = full;
  if (full.length > o.maxKeySize || full.length > _chunkQQCFO3ILcjs.MAX_KEY_BYTES / 3 && Buffer.byteLength(full) > _chunkQQCFO3ILcjs.MAX_KEY_BYTES) {
    if (!o.keyCompression) {
      throw new (0, _chunkQQCFO3ILcjs.InvalidKeyError)(TEXT.keyTooLong(o.maxKeySize, index === void 0 ? "key" : String(index)), full);
    }
    wire = _crypto2.default.createHash("md5").update(full).digest("hex");
  } else if (/\s/.test(full)) {
    throw new (0, _chunkQQCFO3ILcjs.InvalidKeyError)(TEXT.whitespace, full);
  }
  return { key, full, wire, bytes: wireKeyBytes(wire) };
}
function keyText(key) {
  if (typeof key === "string") return key;
  if (typeof key === "number" || typeof key === "bigint" || typeof key === "boolean") return String(key);
  if (Buffer.isBuffer(key)) return key.toString("utf8");
  return void 0;
}
function wireKeyBytes(wire) {
  if (!CONTROL.test(wire)) return _chunkQQCFO3ILcjs.validateKey.call(void 0, wire);
  if (wire.includes("\0")) throw new (0, _chunkQQCFO3ILcjs.InvalidKeyError)("key contains a NUL byte (memcached would end the command line there)", wire);
  return _chunkQQCFO3ILcjs.validateKey.call(void 0, wire.replace(CONTROL_ALL, "_"));
}
var CONTROL = /[\x00-\x1f\x7f]/;
var CONTROL_ALL = /[\x00-\x1f\x7f]/g;
function compatExptime(lifetime, maxExpiration, nowMs = Date.now()) {
  if (typeof lifetime !== "number" || Number.isNaN(lifetime)) {
    throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)('Argument "lifetime" is not a valid Number.');
  }
  if (!Number.isSafeInteger(lifetime)) {
    throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`lifetime must be a whole number of seconds, got ${lifetime}`);
  }
  if (lifetime < 0) return -1;
  const nowSec = Math.floor(nowMs / 1e3);
  let relative = lifetime;
  let exptime = lifetime;
  if (lifetime > RELATIVE_LIMIT) {
    if (lifetime > nowSec) {
      relative = lifetime - nowSec;
    } else {
      exptime = nowSec + lifetime;
    }
  }
  if (relative > maxExpiration) {
    throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`lifetime of ${relative} s exceeds maxExpiration (${maxExpiration} s)`);
  }
  if (exptime > 2147483647) throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`lifetime ${lifetime} reaches past January 2038, which memcached cannot represent`);
  return exptime;
}
function normalizeLocations(location) {
  if (Array.isArray(location)) return location.length > 0 ? [...location] : ["localhost:11211"];
  if (location !== null && typeof location === "object") return { ...location };
  if (location === void 0 || location === null || location === "") return "localhost:11211";
  if (typeof location !== "string") throw new (0, _chunkQQCFO3ILcjs.InvalidOptionError)(`location must be a string, an array of strings or { 'host:port': weight }, got ${typeof location}`);
  return location;
}

// src/compat/multi.ts
function put(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
async function getMultiCompat(fleet, state, keyOpts, keys) {
  const data = {};
  const errors = [];
  if (!Array.isArray(keys)) return { errors: [shapeError(new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(TEXT.notA("key", "Array")))], data };
  if (keys.length === 0) return { errors, data };
  const callers = /* @__PURE__ */ new Map();
  const unavailable = /* @__PURE__ */ new Map();
  const core = fleet.core;
  const writer = new (0, _chunkQQCFO3ILcjs.BatchWriter)("get", 0, core.opts, (server, batch, hits, err) => {
    if (!hits) {
      errors.push(state.failed(server, err));
      return;
    }
    for (const v of hits) {
      const asked = callers.get(v.key);
      try {
        const value = core.decode(v, asked[0], server);
        for (const key of asked) put(data, key, value);
      } catch (e) {
        errors.push(shapeError(e));
      }
    }
  });
  const hold = core.cluster.hold(writer.deadline);
  try {
    const slice = _chunkQQCFO3ILcjs.makeSlicer.call(void 0, );
    for (let i = 0; i < keys.length; i++) {
      const pause = slice(i) ?? writer.room();
      if (pause) await pause;
      try {
        const k = compatKey(keys[i], keyOpts, i);
        const caller = String(k.key);
        const asked = callers.get(k.wire);
        if (asked) {
          if (!asked.includes(caller)) asked.push(caller);
          continue;
        }
        callers.set(k.wire, [caller]);
        const node = fleet.nodeFor(k.full);
        if (unavailable.has(node.server)) continue;
        try {
          state.connection(node.server);
          state.check(node.server);
        } catch (e) {
          unavailable.set(node.server, state.failed(node.server, e));
          continue;
        }
        writer.add(node, k.wire, k.bytes);
      } catch (e) {
        errors.push(shapeError(e));
      }
    }
    errors.push(...unavailable.values());
    await writer.finish();
  } finally {
    hold.release();
  }
  return { errors, data };
}
var SINGLES = {
  version: { bytes: _chunkQQCFO3ILcjs.encodeVersion, kind: "version" },
  flush_all: { bytes: () => _chunkQQCFO3ILcjs.encodeFlushAll.call(void 0, ), kind: "ok" },
  stats: { bytes: () => _chunkQQCFO3ILcjs.encodeStats.call(void 0, ), kind: "stats" },
  "stats settings": { bytes: () => _chunkQQCFO3ILcjs.encodeStats.call(void 0, "settings"), kind: "stats" },
  "stats slabs": { bytes: () => _chunkQQCFO3ILcjs.encodeStats.call(void 0, "slabs"), kind: "stats" },
  "stats items": { bytes: () => _chunkQQCFO3ILcjs.encodeStats.call(void 0, "items"), kind: "stats" }
};
async function singlesCompat(fleet, state, type) {
  const spec = SINGLES[type];
  const settled = await Promise.all(fleet.all().map(async (node) => {
    try {
      state.connection(node.server);
      state.check(node.server);
      const reply = await fleet.core.send(node, spec.bytes(), spec.kind);
      return { result: shape(type, reply, node.server) };
    } catch (err) {
      return { error: state.failed(node.server, err) };
    }
  }));
  let error;
  const results = [];
  for (const s of settled) {
    if ("error" in s) error = s.error;
    else results.push(s.result);
  }
  return { error, results };
}
function shape(type, reply, server) {
  if (type === "flush_all") {
    if (reply.kind === "status" && reply.status === "OK") return true;
  } else if (type === "version") {
    if (reply.kind === "version") return versionData(reply.version, server);
  } else if (reply.kind === "stats") {
    return statsData(type, reply.stats, server);
  }
  throw new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply to ${type}: ${reply.kind}`, { server });
}
function versionData(version, server) {
  const m = /(\d+)(?:\.)(\d+)(?:\.)(\d+)$/.exec(version);
  return { server, version: m ? m[0] : version, major: m?.[1] ?? "0", minor: m?.[2] ?? "0", bugfix: m?.[3] ?? "0" };
}
function statsData(type, stats, server) {
  const out = {};
  if (stats.length === 0) return out;
  out.server = server;
  for (const [name, raw] of stats) {
    const value = /^\d+$/.test(raw) ? +raw : raw;
    if (type === "stats" || type === "stats settings") {
      put(out, name, value);
      continue;
    }
    const id = name.split(":");
    const [group, field] = type === "stats slabs" ? [id[0], String(id[1])] : [String(id[1]), String(id[2])];
    let bucket = Object.prototype.hasOwnProperty.call(out, group) ? out[group] : void 0;
    if (!bucket) {
      bucket = {};
      put(out, group, bucket);
    }
    put(bucket, field, value);
  }
  return out;
}
var MAX_REPLY_BYTES = 4 * 1024 * 1024;
function cachedump(server, slabid, number, timeoutMs) {
  for (const [name, v] of [["slabid", slabid], ["number", number]]) {
    if (typeof v !== "number") return Promise.reject(new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`Argument "${name}" is not a valid Number.`));
    if (!Number.isSafeInteger(v) || v < 0) return Promise.reject(new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`${name} must be a whole number >= 0, got ${v}`));
  }
  let host;
  let port;
  let label;
  try {
    ({ host, port, label } = _chunkQQCFO3ILcjs.parseAddress.call(void 0, server));
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let done = false;
    const socket = _net2.default.connect({ host, port });
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new (0, _chunkQQCFO3ILcjs.TimeoutError)(`stats cachedump did not finish within ${timeoutMs} ms`, { server: label })), timeoutMs);
    socket.on("connect", () => socket.write(`stats cachedump ${slabid} ${number}\r
`));
    socket.on("error", (err) => finish(new (0, _chunkQQCFO3ILcjs.ConnectionError)(`cachedump failed: ${err.code ?? err.message}`, { server: label, cause: err })));
    socket.on("close", () => finish(new (0, _chunkQQCFO3ILcjs.ConnectionError)("connection closed before the cachedump reply ended", { server: label })));
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) return finish(new (0, _chunkQQCFO3ILcjs.ProtocolError)("cachedump reply too large", { server: label }));
      const text = Buffer.concat(chunks).toString("utf8");
      const error = /^(ERROR|CLIENT_ERROR|SERVER_ERROR)(.*)\r\n/m.exec(text);
      if (error) {
        const Err = error[1] === "SERVER_ERROR" ? _chunkQQCFO3ILcjs.ServerErrorReply : _chunkQQCFO3ILcjs.ClientErrorReply;
        return finish(new Err(`${error[1]}${error[2]}`, { server: label }));
      }
      if (text !== "END\r\n" && !text.endsWith("\r\nEND\r\n")) return;
      const items = [];
      for (const line of text.split("\r\n")) {
        if (!line.startsWith("ITEM ")) continue;
        const tokens = line.split(" ");
        items.push({ key: tokens[1], b: +tokens[2].slice(1), s: +tokens[4] });
      }
      finish(void 0, items.length === 0 ? void 0 : items.length === 1 ? items[0] : items);
    });
  });
}

// src/compat/issues.ts

function delay(ms) {
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), 2 ** 31 - 1) : 1;
}
var IssueLog = class extends _events.EventEmitter {
  constructor(config, attempt) {
    super();
    this.attempt = attempt;
    this.config = config;
    this.server = config.server;
    this.tokens = config.tokens;
    this.reconnect = config.reconnect;
    this.failures = config.failures;
    this.failuresTimeout = config.failuresTimeout;
    this.retry = config.retry;
    this.remove = config.remove;
    this.failOverServers = config.failOverServers;
  }
  attempt;
  config;
  server;
  tokens;
  messages = [];
  failed = false;
  locked = false;
  isScheduledToReconnect = false;
  totalFailures = 0;
  totalReconnectsAttempted = 0;
  totalReconnectsSuccess = 0;
  reconnect;
  failures;
  failuresTimeout;
  retry;
  remove;
  failOverServers;
  failuresResetId;
  /** One failure of the server (2.2.2's `issues.log`); `message` is what 2.2.2 logged (`err.toString()`). */
  log(message) {
    if (this.failed && this.locked) {
      this.messages.push(message);
      return;
    }
    this.failed = true;
    this.messages.push(message || "No message specified");
    if (this.failures && this.failures === this.config.failures) {
      this.failuresResetId = later(() => this.failuresReset(), this.failuresTimeout);
    }
    if (this.failures && !this.locked) {
      this.locked = true;
      later(() => this.attemptRetry(), this.retry);
      this.emit("issue", this.details);
      return;
    }
    if (this.failuresResetId) clearTimeout(this.failuresResetId);
    if (this.remove) {
      this.emit("remove", this.details);
      return;
    }
    if (!this.isScheduledToReconnect) {
      this.isScheduledToReconnect = true;
      later(() => this.attemptReconnect(), Math.min(this.reconnect, MAX_RECONNECT_MS));
    }
  }
  /** 2.2.2's payload: counters while failures are left, reconnect figures once the server is dead. */
  get details() {
    const res = { server: this.server, tokens: this.tokens, messages: this.messages };
    if (this.failures) {
      res.failures = this.failures;
      res.totalFailures = this.totalFailures;
    } else {
      res.totalReconnectsAttempted = this.totalReconnectsAttempted;
      res.totalReconnectsSuccess = this.totalReconnectsSuccess;
      res.totalReconnectsFailed = this.totalReconnectsAttempted - this.totalReconnectsSuccess;
      res.totalDownTime = res.totalReconnectsFailed * this.reconnect + this.totalFailures * this.retry;
    }
    return res;
  }
  /** Back to the configured values (2.2.2: `failuresTimeout` after the first failure, and after a reconnect). */
  failuresReset() {
    this.reconnect = this.config.reconnect;
    this.failures = this.config.failures;
    this.failuresTimeout = this.config.failuresTimeout;
    this.retry = this.config.retry;
    this.remove = this.config.remove;
  }
  attemptRetry() {
    this.totalFailures++;
    this.failures--;
    this.failed = false;
    this.locked = false;
  }
  attemptReconnect() {
    this.totalReconnectsAttempted++;
    this.emit("reconnecting", this.details);
    this.attempt().then(() => {
      this.emit("reconnected", this.details);
      this.totalReconnectsSuccess++;
      this.messages.length = 0;
      this.failed = false;
      this.isScheduledToReconnect = false;
      this.failuresReset();
    }, (err) => {
      this.messages.push(err.message || "No message specified");
      later(() => this.attemptReconnect(), Math.min(this.reconnect, MAX_RECONNECT_MS));
    });
  }
};
function later(fn, ms) {
  const t = setTimeout(fn, delay(ms));
  t.unref();
  return t;
}

// src/compat/servers.ts
var CompatConnection = class {
  constructor(server, limit, node) {
    this.node = node;
    const { host, port } = _chunkQQCFO3ILcjs.parseAddress.call(void 0, server);
    this.serverAddress = server;
    this.tokens = [String(port), host];
    this.limit = limit;
  }
  node;
  /** `host:port`, as 2.2.2's sockets carried it. */
  serverAddress;
  /** `[port, host]`. */
  tokens;
  /** Sockets at most (`poolSize`). */
  limit;
  /** The open sockets, one entry each (2.2.2 code reads `pool.length`). */
  get pool() {
    const stats = this.node()?.stats();
    return Array.from({ length: stats ? stats.size : 0 }, () => ({ serverAddress: this.serverAddress }));
  }
  /** Sockets being opened. */
  get pending() {
    return this.node()?.stats().pending ?? 0;
  }
};
var ServerState = class {
  constructor(locations, settings, fleets, emit) {
    this.settings = settings;
    this.fleets = fleets;
    this.emit = emit;
    this.ring = new (0, _chunkQQCFO3ILcjs.Ring)(locations);
    this.failOver = settings.failOverServers.length > 0 ? [...settings.failOverServers] : null;
  }
  settings;
  fleets;
  emit;
  /** 2.2.2's `issues`: an array used as a map, `host:port` -> IssueLog. */
  issues = [];
  connections = {};
  /** The ring, kept in step with removals and failovers (reading it is what 2.2.2 code does). */
  ring;
  changes = [];
  failOver;
  /**
   * The server for a routed key, if a call may go there now: 2.2.2's "Server at <server> not
   * available" while its IssueLog has it failed (within `retry` ms of a failure, or dead).
   */
  target(full) {
    const node = this.fleets.open().nodeFor(full);
    this.connection(node.server);
    this.check(node.server);
    return node;
  }
  /** Throws 2.2.2's "not available" when the server's IssueLog has it failed. */
  check(server) {
    if (this.issues[server]?.failed) throw new (0, _chunkQQCFO3ILcjs.ServerUnavailableError)(TEXT.notAvailable(server), { server });
  }
  connection(server) {
    let c = this.connections[server];
    if (!c) {
      c = new CompatConnection(server, this.settings.client.maxConnections, () => this.node(server));
      Object.defineProperty(this.connections, server, { value: c, enumerable: true, writable: true, configurable: true });
    }
    return c;
  }
  /**
   * A call to `server` failed: the error gets 2.2.2's face, and a failure of the server itself
   * is logged in its IssueLog (which may emit `issue`, or mark the server dead).
   */
  failed(server, err) {
    const shaped = shapeError(err, server);
    if (server !== void 0 && isServerFailure(err)) this.issue(server).log(String(shaped));
    return shaped;
  }
  node(server) {
    return this.fleets.current()?.cluster.all().find((n) => n.server === server);
  }
  issue(server) {
    let log = this.issues[server];
    if (log) return log;
    const { host, port } = _chunkQQCFO3ILcjs.parseAddress.call(void 0, server);
    const s = this.settings;
    log = new IssueLog({
      server,
      tokens: [String(port), host],
      reconnect: s.reconnect,
      failures: s.failures,
      failuresTimeout: s.failuresTimeout,
      retry: s.retry,
      remove: s.remove,
      failOverServers: this.failOver
    }, () => this.probe(server));
    log.on("issue", (d) => this.emit("issue", d));
    log.on("reconnecting", (d) => this.emit("reconnecting", d));
    log.on("reconnected", (d) => this.emit("reconnect", d));
    log.on("remove", (d) => this.remove(server, d));
    Object.defineProperty(this.issues, server, { value: log, enumerable: true, writable: true, configurable: true });
    return log;
  }
  /**
   * 2.2.2's reconnect attempt, as a real request (it spawned `ping`, which proves nothing about
   * memcached): on the client's sockets, or, while the client is ended (`end()`, between jobs), on
   * a socket of its own that is closed after it, so the server is seen back either way.
   */
  async probe(server) {
    const fleet = this.fleets.current();
    const node = fleet?.all().find((n) => n.server === server);
    try {
      if (fleet && node) {
        await fleet.core.send(node, _chunkQQCFO3ILcjs.encodeVersion.call(void 0, ), "version");
        return;
      }
      const id = this.ring.servers.find((s) => _chunkQQCFO3ILcjs.parseAddress.call(void 0, s).label === server);
      if (id === void 0) throw new (0, _chunkQQCFO3ILcjs.ServerUnavailableError)(TEXT.notAvailable(server), { server });
      const { host, port, label } = _chunkQQCFO3ILcjs.parseAddress.call(void 0, id);
      const c = this.settings.client;
      const conn = await _chunkQQCFO3ILcjs.Connection.open({ host, port, server: label, connectTimeoutMs: c.connectTimeoutMs, maxValueBytes: 1024, tls: c.tls, stallTimeoutMs: c.timeoutMs });
      try {
        await _chunkQQCFO3ILcjs.validateSocket.call(void 0, conn, "version", c.timeoutMs);
      } finally {
        conn.destroy(new (0, _chunkQQCFO3ILcjs.ClientClosedError)({ server: label }));
      }
    } catch (err) {
      throw shapeError(err, server);
    }
  }
  /**
   * 2.2.2's `remove` handler: the event, then a failover server takes the dead one's ring points,
   * or the server leaves the ring and `failure` follows. The last server stays in the ring (a
   * client needs one to route to), failed: its calls get "Server at <server> not available", as
   * 2.2.2's did for a removed single server.
   */
  remove(server, details) {
    this.emit("remove", details);
    const id = this.ring.servers.find((s) => _chunkQQCFO3ILcjs.parseAddress.call(void 0, s).label === server);
    if (id === void 0) return;
    const next = this.failOver?.shift();
    let change;
    if (next !== void 0) {
      change = { op: "swap", from: id, to: next };
    } else {
      if (this.ring.servers.length > 1) change = { op: "remove", id };
      this.emit("failure", details);
    }
    if (!change) return;
    try {
      if (change.op === "swap") this.ring.swap(change.from, change.to);
      else this.ring.remove(change.id);
    } catch {
      return;
    }
    this.changes.push(change);
    this.fleets.current()?.apply(change);
  }
};

// src/compat/memcached.ts
var V = {
  key: [["key", String], ["callback", Function]],
  store: [["key", String], ["value", String], ["lifetime", Number], ["callback", Function]],
  touch: [["key", String], ["lifetime", Number], ["callback", Function]],
  arith: [["key", String], ["value", Number], ["callback", Function]],
  dump: [["number", Number], ["slabid", Number], ["callback", Function]]
};
var noop = () => {
};
var MemcachedClient = class extends _events.EventEmitter {
  /** Defaults read by every client at construction; change them to configure all clients. */
  static config = { ...DEFAULT_CONFIG };
  /** The server locations, as given (2.2.2's `servers`). */
  servers;
  /** The consistent-hash ring (hashring's, built as 2.2.2 built it); kept in step with `remove: true`. Read it; changing it does not reroute. */
  HashRing;
  /** `host:port` -> the server's socket pool, from its first request on (2.2.2 kept jackpot pools here). */
  connections;
  /** `host:port` -> 2.2.2's IssueLog of a server that failed (an array used as a map, as in 2.2.2). */
  issues;
  locations;
  compat;
  state;
  current;
  constructor(location, options) {
    super();
    this.locations = normalizeLocations(location);
    this.servers = _chunkQQCFO3ILcjs.serverIds.call(void 0, this.locations);
    const merged = mergeConfig(this.constructor.config ?? DEFAULT_CONFIG, options);
    this.compat = resolveCompat(merged);
    for (const [k, v] of Object.entries(merged)) {
      if (k in this || k.startsWith("_")) continue;
      Object.defineProperty(this, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    this.state = new ServerState(
      this.locations,
      this.compat,
      { open: () => this.fleet, current: () => this.current },
      (event, details) => process.nextTick(() => this.emit(event, details))
    );
    this.HashRing = this.state.ring;
    this.connections = this.state.connections;
    this.issues = this.state.issues;
    for (const k of ["locations", "compat", "state", "current"]) {
      Object.defineProperty(this, k, { value: this[k], enumerable: false, writable: true, configurable: true });
    }
  }
  touch(key, lifetime, cb) {
    const q = this.query("touch", key, cb, V.touch, { lifetime });
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      const exptime = compatExptime(lifetime, this.compat.maxExpiration);
      q.command = `touch ${k.wire} ${exptime}`;
      const reply = await fleet.core.send(at(k.full), _chunkQQCFO3ILcjs.encodeTouch.call(void 0, k.wire, exptime), "touch");
      return _chunkQQCFO3ILcjs.statusOf.call(void 0, reply, { TOUCHED: true, NOT_FOUND: false });
    });
  }
  get(key, cb) {
    if (Array.isArray(key)) return this.getMulti(key, cb);
    const q = this.query("get", key, cb, V.key);
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      q.command = `get ${k.wire}`;
      return fleet.core.coalescedGet({ key: String(key), routed: k.wire, bytes: k.bytes }, at(k.full));
    });
  }
  /** The value and its cas token as `{ [key]: value, cas }` (keyed like 2.2.2: by namespace + key), or `undefined` on a miss. */
  gets(key, cb) {
    const q = this.query("gets", key, cb, V.key);
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      q.command = `gets ${k.wire}`;
      const node = at(k.full);
      const reply = await fleet.core.send(node, _chunkQQCFO3ILcjs.encodeGet.call(void 0, "gets", [k.wire]), "retrieval", (r) => _chunkQQCFO3ILcjs.verifyRetrieval.call(void 0, r, [k.wire], node.server));
      const v = fleet.core.single(reply, k.wire, node.server);
      if (!v) return void 0;
      if (v.cas === void 0) throw new (0, _chunkQQCFO3ILcjs.ProtocolError)("gets reply carried no cas", { server: node.server });
      const out = {};
      const value = fleet.core.decode(v, String(key), node.server);
      put(out, k.wire, value);
      out.cas = v.cas;
      if (k.wire !== String(key) && String(key) !== "cas") Object.defineProperty(out, String(key), { value, enumerable: false, configurable: true });
      return out;
    });
  }
  /** `{ key: value }` for the hits; `err` is an array of errors (or undefined) beside the partial data. */
  getMulti(keys, cb) {
    const fleet = this.openFleet();
    (fleet instanceof Fleet ? fleet.track(getMultiCompat(fleet, this.state, this.compat, keys)) : Promise.reject(fleet.error)).then(({ errors, data }) => {
      if (typeof cb === "function") process.nextTick(() => cb.call(void 0, errors.length > 0 ? errors : void 0, data));
    }, (err) => {
      if (typeof cb === "function") process.nextTick(() => cb.call(void 0, [err], {}));
    });
  }
  set(key, value, lifetime, cb) {
    this.store("set", key, value, lifetime, cb);
  }
  replace(key, value, lifetime, cb) {
    this.store("replace", key, value, lifetime, cb);
  }
  add(key, value, lifetime, cb) {
    this.store("add", key, value, lifetime, cb);
  }
  cas(key, value, cas, lifetime, cb) {
    this.store("cas", key, value, lifetime, cb, cas);
  }
  append(key, value, cb) {
    this.store("append", key, value, 0, cb);
  }
  prepend(key, value, cb) {
    this.store("prepend", key, value, 0, cb);
  }
  incr(key, amount, cb) {
    this.arith("incr", key, amount, cb);
  }
  decr(key, amount, cb) {
    this.arith("decr", key, amount, cb);
  }
  increment(key, amount, cb) {
    this.arith("incr", key, amount, cb);
  }
  decrement(key, amount, cb) {
    this.arith("decr", key, amount, cb);
  }
  del(key, cb) {
    const q = this.query("delete", key, cb, V.key, { redundancyEnabled: true });
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      q.command = `delete ${k.wire}`;
      return _chunkQQCFO3ILcjs.statusOf.call(void 0, await fleet.core.send(at(k.full), _chunkQQCFO3ILcjs.encodeDelete.call(void 0, k.wire), "delete"), { DELETED: true, NOT_FOUND: false });
    });
  }
  delete(key, cb) {
    this.del(key, cb);
  }
  version(cb) {
    this.singles("version", cb);
  }
  flush(cb) {
    this.singles("flush_all", cb);
  }
  flushAll(cb) {
    this.singles("flush_all", cb);
  }
  stats(cb) {
    this.singles("stats", cb);
  }
  settings(cb) {
    this.singles("stats settings", cb);
  }
  statsSettings(cb) {
    this.singles("stats settings", cb);
  }
  slabs(cb) {
    this.singles("stats slabs", cb);
  }
  statsSlabs(cb) {
    this.singles("stats slabs", cb);
  }
  items(cb) {
    this.singles("stats items", cb);
  }
  statsItems(cb) {
    this.singles("stats items", cb);
  }
  /** `stats cachedump` on one server (`'host:port'`): no item -> undefined, one -> the item, several -> an array. */
  cachedump(server, slabid, number, cb) {
    const q = { ...this.query("stats cachedump", void 0, cb, V.dump), slabid, number, command: `stats cachedump ${slabid} ${number}` };
    this.run(q, (_fleet, _at, ctx) => {
      if (typeof server === "string" && /:\d+$/.test(server)) {
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
  end() {
    const fleet = this.current;
    this.current = void 0;
    fleet?.close().catch(noop);
  }
  get fleet() {
    return this.current ??= new Fleet(this.locations, this.compat, this.state.changes);
  }
  /** The fleet, or the error building it gave (a location it cannot use): calls get it through their callback. */
  openFleet() {
    try {
      return this.fleet;
    } catch (error) {
      return { error };
    }
  }
  store(type, key, value, lifetime, cb, cas) {
    if (typeof lifetime === "function" && cb === void 0) [cb, lifetime] = [lifetime, 0];
    const q = this.query(type, key, cb, V.store, { lifetime, value, cas, redundancyEnabled: false });
    this.run(q, async (fleet, at) => {
      let item;
      try {
        item = _chunkGTFQDHZScjs.legacySerializer.serialize(value);
      } catch (err) {
        throw new (0, _chunkQQCFO3ILcjs.InvalidValueError)(`cannot store the value for key ${String(key)}: ${err.message}`, { cause: err });
      }
      if (item.data.length > this.compat.maxValue) throw new (0, _chunkQQCFO3ILcjs.InvalidValueError)(TEXT.valueTooLarge(this.compat.maxValue));
      const k = compatKey(key, this.compat);
      const exptime = type === "append" || type === "prepend" ? 0 : compatExptime(lifetime, this.compat.maxExpiration);
      if (type === "cas" && (typeof cas !== "string" && typeof cas !== "number" || !/^\d{1,20}$/.test(String(cas)))) {
        throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`Argument "cas" must be the token from gets(), got ${JSON.stringify(cas)}`);
      }
      const header = `${type} ${k.wire} ${item.flags} ${exptime} ${item.data.length}${type === "cas" ? ` ${cas}` : ""}`;
      Object.defineProperty(q, "command", { get: () => `${header}\r
${item.data.toString("utf8")}`, enumerable: true, configurable: true });
      const bytes = type === "cas" ? _chunkQQCFO3ILcjs.encodeCas.call(void 0, k.wire, item.flags, exptime, item.data, String(cas)) : _chunkQQCFO3ILcjs.encodeStore.call(void 0, type, k.wire, item.flags, exptime, item.data);
      const node = at(k.full);
      const reply = await fleet.core.send(node, bytes, "store");
      if (reply.kind === "status" && reply.status === "NOT_STORED") throw new NotStoredError({ server: node.server });
      return _chunkQQCFO3ILcjs.statusOf.call(void 0, reply, { STORED: true, EXISTS: false, NOT_FOUND: false });
    });
  }
  arith(type, key, amount, cb) {
    if (typeof amount === "function" && cb === void 0) [cb, amount] = [amount, 1];
    const q = this.query(type, key, cb, V.arith, { value: amount, redundancyEnabled: true });
    this.run(q, async (fleet, at) => {
      const k = compatKey(key, this.compat);
      if (typeof amount !== "number") throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(TEXT.notA("value", "Number"));
      if (!Number.isInteger(amount) || amount < 0 || amount >= 2 ** 64) throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(TEXT.badDelta);
      const delta = BigInt(amount).toString();
      q.command = `${type} ${k.wire} ${delta}`;
      const reply = await fleet.core.send(at(k.full), _chunkQQCFO3ILcjs.encodeArith.call(void 0, type, k.wire, delta), "arith");
      if (reply.kind === "number") return Number(reply.value);
      return _chunkQQCFO3ILcjs.statusOf.call(void 0, reply, { NOT_FOUND: false });
    });
  }
  singles(type, cb) {
    const fleet = this.openFleet();
    if (!(fleet instanceof Fleet)) {
      if (typeof cb === "function") process.nextTick(() => cb.call(void 0, fleet.error, []));
      return;
    }
    fleet.track(singlesCompat(fleet, this.state, type)).then(({ error, results }) => {
      if (typeof cb === "function") process.nextTick(() => cb.call(void 0, error, results));
    }, noop);
  }
  /** 2.2.2's query object: `this` inside single-key callbacks. */
  query(type, key, cb, validate, extra = {}) {
    const text = keyText(key);
    const full = text === void 0 ? void 0 : this.compat.namespace + text;
    const callback = typeof cb === "function" ? cb : noop;
    return { key: full, callback, validate, type, command: full === void 0 ? type : `${type} ${full}`, start: 0, execution: 0, ...extra };
  }
  /**
   * Runs one request and calls back exactly once, on a later tick (never synchronously, never
   * twice): `(undefined, data)`, or `(err, data)` with the error in 2.2.2's words and the `data`
   * 2.2.2 gave beside it; `this` is the query object. `at(full)` routes the key and refuses, as
   * 2.2.2 did, a server its IssueLog has failed; a failure of the server itself is logged there.
   */
  run(q, work) {
    const ctx = {};
    const at = (full) => {
      const node = this.state.target(full);
      ctx.server = node.server;
      return node;
    };
    let p;
    q.start = Date.now();
    const fleet = this.openFleet();
    if (!(fleet instanceof Fleet)) {
      p = Promise.reject(fleet.error);
    } else {
      try {
        p = _chunkQQCFO3ILcjs.traceCompat.call(void 0, q, fleet, (f) => work(f, at, ctx));
      } catch (err) {
        p = Promise.reject(err);
      }
      fleet.track(p);
    }
    const done = (err, data) => {
      q.execution = Date.now() - q.start;
      process.nextTick(() => q.callback.call(q, err, data));
    };
    p.then((data) => done(void 0, data), (err) => done(this.state.failed(ctx.server, err), errorData(err)));
  }
};

// src/compat/index.ts
var Memcached = new Proxy(MemcachedClient, {
  apply(target, _thisArg, args) {
    return new target(...args);
  }
});
Object.defineProperty(MemcachedClient, "name", { value: "Memcached" });
Object.defineProperty(MemcachedClient, "default", { value: Memcached, enumerable: false });
var compat_default = Memcached;


exports.default = compat_default;

module.exports = exports.default;

//# sourceMappingURL=compat.cjs.map

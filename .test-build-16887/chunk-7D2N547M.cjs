"use strict";Object.defineProperty(exports, "__esModule", {value: true}); function _interopRequireDefault(obj) { return obj && obj.__esModule ? obj : { default: obj }; }























































var _chunkQQCFO3ILcjs = require('./chunk-QQCFO3IL.cjs');

// src/client/client.ts
var _events = require('events');
var _debug = require('debug'); var _debug2 = _interopRequireDefault(_debug);

// src/client/call.ts
var MAX_MS = 2 ** 31 - 1;
var STORE_OPTIONS = /* @__PURE__ */ new Set(["ttl"]);
var COUNTER_OPTIONS = /* @__PURE__ */ new Set(["ttl", "initial"]);
var INVALIDATE_OPTIONS = /* @__PURE__ */ new Set(["staleTtl"]);
var HINTS = {
  expires: "ttl",
  expire: "ttl",
  expiry: "ttl",
  exptime: "ttl",
  lifetime: "ttl",
  timeout: "timeoutMs",
  abortSignal: "signal"
};
function unknownName(options, names) {
  for (const k in options) {
    if (k !== "signal" && k !== "timeoutMs" && !names?.has(k) && Object.hasOwn(options, k)) return k;
  }
  return void 0;
}
function scopeOf(options, defaultTimeoutMs, names) {
  if (options === void 0) return { deadline: _chunkQQCFO3ILcjs.now.call(void 0, ) + defaultTimeoutMs, cancel: void 0 };
  if (options === null || typeof options !== "object") throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`call options must be an object, got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, options)}`);
  const unknown = unknownName(options, names);
  if (unknown !== void 0) {
    const hint = HINTS[unknown] !== void 0 && (HINTS[unknown] === "signal" || HINTS[unknown] === "timeoutMs" || names?.has(HINTS[unknown])) ? ` (did you mean ${HINTS[unknown]}?)` : "";
    const takes = ["signal", "timeoutMs", ...names ?? []].join(", ");
    throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`unknown option ${_chunkQQCFO3ILcjs.describeValue.call(void 0, unknown, 60)}${hint}: this call takes ${takes}`);
  }
  const t = options.timeoutMs;
  if (t !== void 0 && (typeof t !== "number" || !Number.isSafeInteger(t) || t < 1 || t > MAX_MS)) {
    throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`timeoutMs must be an integer from 1 to ${MAX_MS}, got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, t)}`);
  }
  const signal = options.signal;
  if (signal !== void 0 && !(signal instanceof AbortSignal)) throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`signal must be an AbortSignal, got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, signal)}`);
  if (signal?.aborted) throw abortError(signal);
  return { deadline: _chunkQQCFO3ILcjs.now.call(void 0, ) + (t ?? defaultTimeoutMs), cancel: signal ? new CallCancel(signal) : void 0 };
}
function abortError(signal) {
  const r = signal.reason;
  const why = r instanceof Error ? `: ${r.message}` : typeof r === "string" ? `: ${r}` : "";
  return new (0, _chunkQQCFO3ILcjs.AbortError)(`the call was aborted${why}`, { cause: r });
}
var CallCancel = class {
  constructor(signal) {
    this.signal = signal;
    signal.addEventListener("abort", this.onAbort, { once: true });
  }
  signal;
  aborted = false;
  reason;
  handles = [];
  nodes = /* @__PURE__ */ new Set();
  track(handle) {
    this.handles.push(handle);
  }
  queuedOn(node) {
    this.nodes.add(node);
  }
  /** The call settled: stop listening (the signal may outlive it by far). */
  done() {
    this.signal.removeEventListener("abort", this.onAbort);
  }
  /** Throws the abort error if the call was aborted (for multi-key calls, between their steps). */
  check() {
    if (this.aborted) throw this.reason;
  }
  onAbort = () => {
    this.aborted = true;
    const reason = this.reason = abortError(this.signal);
    for (const node of this.nodes) node.purge(this);
    for (const h of this.handles.splice(0)) h.abandon(reason);
  };
};
async function inScope(scope, fn) {
  if (!scope.cancel) return fn(scope);
  try {
    const out = await fn(scope);
    scope.cancel.check();
    return out;
  } catch (err) {
    if (scope.cancel.aborted) throw scope.cancel.reason;
    throw err;
  } finally {
    scope.cancel.done();
  }
}
function hasCallOptions(options, names) {
  if (options === void 0) return false;
  if (options === null || typeof options !== "object") return true;
  return options.signal !== void 0 || options.timeoutMs !== void 0 || unknownName(options, names) !== void 0;
}
function scoped(options, defaultTimeoutMs, fn, names) {
  if (!hasCallOptions(options, names)) return fn(void 0);
  let scope;
  try {
    scope = scopeOf(options, defaultTimeoutMs, names);
  } catch (err) {
    return Promise.reject(err);
  }
  return inScope(scope, fn);
}

// src/client/fetch.ts

var _promises = require('timers/promises');

// src/client/fetch-meta.ts

var log = _debug2.default.call(void 0, "memcluster:fetch");
async function fetchMeta(f) {
  const { p, node } = f;
  const get = _chunkQQCFO3ILcjs.encodeMetaGet.call(void 0, p.routed, { value: true, clientFlags: true, cas: true, ttl: true, returnKey: true, vivify: f.o.leaseTtl, recache: f.o.recacheWithin });
  const wait = new LeaseWait(f);
  const late = (r) => giveBackLate(node, r, p.routed, f.o.timeoutMs);
  for (; ; ) {
    const reply = await f.ask(() => _chunkQQCFO3ILcjs.metaRequest.call(void 0, f.core, node, get, p.routed, f.scope(), false, late));
    if (reply.code !== "VA" || reply.data === void 0) {
      throw new CacheFailure(new (0, _chunkQQCFO3ILcjs.ProtocolError)(`mg with a lease answered ${reply.code}, not a value or a placeholder`, { server: node.server }));
    }
    const flags = reply.flags;
    const placeholder = reply.data.length === 0 && (flags.win || flags.otherWon);
    if (!placeholder) {
      const value = f.core.decode({ key: p.routed, flags: flags.clientFlags ?? 0, data: reply.data, cas: flags.cas }, p.key, node.server);
      f.stats.hits++;
      if (flags.win) refresh(f, flags.cas, flags.stale ? "stale" : "near expiry");
      return { value };
    }
    if (flags.win) {
      f.stats.leaseWins++;
      log("%s: lease won for %s: loading", node.server, p.key);
      const { value, item } = await f.load();
      await fill(f, item, flags.cas);
      return { value };
    }
    if (!await wait.next()) return { timedOut: true };
  }
}
function giveBackLate(node, r, routed, timeoutMs) {
  if (r.kind !== "meta" || r.code !== "VA" || r.data === void 0 || !r.flags.win) return;
  if (r.data.length > 0) {
    void _chunkQQCFO3ILcjs.handBackIfWon.call(void 0, node, r, routed, timeoutMs);
    return;
  }
  const cas = r.flags.cas;
  if (cas === void 0) return;
  log("%s: lease for %s won after its call timed out: releasing the placeholder", node.server, routed);
  node.submit({
    bytes: _chunkQQCFO3ILcjs.encodeMetaDelete.call(void 0, routed, { compareCas: cas }),
    kind: "meta",
    deadline: _chunkQQCFO3ILcjs.now.call(void 0, ) + timeoutMs,
    key: routed,
    resolve: noop,
    reject: noop
  });
}
var noop = () => {
};
async function fill(f, item, cas) {
  const { p, node } = f;
  if (cas === void 0) {
    f.stats.fillFailures++;
    log("%s: lease reply for %s carried no cas: not filling", node.server, p.key);
    return;
  }
  try {
    const bytes = _chunkQQCFO3ILcjs.encodeMetaSet.call(void 0, p.routed, item.data, { ttl: f.exptime(), clientFlags: item.flags, compareCas: cas });
    const reply = await _chunkQQCFO3ILcjs.metaRequest.call(void 0, f.core, node, bytes, p.routed, f.scope());
    if (reply.code === "HD") return;
    f.stats.fillsVoided++;
    log("%s: fill of %s not stored (%s: deleted, invalidated or replaced during the load)", node.server, p.key, reply.code);
  } catch (err) {
    f.stats.fillFailures++;
    log("%s: fill of %s failed: %s", node.server, p.key, err?.message ?? err);
  }
}
function refresh(f, cas, why) {
  f.stats.refreshes++;
  log("%s: %s item %s: reloading in the background", f.node.server, why, f.p.key);
  void (async () => {
    const { item } = await f.load();
    await fill(f, item, cas);
  })().catch((err) => f.refreshFailed(err));
}
async function invalidateMeta(core, node, p, staleTtl, scope) {
  return invalidatedOf(await _chunkQQCFO3ILcjs.metaRequest.call(void 0, core, node, invalidateBytes(p, staleTtl), p.routed, scope), node.server);
}
var invalidateBytes = (p, staleTtl) => _chunkQQCFO3ILcjs.encodeMetaDelete.call(void 0, p.routed, { invalidate: true, ttl: staleTtl });
function invalidatedOf(reply, server) {
  if (reply.code === "HD") return true;
  if (reply.code === "NF") return false;
  throw new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply to md: ${reply.code}`, { server });
}
async function counterMeta(core, node, p, cmd, delta, create, scope) {
  return countedOf(await _chunkQQCFO3ILcjs.metaRequest.call(void 0, core, node, counterBytes(p, cmd, delta, create), p.routed, scope), node.server);
}
function counterBytes(p, cmd, delta, create) {
  return _chunkQQCFO3ILcjs.encodeMetaArith.call(void 0, p.routed, { mode: cmd === "incr" ? "I" : "D", delta, vivify: create?.exptime, initial: create?.initial, value: true });
}
function countedOf(reply, server) {
  if (reply.code === "VA" && reply.data !== void 0) return Number(reply.data.toString("latin1"));
  if (reply.code === "NF") return false;
  throw new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply to ma: ${reply.code}`, { server });
}

// src/client/fetch-text.ts
var _crypto = require('crypto');

var log2 = _debug2.default.call(void 0, "memcluster:fetch");
var LOCK_SUFFIX = "~lease";
var LOCK_VALUE = Buffer.from("1");
function lockKeyOf(routed) {
  if (Buffer.byteLength(routed) + LOCK_SUFFIX.length <= 250) return routed + LOCK_SUFFIX;
  return `memcluster${LOCK_SUFFIX}:${_crypto.createHash.call(void 0, "sha1").update(routed).digest("hex")}`;
}
async function fetchText(f) {
  const { p, node } = f;
  const lock = lockKeyOf(p.routed);
  const wait = new LeaseWait(f);
  for (; ; ) {
    const hit = await read(f);
    if (hit) {
      f.stats.hits++;
      return hit;
    }
    const add = _chunkQQCFO3ILcjs.encodeStore.call(void 0, "add", lock, 0, f.o.leaseTtl, LOCK_VALUE);
    const won = storedOf(await f.ask(() => f.core.send(node, add, "store", void 0, lock, f.scope())), node.server);
    if (won) {
      const again = await read(f);
      if (again) {
        release(f, lock);
        f.stats.hits++;
        return again;
      }
      f.stats.leaseWins++;
      log2("%s: lock %s won: loading", node.server, lock);
      const { value, item } = await f.load();
      try {
        const set = _chunkQQCFO3ILcjs.encodeStore.call(void 0, "set", p.routed, item.flags, f.exptime(), item.data);
        storedOf(await f.core.send(node, set, "store", void 0, p.routed, f.scope()), node.server);
      } catch (err) {
        f.stats.fillFailures++;
        log2("%s: fill of %s failed: %s", node.server, p.key, err?.message ?? err);
      }
      release(f, lock);
      return { value };
    }
    if (!await wait.next()) return { timedOut: true };
  }
}
async function read(f) {
  const { p, node } = f;
  const reply = await f.ask(() => f.core.send(node, _chunkQQCFO3ILcjs.encodeGet.call(void 0, "get", [p.routed]), "retrieval", void 0, p.routed, f.scope()));
  if (reply.kind !== "values" || reply.values.length > 1 || reply.values[0] && reply.values[0].key !== p.routed) {
    throw new CacheFailure(new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply to get: ${reply.kind}`, { server: node.server }));
  }
  const v = reply.values[0];
  return v && { value: f.core.decode(v, p.key, node.server) };
}
function release(f, lock) {
  f.core.send(f.node, _chunkQQCFO3ILcjs.encodeDelete.call(void 0, lock), "delete", void 0, lock, f.scope()).catch((err) => {
    log2("%s: releasing lock %s failed (it expires after leaseTtl): %s", f.node.server, lock, err?.message ?? err);
  });
}
function storedOf(reply, server) {
  if (reply.kind === "status" && reply.status === "STORED") return true;
  if (reply.kind === "status" && reply.status === "NOT_STORED") return false;
  throw new CacheFailure(new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply to a store: ${reply.kind === "status" ? reply.status : reply.kind}`, { server }));
}
async function counterText(core, node, p, cmd, delta, create, scope, first) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const reply = attempt === 0 && first ? first : await core.send(node, _chunkQQCFO3ILcjs.encodeArith.call(void 0, cmd, p.routed, delta), "arith", void 0, p.routed, scope);
    if (reply.kind === "number") return Number(reply.value);
    if (reply.kind !== "status" || reply.status !== "NOT_FOUND") throw new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply to ${cmd}: ${reply.kind}`, { server: node.server });
    if (!create) return false;
    const add = _chunkQQCFO3ILcjs.encodeStore.call(void 0, "add", p.routed, 0, create.exptime, Buffer.from(create.initial, "latin1"));
    const stored = await core.send(node, add, "store", void 0, p.routed, scope);
    if (stored.kind === "status" && stored.status === "STORED") return Number(create.initial);
    if (stored.kind !== "status" || stored.status !== "NOT_STORED") throw new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply to add: ${stored.kind}`, { server: node.server });
  }
  return false;
}
async function invalidateText(core, node, p, scope) {
  return deletedOf(await core.send(node, _chunkQQCFO3ILcjs.encodeDelete.call(void 0, p.routed), "delete", void 0, p.routed, scope), node.server);
}
function deletedOf(reply, server) {
  if (reply.kind === "status" && reply.status === "DELETED") return true;
  if (reply.kind === "status" && reply.status === "NOT_FOUND") return false;
  throw new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply to delete: ${reply.kind}`, { server });
}

// src/client/fetch.ts
var log3 = _debug2.default.call(void 0, "memcluster:fetch");
var FIRST_BACKOFF_MS = 10;
var MAX_BACKOFF_MS = 100;
var LeaseWait = class {
  constructor(f) {
    this.f = f;
  }
  f;
  started;
  delay = FIRST_BACKOFF_MS;
  /** Sleeps before the next ask; false once `waitMs` has passed (the caller then times out). */
  async next() {
    const t = _chunkQQCFO3ILcjs.now.call(void 0, );
    if (this.started === void 0) {
      this.started = t;
      this.f.stats.waits++;
    }
    const left = this.f.o.waitMs - (t - this.started);
    if (left <= 0) return false;
    await _promises.setTimeout.call(void 0, Math.min(this.delay, left));
    this.delay = Math.min(this.delay * 2, MAX_BACKOFF_MS);
    return true;
  }
};
var CacheFailure = class {
  constructor(reason) {
    this.reason = reason;
  }
  reason;
};
var CALLER_CODES = /* @__PURE__ */ new Set(["MC_ERR_ABORTED", "MC_ERR_CLOSED", "MC_ERR_INVALID_KEY", "MC_ERR_INVALID_VALUE", "MC_ERR_INVALID_ARGUMENT", "MC_ERR_INVALID_OPTION", "MC_ERR_DECODE", "MC_ERR_NO_SERVERS"]);
var Flight = class {
  constructor(core, p, node, loader, o, stats, hooks) {
    this.core = core;
    this.p = p;
    this.node = node;
    this.loader = loader;
    this.o = o;
    this.stats = stats;
    this.hooks = hooks;
  }
  core;
  p;
  node;
  loader;
  o;
  stats;
  hooks;
  /** A fresh deadline for one round trip (`timeoutMs` bounds each, not the wait or the loader). */
  scope() {
    return { deadline: _chunkQQCFO3ILcjs.now.call(void 0, ) + this.o.timeoutMs, cancel: void 0 };
  }
  /** A cache round trip: a cache-side failure becomes `CacheFailure`; the caller's own errors pass. */
  async ask(request) {
    try {
      return await request();
    } catch (err) {
      if (err instanceof _chunkQQCFO3ILcjs.MemclusterError && !CALLER_CODES.has(err.code)) throw new CacheFailure(err);
      throw err;
    }
  }
  /**
   * Runs the loader once. Returns the item to store and the value as the serializer reads it back,
   * so every caller gets the same value whoever loaded it (the winner, a waiter, a fallback).
   */
  async load() {
    this.stats.loads++;
    const raw = await this.loader(this.p.key);
    if (raw === void 0) throw new (0, _chunkQQCFO3ILcjs.InvalidValueError)(`fetch loader returned undefined for key ${this.p.key}: return null (or any storable value) to cache a "not found"`);
    const item = _chunkQQCFO3ILcjs.encodeValue.call(void 0, this.core.opts.serializer, raw, this.p.key, this.core.opts.maxValueBytes);
    return { value: this.core.decode({ key: this.p.routed, flags: item.flags, data: item.data, cas: void 0 }, this.p.key, this.node.server), item };
  }
  /** The exptime of a fill, computed when it is sent (a TTL over 30 days is an absolute time). */
  exptime() {
    return _chunkQQCFO3ILcjs.toExptime.call(void 0, this.o.ttl);
  }
  /** A background reload failed: never an unhandled rejection, always a log line, a counter and an event. */
  refreshFailed(err) {
    this.stats.refreshFailures++;
    log3("%s: background reload of %s failed: %s", this.node.server, this.p.key, err?.message ?? err);
    this.hooks.refreshFailed(this.node.server, err);
  }
};
var Fetcher = class {
  constructor(core, hooks) {
    this.core = core;
    this.hooks = hooks;
  }
  core;
  hooks;
  stats = {
    flights: 0,
    hits: 0,
    loads: 0,
    leaseWins: 0,
    waits: 0,
    waitTimeouts: 0,
    refreshes: 0,
    refreshFailures: 0,
    fillsVoided: 0,
    fillFailures: 0,
    fallbacks: 0
  };
  /** Flights by routed key, each joinable until its lease would have expired (`until`, monotonic ms). */
  flights = /* @__PURE__ */ new Map();
  direct = /* @__PURE__ */ new Map();
  /** See `Client.fetch`. */
  async fetch(key, loader, options = {}) {
    const o = resolveFetchOptions(options, this.core.opts.timeoutMs);
    if (typeof loader !== "function") throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`fetch needs a loader function, got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, loader)}`);
    const p = this.core.prepare(key);
    const node = this.core.cluster.nodeFor(p.routed);
    const f = new Flight(this.core, p, node, loader, o, this.stats, this.hooks);
    const joined = this.flights.get(p.routed);
    const left = joined ? joined.until - _chunkQQCFO3ILcjs.now.call(void 0, ) : 0;
    let out;
    if (joined && left > 0) {
      out = await untilAborted(within(joined.flight, left), options.signal);
      if ("timedOut" in out) out = void 0;
    }
    out ??= await untilAborted(this.start(f), options.signal);
    if ("value" in out) return out.value;
    if (o.onWaitTimeout === "load") return await untilAborted(this.loadDirect(f), options.signal);
    throw new (0, _chunkQQCFO3ILcjs.LeaseWaitTimeoutError)(`another caller holds the lease for ${_chunkQQCFO3ILcjs.describeValue.call(void 0, p.key, 60)} and its value did not arrive within waitMs (${o.waitMs} ms)`, { server: node.server });
  }
  /** A new flight for the key, joinable by later calls until its lease would have expired. */
  start(f) {
    const flight = this.fly(f);
    const mine = { flight, until: _chunkQQCFO3ILcjs.now.call(void 0, ) + f.o.leaseTtl * 1e3 };
    this.flights.set(f.p.routed, mine);
    flight.then(() => void 0, () => void 0).finally(() => {
      if (this.flights.get(f.p.routed) === mine) this.flights.delete(f.p.routed);
    });
    return flight;
  }
  /** One flight: learn the server's protocol, then the lease (meta) or lock (text) path. */
  async fly(f) {
    this.stats.flights++;
    try {
      const meta = await f.ask(() => _chunkQQCFO3ILcjs.protocolOf.call(void 0, f.core, f.node, f.scope()));
      const out = await (meta ? fetchMeta(f) : fetchText(f));
      if ("timedOut" in out) this.stats.waitTimeouts++;
      return out;
    } catch (err) {
      if (!(err instanceof CacheFailure)) throw err;
      this.stats.fallbacks++;
      log3("%s: cache unavailable for %s (%s): loading directly, nothing stored", f.node.server, f.p.key, err.reason.detail);
      this.hooks.fallback(f.node.server, err.reason);
      return { value: await this.loadDirect(f) };
    }
  }
  /** The loader without the cache (fallback, or a wait that ran out with `onWaitTimeout: 'load'`): single flight per process. */
  loadDirect(f) {
    let load = this.direct.get(f.p.routed);
    if (!load) {
      load = f.load().then((r) => r.value);
      this.direct.set(f.p.routed, load);
      const mine = load;
      load.then(() => void 0, () => void 0).finally(() => {
        if (this.direct.get(f.p.routed) === mine) this.direct.delete(f.p.routed);
      });
    }
    return load;
  }
};
var FETCH_OPTIONS = /* @__PURE__ */ new Set(["ttl", "leaseTtl", "waitMs", "recacheWithin", "onWaitTimeout", "signal", "timeoutMs"]);
var DEFAULT_LEASE_TTL = 30;
var DEFAULT_WAIT_MS = 2e3;
var MAX_MS2 = 2 ** 31 - 1;
function resolveFetchOptions(options, clientTimeoutMs) {
  if (options === null || typeof options !== "object") throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`fetch options must be an object, got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, options)}`);
  for (const k of Object.keys(options)) {
    if (!FETCH_OPTIONS.has(k)) throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`unknown fetch option ${_chunkQQCFO3ILcjs.describeValue.call(void 0, k, 60)} (options: ${[...FETCH_OPTIONS].join(", ")})`);
  }
  scopeOf(options, clientTimeoutMs, FETCH_OPTIONS).cancel?.done();
  _chunkQQCFO3ILcjs.toExptime.call(void 0, options.ttl);
  const seconds = (name, v, min) => {
    if (v === void 0) return void 0;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > _chunkQQCFO3ILcjs.MAX_RELATIVE_TTL) {
      throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`${name} must be a whole number of seconds from ${min} to ${_chunkQQCFO3ILcjs.MAX_RELATIVE_TTL}, got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, v)}`);
    }
    return v;
  };
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  if (typeof waitMs !== "number" || !Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > MAX_MS2) {
    throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`waitMs must be an integer from 0 to ${MAX_MS2}, got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, waitMs)}`);
  }
  const onWaitTimeout = options.onWaitTimeout ?? "error";
  if (onWaitTimeout !== "error" && onWaitTimeout !== "load") throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`onWaitTimeout must be 'error' or 'load', got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, onWaitTimeout)}`);
  return {
    ttl: options.ttl ?? 0,
    leaseTtl: seconds("leaseTtl", options.leaseTtl, 1) ?? DEFAULT_LEASE_TTL,
    waitMs,
    recacheWithin: seconds("recacheWithin", options.recacheWithin, 1),
    onWaitTimeout,
    timeoutMs: options.timeoutMs ?? clientTimeoutMs
  };
}
function within(flight, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ timedOut: true }), ms);
    flight.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      }
    );
  });
}
function untilAborted(p, signal) {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortError2(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError2(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      }
    );
  });
}
function abortError2(signal) {
  const r = signal.reason;
  const why = r instanceof Error ? `: ${r.message}` : typeof r === "string" ? `: ${r}` : "";
  return new (0, _chunkQQCFO3ILcjs.AbortError)(`the call was aborted${why}`, { cause: r });
}
async function invalidate(core, p, staleTtl, scope) {
  const node = core.cluster.nodeFor(p.routed);
  const meta = node.meta;
  if (meta !== void 0) return meta ? invalidateMeta(core, node, p, staleTtl, scope) : invalidateText(core, node, p, scope);
  const reply = await core.sendEither(node, { bytes: _chunkQQCFO3ILcjs.encodeDelete.call(void 0, p.routed), kind: "delete" }, { bytes: invalidateBytes(p, staleTtl), kind: "meta" }, p.routed, scope);
  return reply.kind === "meta" ? invalidatedOf(reply, node.server) : deletedOf(reply, node.server);
}
var MAX_UINT64 = 2n ** 64n - 1n;
function createOf(options) {
  if (options === void 0 || options === null || options.initial === void 0 && options.ttl === void 0) return void 0;
  const initial = options.initial ?? 0;
  const ok = typeof initial === "number" && Number.isSafeInteger(initial) && initial >= 0 || typeof initial === "bigint" && initial >= 0n && initial <= MAX_UINT64;
  if (!ok) throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`initial must be an integer from 0 to 2^64-1, got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, initial)}`);
  return { initial: String(initial), exptime: _chunkQQCFO3ILcjs.toExptime.call(void 0, options.ttl) };
}
async function counter(core, cmd, p, delta, create, scope) {
  const node = core.cluster.nodeFor(p.routed);
  const meta = node.meta;
  if (meta !== void 0) return meta ? counterMeta(core, node, p, cmd, delta, create, scope) : counterText(core, node, p, cmd, delta, create, scope);
  const first = await core.sendEither(node, { bytes: _chunkQQCFO3ILcjs.encodeArith.call(void 0, cmd, p.routed, delta), kind: "arith" }, { bytes: counterBytes(p, cmd, delta, create), kind: "meta" }, p.routed, scope);
  return first.kind === "meta" ? countedOf(first, node.server) : counterText(core, node, p, cmd, delta, create, scope, first);
}

// src/client/multi-write.ts
var WINDOW = 1024;
var META_WINDOW = 4096;
async function setMulti(core, entries, exptime, scope) {
  if (entries === null || typeof entries?.[Symbol.iterator] !== "function") {
    throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`setMulti takes [key, value] pairs (a Map or an array of pairs), got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, entries)}`);
  }
  const deadline = scope?.deadline ?? _chunkQQCFO3ILcjs.now.call(void 0, ) + core.opts.timeoutMs;
  const jobs = /* @__PURE__ */ new Map();
  const slice = _chunkQQCFO3ILcjs.makeSlicer.call(void 0, );
  let i = 0;
  for (const entry of entries) {
    const pause = slice(i++);
    if (pause) {
      await pause;
      _chunkQQCFO3ILcjs.goOn.call(void 0, scope?.cancel, core.closed, deadline);
    }
    if (!Array.isArray(entry) || entry.length < 2) throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)("setMulti takes [key, value] pairs (a Map or an array of pairs)");
    const [key, value] = entry;
    const p = core.prepare(key);
    jobs.set(key, { key, routed: p.routed, item: _chunkQQCFO3ILcjs.encodeItem.call(void 0, core.opts.serializer, value, key, core.opts.maxValueBytes) });
  }
  return writeAll(core, [...jobs.values()], "set", exptime, deadline, scope);
}
async function deleteMulti(core, keys, scope) {
  if (!Array.isArray(keys)) throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)("keys must be an array of strings");
  const deadline = scope?.deadline ?? _chunkQQCFO3ILcjs.now.call(void 0, ) + core.opts.timeoutMs;
  const seen = /* @__PURE__ */ new Set();
  const jobs = [];
  const slice = _chunkQQCFO3ILcjs.makeSlicer.call(void 0, );
  for (let i = 0; i < keys.length; i++) {
    const pause = slice(i);
    if (pause) {
      await pause;
      _chunkQQCFO3ILcjs.goOn.call(void 0, scope?.cancel, core.closed, deadline);
    }
    const key = keys[i];
    const routed = core.routedKey(key);
    const before = seen.size;
    seen.add(key);
    if (seen.size !== before) jobs.push({ key, routed, item: void 0 });
  }
  return writeAll(core, jobs, "delete", 0, deadline, scope);
}
var TEXT_RESULT = { STORED: true, NOT_STORED: false, EXISTS: false, NOT_FOUND: false, DELETED: true };
var TextWrite = class {
  constructor(bytes, kind, deadline, key, cancel, callerKey, server, sink) {
    this.bytes = bytes;
    this.kind = kind;
    this.deadline = deadline;
    this.key = key;
    this.cancel = cancel;
    this.callerKey = callerKey;
    this.server = server;
    this.sink = sink;
  }
  bytes;
  kind;
  deadline;
  key;
  cancel;
  callerKey;
  server;
  sink;
  keys = void 0;
  maxValues = void 0;
  replyKeys = void 0;
  verify = void 0;
  read = void 0;
  resolve(reply) {
    const s = this.sink;
    if (reply.kind === "status" && reply.status in TEXT_RESULT) s.results.set(this.callerKey, TEXT_RESULT[reply.status]);
    else s.errors.set(this.callerKey, new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply to ${s.what}: ${reply.kind}`, { server: this.server }));
    s.settle();
  }
  reject(err) {
    this.sink.errors.set(this.callerKey, err);
    this.sink.settle();
  }
};
async function writeAll(core, jobs, what, exptime, deadline, scope) {
  if (core.closed) throw new (0, _chunkQQCFO3ILcjs.ClientClosedError)();
  const hold = core.cluster.hold(deadline);
  try {
    return await writeRouted(core, jobs, what, exptime, deadline, scope);
  } finally {
    hold.release();
  }
}
async function writeRouted(core, jobs, what, exptime, deadline, scope) {
  const cancel = scope?.cancel;
  const results = /* @__PURE__ */ new Map();
  const errors = /* @__PURE__ */ new Map();
  const text = [];
  const meta = [];
  const open = /* @__PURE__ */ new Map();
  const slice = _chunkQQCFO3ILcjs.makeSlicer.call(void 0, );
  for (let i = 0; i < jobs.length; i++) {
    const pause = slice(i);
    if (pause) await pause;
    const job = jobs[i];
    let node;
    try {
      node = core.cluster.nodeFor(job.routed);
    } catch (err) {
      errors.set(job.key, err);
      continue;
    }
    if (node.meta !== true) {
      text.push({ job, node });
      continue;
    }
    let batch = open.get(node);
    if (!batch) open.set(node, batch = []);
    batch.push(job);
    if (batch.length >= core.opts.maxBatchKeys) {
      meta.push({ jobs: batch, node });
      open.delete(node);
    }
  }
  for (const [node, batch] of open) meta.push({ jobs: batch, node });
  const submit = (node, bytes, keys, verify, maxValues) => new Promise((resolve, reject) => core.submit(node, { bytes, kind: "meta_batch", deadline, resolve, reject, keys, cancel, verify, maxValues }));
  const live = () => _chunkQQCFO3ILcjs.now.call(void 0, ) < deadline && !cancel?.aborted;
  let nextText = 0;
  const textDone = new Promise((done) => {
    let active = 0;
    let pumping = false;
    const settle = () => {
      active--;
      if (!pumping) pump();
    };
    const sink = { results, errors, what, settle };
    const pump = () => {
      pumping = true;
      while (active < WINDOW && nextText < text.length && ((nextText & 63) !== 0 || live())) {
        const { job, node } = text[nextText++];
        active++;
        let bytes;
        try {
          bytes = job.item ? _chunkQQCFO3ILcjs.encodeStore.call(void 0, "set", job.routed, job.item.flags, exptime, job.item.data, job.item.bytes) : _chunkQQCFO3ILcjs.encodeDelete.call(void 0, job.routed);
        } catch (err) {
          errors.set(job.key, err);
          active--;
          continue;
        }
        core.submit(node, new TextWrite(bytes, job.item ? "store" : "delete", deadline, job.routed, cancel, job.key, node.server, sink));
      }
      pumping = false;
      if (active === 0) done();
    };
    pump();
  });
  const oneBatch = async ({ jobs: batch, node }) => {
    try {
      const n = batch.length;
      const reply = await submit(node, _chunkQQCFO3ILcjs.encodeWriteBatch.call(void 0, batch, exptime), batch.map((j) => j.routed), (r) => _chunkQQCFO3ILcjs.verifyWriteBatch.call(void 0, r, n, node.server, what === "set"), n);
      const out = _chunkQQCFO3ILcjs.writeBatchResult.call(void 0, reply, batch, node.server);
      for (let i = 0; i < n; i++) {
        const r = out[i];
        if (typeof r === "boolean") results.set(batch[i].key, r);
        else errors.set(batch[i].key, r);
      }
    } catch (err) {
      for (const job of batch) errors.set(job.key, err);
    }
  };
  let nextMeta = 0;
  const metaWorker = async () => {
    while (nextMeta < meta.length && live()) await oneBatch(meta[nextMeta++]);
  };
  const metaWorkers = Math.max(1, Math.floor(META_WINDOW / core.opts.maxBatchKeys));
  await Promise.all([textDone, ...Array.from({ length: Math.min(metaWorkers, meta.length) }, metaWorker)]);
  cancel?.check();
  if (nextText < text.length || nextMeta < meta.length) {
    const late = _chunkQQCFO3ILcjs.callTimeout.call(void 0, void 0);
    for (; nextText < text.length; nextText++) errors.set(text[nextText].job.key, late);
    for (; nextMeta < meta.length; nextMeta++) for (const job of meta[nextMeta].jobs) errors.set(job.key, late);
  }
  if (errors.size > 0) throw _chunkQQCFO3ILcjs.partialFailure.call(void 0, what, jobs.length, results, errors);
  return results;
}

// src/client/multi.ts
async function getMulti(core, keys, cmd, exptime, scope) {
  const { values, errors } = await getMultiSettled(core, keys, cmd, exptime, scope);
  if (errors.size > 0) throw _chunkQQCFO3ILcjs.partialFailure.call(void 0, cmd, new Set(keys).size, values, errors);
  return values;
}
async function getMultiSettled(core, keys, cmd, exptime, scope) {
  if (!Array.isArray(keys)) throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)("keys must be an array of strings");
  if (core.closed) throw new (0, _chunkQQCFO3ILcjs.ClientClosedError)();
  const deadline = scope?.deadline ?? _chunkQQCFO3ILcjs.now.call(void 0, ) + core.opts.timeoutMs;
  const values = /* @__PURE__ */ new Map();
  const errors = /* @__PURE__ */ new Map();
  if (keys.length === 0) return { values, errors };
  const prefixed = core.opts.keyPrefix !== "";
  const callerOf = prefixed ? /* @__PURE__ */ new Map() : void 0;
  const seen = prefixed ? void 0 : /* @__PURE__ */ new Set();
  const routed = [];
  const bytes = [];
  const slice = _chunkQQCFO3ILcjs.makeSlicer.call(void 0, );
  for (let i = 0; i < keys.length; i++) {
    const pause = slice(i);
    if (pause) {
      await pause;
      _chunkQQCFO3ILcjs.goOn.call(void 0, scope?.cancel, core.closed, deadline);
    }
    const key = keys[i];
    if (seen) {
      const n = _chunkQQCFO3ILcjs.validateKey.call(void 0, key);
      const before = seen.size;
      seen.add(key);
      if (seen.size === before) continue;
      routed.push(key);
      bytes.push(n);
    } else {
      const p = core.prepare(key);
      if (callerOf.has(p.routed)) continue;
      callerOf.set(p.routed, key);
      routed.push(p.routed);
      bytes.push(p.bytes);
    }
  }
  const withCas = cmd === "gets" || cmd === "gats";
  const writer = new (0, _chunkQQCFO3ILcjs.BatchWriter)(cmd, exptime, core.opts, (server, batch, hits, err) => {
    if (!hits) {
      for (const k of batch) errors.set(callerOf ? callerOf.get(k) : k, err);
      return;
    }
    for (let j = 0; j < hits.length; j++) {
      const v = hits[j];
      const key = callerOf ? callerOf.get(v.key) : v.key;
      try {
        const value = core.decode(v, key, server);
        if (!withCas) values.set(key, value);
        else if (v.cas === void 0) throw new (0, _chunkQQCFO3ILcjs.ProtocolError)(`${cmd} reply carried no cas`, { server });
        else values.set(key, { value, cas: v.cas });
      } catch (e) {
        errors.set(key, e);
      }
    }
  }, deadline, scope?.cancel);
  const hold = core.cluster.hold(writer.deadline);
  try {
    const routing = _chunkQQCFO3ILcjs.routeAll.call(void 0, core.cluster, writer, routed, bytes, (k, err) => errors.set(callerOf ? callerOf.get(k) : k, err));
    if (routing) await routing;
    await writer.finish();
  } finally {
    hold.release();
  }
  scope?.cancel?.check();
  return { values, errors };
}

// src/client/admin.ts
async function flushAll(core, delay, scope) {
  await everyServer(core, _chunkQQCFO3ILcjs.encodeFlushAll.call(void 0, delay || void 0), "ok", () => true, scope);
}
function versions(core, scope) {
  return everyServer(core, _chunkQQCFO3ILcjs.encodeVersion.call(void 0, ), "version", (r) => r.kind === "version" ? r.version : void 0, scope);
}
function checkStatsGroup(group) {
  if (group !== void 0 && (typeof group !== "string" || !/^(?:[a-z_]{1,32}|detail (?:on|off|dump)|cachedump \d{1,10} \d{1,10})$/.test(group))) {
    throw new (0, _chunkQQCFO3ILcjs.InvalidArgumentError)(`stats group must be a word like 'items' (or 'cachedump 1 10', 'detail dump'), got ${_chunkQQCFO3ILcjs.describeValue.call(void 0, group)}`);
  }
}
async function statsOf(core, group, scope) {
  const kind = group === "sizes_enable" || group === "sizes_disable" ? "stats_line" : "stats";
  const perServer = await everyServer(core, _chunkQQCFO3ILcjs.encodeStats.call(void 0, group), kind, statsRecord, scope);
  return group === "reset" || group === "detail on" || group === "detail off" ? true : perServer;
}
async function everyServer(core, bytes, kind, pick, scope) {
  if (core.closed) throw new (0, _chunkQQCFO3ILcjs.ClientClosedError)();
  const values = /* @__PURE__ */ new Map();
  const errors = /* @__PURE__ */ new Map();
  await Promise.all(core.cluster.all().map(async (node) => {
    try {
      const reply = await core.send(node, bytes, kind, void 0, void 0, scope);
      const r = pick(reply);
      if (r === void 0) throw new (0, _chunkQQCFO3ILcjs.ProtocolError)(`unexpected reply ${reply.kind}`, { server: node.server });
      values.set(node.server, r);
    } catch (err) {
      errors.set(node.server, err);
    }
  }));
  if (errors.size > 0) throw new (0, _chunkQQCFO3ILcjs.PartialFailureError)(`${errors.size} of ${errors.size + values.size} servers failed`, values, errors);
  return values;
}
function statsRecord(reply) {
  if (reply.kind !== "stats") return void 0;
  const out = {};
  for (const [name, value] of reply.stats) out[name] = value;
  for (const line of reply.lines) {
    const m = /^\S+ (\S+) ?(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

// src/client/events.ts
var _diagnostics_channel = require('diagnostics_channel'); var _diagnostics_channel2 = _interopRequireDefault(_diagnostics_channel);
var channels = {
  serverDown: _diagnostics_channel2.default.channel("memcluster:serverDown"),
  serverUp: _diagnostics_channel2.default.channel("memcluster:serverUp"),
  connectionEvicted: _diagnostics_channel2.default.channel("memcluster:connectionEvicted"),
  fetchFallback: _diagnostics_channel2.default.channel("memcluster:fetchFallback"),
  fetchRefreshFailed: _diagnostics_channel2.default.channel("memcluster:fetchRefreshFailed")
};
function publishEvent(emitter, event, payload) {
  const ch = channels[event];
  if (ch.hasSubscribers) ch.publish(payload);
  try {
    emitter.emit.call(emitter, event, payload);
  } catch (err) {
    if (emitter.listenerCount("error") === 0) return;
    try {
      emitter.emit("error", new (0, _chunkQQCFO3ILcjs.MemclusterError)("MC_ERR_LISTENER", `a '${event}' listener threw: ${_chunkQQCFO3ILcjs.describeValue.call(void 0, err?.message ?? err)}`, { server: payload.server, cause: err }));
    } catch {
    }
  }
}

// src/client/client.ts
var log4 = _debug2.default.call(void 0, "memcluster:client");
var Client = class _Client extends _events.EventEmitter {
  core;
  fetcher;
  closing;
  constructor(servers, options = {}) {
    super();
    const opts = _chunkQQCFO3ILcjs.resolveOptions.call(void 0, options);
    const cluster = new (0, _chunkQQCFO3ILcjs.Cluster)(_chunkQQCFO3ILcjs.normalizeServers.call(void 0, servers), opts, {
      onDown: (server, reason, failures) => this.publish("serverDown", { server, reason, failures }),
      onUp: (server, downForMs) => this.publish("serverUp", { server, downForMs }),
      onEvicted: (server, connection, reason) => this.publish("connectionEvicted", { server, connection, reason })
    });
    this.core = new (0, _chunkQQCFO3ILcjs.ClientCore)(opts, cluster);
    this.fetcher = new Fetcher(this.core, {
      fallback: (server, reason) => this.publish("fetchFallback", { server, reason }),
      refreshFailed: (server, reason) => this.publish("fetchRefreshFailed", { server, reason })
    });
  }
  static {
    _chunkQQCFO3ILcjs.traceMethods.call(void 0, _Client.prototype, _chunkQQCFO3ILcjs.CLIENT_CALLS, {
      route: (client, key) => client.core.cluster.nodeFor(client.core.prepare(key).routed).server,
      traceKeys: (client) => client.core.opts.traceKeys
    });
  }
  /** The value, or `undefined` on a miss. */
  get(key, options) {
    let p;
    let node;
    try {
      p = this.core.prepare(key);
      node = this.core.cluster.nodeFor(p.routed);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!hasCallOptions(options)) return this.core.opts.coalesce ? this.core.coalescedGet(p, node) : this.core.getOne(p, node);
    return this.scoped(options, (scope) => this.core.getOne(p, node, scope));
  }
  /** The value and its cas token, or `undefined` on a miss. */
  gets(key, options) {
    return this.scoped(options, (scope) => _chunkQQCFO3ILcjs.retrieveOne.call(void 0, this.core, key, "gets", 0, scope));
  }
  /** Get and touch: the value (its TTL reset to `ttl`), or `undefined` on a miss. */
  async gat(key, ttl, options) {
    const exptime = _chunkQQCFO3ILcjs.toExptime.call(void 0, ttl);
    return await this.scoped(options, (scope) => _chunkQQCFO3ILcjs.retrieveOne.call(void 0, this.core, key, "gat", exptime, scope));
  }
  /** Get and touch with the cas token. */
  async gats(key, ttl, options) {
    const exptime = _chunkQQCFO3ILcjs.toExptime.call(void 0, ttl);
    return await this.scoped(options, (scope) => _chunkQQCFO3ILcjs.retrieveOne.call(void 0, this.core, key, "gats", exptime, scope));
  }
  /** Stores unconditionally. Resolves `true`; a refusal (SERVER_ERROR, e.g. out of memory) rejects. */
  set(key, value, options) {
    return this.store("set", key, value, options);
  }
  /** Stores only if the key is absent: `false` when it exists. */
  add(key, value, options) {
    return this.store("add", key, value, options);
  }
  /** Stores only if the key exists: `false` when it is absent. */
  replace(key, value, options) {
    return this.store("replace", key, value, options);
  }
  /** Appends bytes to an existing item (its flags are kept): `false` when absent. */
  append(key, value, options) {
    return this.store("append", key, value, options);
  }
  /** Prepends bytes to an existing item: `false` when absent. */
  prepend(key, value, options) {
    return this.store("prepend", key, value, options);
  }
  /** Stores only if the item is unchanged since `gets` returned `cas`: `false` when it changed (EXISTS) or is gone (NOT_FOUND). */
  async cas(key, value, cas, options) {
    _chunkQQCFO3ILcjs.checkCas.call(void 0, cas);
    const p = this.core.prepare(key);
    const exptime = _chunkQQCFO3ILcjs.toExptime.call(void 0, options?.ttl);
    const item = _chunkQQCFO3ILcjs.encodeItem.call(void 0, this.core.opts.serializer, value, key, this.core.opts.maxValueBytes);
    const bytes = _chunkQQCFO3ILcjs.encodeCas.call(void 0, p.routed, item.flags, exptime, item.data, cas, item.bytes);
    return this.scoped(options, async (scope) => _chunkQQCFO3ILcjs.statusOf.call(void 0, await this.sendFor(p.routed, bytes, "store", scope), _chunkQQCFO3ILcjs.STORE_OK), STORE_OPTIONS);
  }
  /**
   * Adds `delta` to a decimal counter: the new value, or `false` when the key is absent. With
   * `initial` and/or `ttl`, a missing counter is created holding `initial` (returned as is) that lives
   * `ttl` seconds: one `ma` round trip on meta servers; `incr`, `add`, `incr` on text (not atomic).
   */
  incr(key, delta = 1, options) {
    return this.arith("incr", key, delta, options);
  }
  /** Subtracts `delta` (memcached stops at 0): the new value, or `false` when the key is absent. Options as `incr`. */
  decr(key, delta = 1, options) {
    return this.arith("decr", key, delta, options);
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
  fetch(key, loader, options) {
    return this.fetcher.fetch(key, loader, options);
  }
  /**
   * Marks an item stale (`md <key> I T<staleTtl>` on meta servers): `fetch` keeps serving it while one
   * caller reloads it, and `get` reads it as a miss. On text servers a plain delete. `true` when the
   * item existed, `false` when absent.
   */
  async invalidate(key, options) {
    const p = this.core.prepare(key);
    const staleTtl = options?.staleTtl === void 0 ? void 0 : _chunkQQCFO3ILcjs.toExptime.call(void 0, options.staleTtl, "staleTtl");
    return this.scoped(options, (scope) => invalidate(this.core, p, staleTtl, scope), INVALIDATE_OPTIONS);
  }
  /** Counters of this client's `fetch` calls: hits, loads, waits, fallbacks, background reloads... */
  fetchStats() {
    return { ...this.fetcher.stats };
  }
  /** `true` when deleted, `false` when absent. */
  async delete(key, options) {
    const p = this.core.prepare(key);
    return this.scoped(options, async (scope) => _chunkQQCFO3ILcjs.statusOf.call(void 0, await this.sendFor(p.routed, _chunkQQCFO3ILcjs.encodeDelete.call(void 0, p.routed), "delete", scope), { DELETED: true, NOT_FOUND: false }));
  }
  /** Resets the TTL: `true` when touched, `false` when absent. */
  async touch(key, ttl, options) {
    const p = this.core.prepare(key);
    const exptime = _chunkQQCFO3ILcjs.toExptime.call(void 0, ttl);
    return this.scoped(options, async (scope) => _chunkQQCFO3ILcjs.statusOf.call(void 0, await this.sendFor(p.routed, _chunkQQCFO3ILcjs.encodeTouch.call(void 0, p.routed, exptime), "touch", scope), { TOUCHED: true, NOT_FOUND: false }));
  }
  /** Many keys, batched per server: a `Map` of hits (misses absent). Rejects with `PartialFailureError` if any server failed. */
  getMulti(keys, options) {
    return this.scoped(options, (scope) => getMulti(this.core, keys, "get", 0, scope));
  }
  /** Like `getMulti`, but resolves with the hits and the per-key errors, for callers who serve partial results. */
  getMultiSettled(keys, options) {
    return this.scoped(options, (scope) => getMultiSettled(this.core, keys, "get", 0, scope));
  }
  /** `gets` for many keys. */
  getsMulti(keys, options) {
    return this.scoped(options, (scope) => getMulti(this.core, keys, "gets", 0, scope));
  }
  /** `gat` for many keys (lines kept under memcached's 2 KB limit for non-get commands). */
  async gatMulti(keys, ttl, options) {
    const exptime = _chunkQQCFO3ILcjs.toExptime.call(void 0, ttl);
    return this.scoped(options, (scope) => getMulti(this.core, keys, "gat", exptime, scope));
  }
  /** `gats` for many keys. */
  async gatsMulti(keys, ttl, options) {
    const exptime = _chunkQQCFO3ILcjs.toExptime.call(void 0, ttl);
    return this.scoped(options, (scope) => getMulti(this.core, keys, "gats", exptime, scope));
  }
  /**
   * Stores many items, pipelined per server: per-key `true`/`false`. A key given twice is stored once,
   * with its last value. Rejects with `PartialFailureError` if any failed.
   */
  async setMulti(entries, options) {
    const exptime = _chunkQQCFO3ILcjs.toExptime.call(void 0, options?.ttl);
    return this.scoped(options, (scope) => setMulti(this.core, entries, exptime, scope), STORE_OPTIONS);
  }
  /** Deletes many keys, pipelined per server: per-key `true` (deleted) / `false` (absent); a key given twice is deleted once. */
  deleteMulti(keys, options) {
    return this.scoped(options, (scope) => deleteMulti(this.core, keys, scope));
  }
  /** Invalidates every item on every server (after `delaySeconds`). Rejects with `PartialFailureError` naming failed servers. */
  async flush(delaySeconds = 0, options) {
    const delay = _chunkQQCFO3ILcjs.toExptime.call(void 0, delaySeconds, "delaySeconds");
    await this.scoped(options, (scope) => flushAll(this.core, delay, scope));
  }
  /** Each server's version, by server (`host:port`). */
  version(options) {
    return this.scoped(options, (scope) => versions(this.core, scope));
  }
  async stats(group, options) {
    checkStatsGroup(group);
    return this.scoped(options, (scope) => statsOf(this.core, group, scope));
  }
  /** The prefix every key is stored under (option `keyPrefix`; '' when none). */
  get keyPrefix() {
    return this.core.opts.keyPrefix;
  }
  /** The client's own view of each server: health, pool sizes, queue, failures, validation figures. */
  serverStats() {
    return this.core.cluster.all().map((n) => n.stats());
  }
  /** Adds a server at run time (same location forms as the constructor). */
  addServer(location, weight) {
    if (this.core.closed) throw new (0, _chunkQQCFO3ILcjs.ClientClosedError)();
    this.core.cluster.add(_chunkQQCFO3ILcjs.normalizeLocation.call(void 0, location), weight);
  }
  /** Removes a server at run time; its in-flight requests finish, then its sockets close. */
  removeServer(location) {
    if (this.core.closed) return Promise.reject(new (0, _chunkQQCFO3ILcjs.ClientClosedError)());
    return this.core.cluster.remove(_chunkQQCFO3ILcjs.normalizeLocation.call(void 0, location));
  }
  /**
   * Replaces a server by another in one step (e.g. a failed host by a new one): the ring becomes
   * exactly the ring of the new server list, so this client routes like one built with that list,
   * and only the keys the ring moves change server. The old server's in-flight requests finish.
   */
  async replaceServer(from, to, weight) {
    if (this.core.closed) throw new (0, _chunkQQCFO3ILcjs.ClientClosedError)();
    if (!this.core.cluster.has(_chunkQQCFO3ILcjs.normalizeLocation.call(void 0, from))) throw new (0, _chunkQQCFO3ILcjs.InvalidOptionError)(`server ${_chunkQQCFO3ILcjs.describeValue.call(void 0, from)} is not in the cluster`);
    this.addServer(to, weight);
    await this.core.cluster.remove(_chunkQQCFO3ILcjs.normalizeLocation.call(void 0, from));
  }
  /** `await using mc = new Client(...)` closes the client at the end of the block. */
  [Symbol.asyncDispose]() {
    return this.close();
  }
  /** Refuses new calls, lets in-flight ones settle (each within its timeout), closes every socket and timer. */
  close() {
    if (!this.closing) {
      this.core.closed = true;
      log4("closing");
      this.closing = this.core.cluster.close();
    }
    return this.closing;
  }
  /** Runs a call in the scope its options make (see `scoped` in call.ts). */
  scoped(options, fn, names) {
    return scoped(options, this.core.opts.timeoutMs, fn, names);
  }
  store(cmd, key, value, options) {
    let routed;
    let bytes;
    let node;
    try {
      routed = this.core.routedKey(key);
      bytes = _chunkQQCFO3ILcjs.storeBytes.call(void 0, this.core, cmd, key, routed, value, options?.ttl);
      node = this.core.cluster.nodeFor(routed);
    } catch (err) {
      return Promise.reject(err);
    }
    const names = cmd === "append" || cmd === "prepend" ? void 0 : STORE_OPTIONS;
    if (!hasCallOptions(options, names)) return this.core.sendMapped(node, bytes, "store", _chunkQQCFO3ILcjs.storeResult, void 0, routed);
    return this.scoped(options, (scope) => this.core.sendMapped(node, bytes, "store", _chunkQQCFO3ILcjs.storeResult, void 0, routed, scope), names);
  }
  async arith(cmd, key, delta, options) {
    const p = this.core.prepare(key);
    _chunkQQCFO3ILcjs.checkDelta.call(void 0, cmd, delta);
    const create = createOf(options);
    if (create) return this.scoped(options, (scope) => counter(this.core, cmd, p, String(delta), create, scope), COUNTER_OPTIONS);
    const bytes = _chunkQQCFO3ILcjs.encodeArith.call(void 0, cmd, p.routed, String(delta));
    return this.scoped(options, async (scope) => {
      const reply = await this.sendFor(p.routed, bytes, "arith", scope);
      if (reply.kind === "number") return Number(reply.value);
      return _chunkQQCFO3ILcjs.statusOf.call(void 0, reply, { NOT_FOUND: false });
    }, COUNTER_OPTIONS);
  }
  sendFor(routed, bytes, kind, scope) {
    return this.core.send(this.core.cluster.nodeFor(routed), bytes, kind, void 0, routed, scope);
  }
  publish(event, payload) {
    publishEvent(this, event, payload);
  }
};



exports.Client = Client;

//# sourceMappingURL=chunk-7D2N547M.cjs.map

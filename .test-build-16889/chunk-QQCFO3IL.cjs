"use strict";Object.defineProperty(exports, "__esModule", {value: true}); function _interopRequireDefault(obj) { return obj && obj.__esModule ? obj : { default: obj }; }









var _chunkNYUFQ7A3cjs = require('./chunk-NYUFQ7A3.cjs');

// src/errors.ts
var MemclusterError = class extends Error {
  /** Stable machine-readable code, e.g. `MC_ERR_TIMEOUT`. */
  code;
  /** The server (`host:port`) this error concerns, when there is one. */
  server;
  /** The message without the ` [host:port]` suffix, for nesting in another error's message. */
  detail;
  constructor(code, message, options = {}) {
    super(options.server ? `${message} [${options.server}]` : message, options.cause === void 0 ? void 0 : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.server = options.server;
    this.detail = message;
  }
};
var InvalidKeyError = class extends MemclusterError {
  constructor(message, key) {
    super("MC_ERR_INVALID_KEY", message);
    this.key = key;
  }
  key;
};
var InvalidValueError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_INVALID_VALUE", message, opts);
  }
};
var InvalidArgumentError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_INVALID_ARGUMENT", message, opts);
  }
};
var InvalidOptionError = class extends MemclusterError {
  constructor(message) {
    super("MC_ERR_INVALID_OPTION", message);
  }
};
var ConnectionError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_CONNECTION", message, opts);
  }
};
var ConnectTimeoutError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_CONNECT_TIMEOUT", message, opts);
  }
};
var TimeoutError = class extends MemclusterError {
  /**
   * True when the socket was destroyed because it stalled (no byte from the server for the stall
   * bound with requests outstanding: the server stopped answering); false when only the call's
   * own deadline passed (the socket, if any, stays in service).
   */
  stalled;
  constructor(message, opts = {}) {
    super("MC_ERR_TIMEOUT", message, opts);
    this.stalled = opts.stalled === true;
  }
};
var ValidationFailedError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_VALIDATION", message, opts);
  }
};
var ProtocolError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_PROTOCOL", message, opts);
  }
};
var ClientErrorReply = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_CLIENT_ERROR", message, opts);
  }
};
var ServerErrorReply = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_SERVER_ERROR", message, opts);
  }
};
var TooManyConnectionsError = class extends MemclusterError {
  constructor(opts = {}) {
    super("MC_ERR_TOO_MANY_CONNECTIONS", "server refused the connection: Too many open connections", opts);
  }
};
var ServerUnavailableError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_SERVER_UNAVAILABLE", message, opts);
  }
};
var PoolFullError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_POOL_FULL", message, opts);
  }
};
var AuthenticationError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_AUTH", message, opts);
  }
};
var ClientClosedError = class extends MemclusterError {
  constructor(opts = {}) {
    super("MC_ERR_CLOSED", "client is closed", opts);
  }
};
var NoServersError = class extends MemclusterError {
  constructor() {
    super("MC_ERR_NO_SERVERS", "no servers configured");
  }
};
var PartialFailureError = class extends MemclusterError {
  constructor(message, values, errors) {
    super("MC_ERR_PARTIAL", message, { cause: errors.values().next().value });
    this.values = values;
    this.errors = errors;
  }
  values;
  errors;
};
var DecodeError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_DECODE", message, opts);
  }
};
var AbortError = class extends MemclusterError {
  constructor(message = "the call was aborted", opts = {}) {
    super("MC_ERR_ABORTED", message, opts);
  }
};
var ReplyTooLargeError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_REPLY_TOO_LARGE", message, opts);
  }
};
var LeaseWaitTimeoutError = class extends MemclusterError {
  constructor(message, opts = {}) {
    super("MC_ERR_LEASE_WAIT_TIMEOUT", message, opts);
  }
};

// src/protocol/slices.ts
var native = typeof Buffer.prototype.utf8Slice === "function" && typeof Buffer.prototype.latin1Slice === "function";
var utf8Of = native ? (buf, start, end) => buf.utf8Slice(start, end) : (buf, start, end) => buf.toString("utf8", start, end);
function keyOf(buf, start, end) {
  for (let i = start; i < end; i++) if (buf[i] >= 128) return utf8Of(buf, start, end);
  return latin1Of(buf, start, end);
}
var latin1Of = native ? (buf, start, end) => buf.latin1Slice(start, end) : (buf, start, end) => buf.toString("latin1", start, end);

// src/client/values.ts
var FLAGS = { STRING: 0, JSON: 2, BUFFER: 4, NUMBER: 8 };
var defaultSerializer = {
  serialize(value) {
    switch (typeof value) {
      case "string":
        if (!value.isWellFormed()) throw new TypeError("string holds a lone UTF-16 surrogate (not valid UTF-8)");
        return { data: Buffer.from(value, "utf8"), flags: FLAGS.STRING };
      case "number":
        return { data: Buffer.from(String(value), "latin1"), flags: FLAGS.NUMBER };
      case "boolean":
        return { data: Buffer.from(JSON.stringify(value)), flags: FLAGS.JSON };
      case "object": {
        if (Buffer.isBuffer(value)) return { data: value, flags: FLAGS.BUFFER };
        if (value instanceof Uint8Array) return { data: Buffer.from(value.buffer, value.byteOffset, value.byteLength), flags: FLAGS.BUFFER };
        const text = JSON.stringify(value);
        if (text === void 0) throw new TypeError("value is not JSON-serializable");
        return { data: Buffer.from(text, "utf8"), flags: FLAGS.JSON };
      }
      default:
        throw new TypeError(`cannot store a value of type ${typeof value}`);
    }
  },
  deserialize(data, flags) {
    return decodeRange(data, 0, data.length, flags);
  }
};
function decodeRange(buf, start, end, flags) {
  switch (flags) {
    case FLAGS.JSON:
      return JSON.parse(utf8Of(buf, start, end));
    case FLAGS.BUFFER:
      return Buffer.from(buf.subarray(start, end));
    // a copy: `buf` may be a socket buffer
    case FLAGS.NUMBER:
      return Number(latin1Of(buf, start, end));
    default:
      return utf8Of(buf, start, end);
  }
}
function encodeValue(serializer, value, key, maxValueBytes) {
  if (value === void 0) throw new InvalidValueError(`cannot store undefined (key ${key}); use delete() to remove a key`);
  let out;
  try {
    out = serializer.serialize(value);
  } catch (err) {
    throw new InvalidValueError(`cannot serialize the value for key ${key}: ${err.message}`, { cause: err });
  }
  if (!out || !Buffer.isBuffer(out.data) || !Number.isInteger(out.flags) || out.flags < 0 || out.flags > 4294967295) {
    throw new InvalidValueError(`serializer returned an invalid item for key ${key} (need { data: Buffer, flags: uint32 })`);
  }
  if (out.data.length > maxValueBytes) {
    throw new InvalidValueError(`value for key ${key} is ${out.data.length} bytes, over maxValueBytes (${maxValueBytes}); nothing was written`);
  }
  return out;
}
function encodeItem(serializer, value, key, maxValueBytes) {
  if (typeof value === "string" && serializer === defaultSerializer) return { data: value, bytes: textBytes(value, key, maxValueBytes), flags: FLAGS.STRING };
  const out = encodeValue(serializer, value, key, maxValueBytes);
  return { data: out.data, bytes: out.data.length, flags: out.flags };
}
function decodeHit(serializer, hit, key, server) {
  if (serializer !== defaultSerializer) return decodeValue(serializer, hit.data, hit.flags, key, server);
  try {
    return decodeRange(hit.buf, hit.start, hit.end, hit.flags);
  } catch (err) {
    throw new DecodeError(`cannot decode item ${key} (flags ${hit.flags}, ${hit.end - hit.start} bytes): ${err.message}`, { server, cause: err });
  }
}
function textBytes(value, key, maxValueBytes) {
  if (!value.isWellFormed()) {
    const cause = new TypeError("string holds a lone UTF-16 surrogate (not valid UTF-8)");
    throw new InvalidValueError(`cannot serialize the value for key ${key}: ${cause.message}`, { cause });
  }
  const bytes3 = Buffer.byteLength(value, "utf8");
  if (bytes3 > maxValueBytes) {
    throw new InvalidValueError(`value for key ${key} is ${bytes3} bytes, over maxValueBytes (${maxValueBytes}); nothing was written`);
  }
  return bytes3;
}
function decodeValue(serializer, data, flags, key, server) {
  try {
    return serializer.deserialize(data, flags);
  } catch (err) {
    throw new DecodeError(`cannot decode item ${key} (flags ${flags}, ${data.length} bytes): ${err.message}`, { server, cause: err });
  }
}

// src/client/options.ts
var _net = require('net'); var _net2 = _interopRequireDefault(_net);

// src/protocol/keys.ts
var MAX_KEY_BYTES = 250;
function validateKey(key) {
  if (typeof key !== "string") {
    throw new InvalidKeyError(`key must be a string, got ${describe(key)}`, describe(key));
  }
  const n = key.length;
  if (n === 0) throw new InvalidKeyError("key must not be empty", key);
  if (n > MAX_KEY_BYTES) throw tooLong(key, Buffer.byteLength(key, "utf8"));
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 128) {
      if (c <= 32 || c === 127) throw badByte(key, i, c, ascii);
      continue;
    }
    ascii = false;
    if (c >= 55296 && c <= 57343) {
      const next = i + 1 < n ? key.charCodeAt(i + 1) : 0;
      if (c >= 56320 || next < 56320 || next > 57343) {
        throw new InvalidKeyError(
          `key contains a lone UTF-16 surrogate 0x${c.toString(16)} at character index ${i} (it cannot round-trip through UTF-8)`,
          key
        );
      }
      i++;
    }
  }
  if (ascii) return n;
  const bytes3 = Buffer.byteLength(key, "utf8");
  if (bytes3 > MAX_KEY_BYTES) throw tooLong(key, bytes3);
  return bytes3;
}
function tooLong(key, bytes3) {
  return new InvalidKeyError(`key is ${bytes3} bytes > ${MAX_KEY_BYTES} (UTF-8 bytes, not characters)`, key);
}
function badByte(key, index, byte, asciiSoFar) {
  const byteIndex = asciiSoFar ? index : Buffer.byteLength(key.slice(0, index), "utf8");
  const name = byte === 32 ? "space" : byte === 127 ? "DEL" : "control byte";
  return new InvalidKeyError(
    `key contains forbidden byte 0x${byte.toString(16).padStart(2, "0")} (${name}) at byte index ${byteIndex}`,
    key
  );
}
function describe(value) {
  if (value === null) return "null";
  if (typeof value === "object") return Array.isArray(value) ? "array" : "object";
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value;
}

// src/text.ts
function describeValue(value, max = 80) {
  let text;
  try {
    if (typeof value === "string") text = JSON.stringify(value.length > max ? `${value.slice(0, max)}\u2026` : value);
    else if (typeof value === "bigint") text = `${value}n`;
    else if (typeof value === "symbol" || typeof value === "function") text = typeof value;
    else if (value === null || typeof value !== "object") text = String(value);
    else text = Array.isArray(value) ? `array(${value.length})` : "object";
  } catch {
    text = typeof value;
  }
  return text.length > max + 10 ? `${text.slice(0, max)}\u2026` : text;
}
function serverText(text, max = 200) {
  const clean = text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return clean.length > max ? `${clean.slice(0, max)}\u2026` : clean;
}

// src/client/options.ts
var NO_DEFAULT = ["tls", "auth"];
var DEFAULTS = {
  timeoutMs: 1e3,
  connectTimeoutMs: 500,
  validateTimeoutMs: 250,
  maxConnections: 8,
  minConnections: 0,
  idleTimeoutMs: 3e4,
  maxQueue: 1e4,
  maxPipeline: 128,
  validation: "auto",
  trustRecentMs: 0,
  failureThreshold: 3,
  retryDelayMs: 250,
  maxRetryDelayMs: 1e4,
  failover: false,
  maxValueBytes: 1048e3,
  keyPrefix: "",
  maxBatchKeys: 100,
  maxBatchBytes: 2e3,
  coalesce: true,
  traceKeys: false,
  allowExitOnIdle: false,
  protocol: "auto",
  serializer: defaultSerializer
};
var KNOWN = /* @__PURE__ */ new Set([...Object.keys(DEFAULTS), ...NO_DEFAULT]);
var MAX_MS = 2 ** 31 - 1;
var INTEGER_OPTIONS = [
  ["timeoutMs", 1, MAX_MS],
  ["connectTimeoutMs", 1, MAX_MS],
  ["validateTimeoutMs", 1, MAX_MS],
  ["maxConnections", 1, 1e4],
  ["minConnections", 0, 1e4],
  ["idleTimeoutMs", 0, MAX_MS],
  ["maxQueue", 1, 2 ** 30],
  ["maxPipeline", 1, 1e6],
  ["trustRecentMs", 0, MAX_MS],
  ["failureThreshold", 1, 1e6],
  ["retryDelayMs", 1, MAX_MS],
  ["maxRetryDelayMs", 1, MAX_MS],
  ["maxValueBytes", 0, 2 ** 31 - 1],
  ["maxBatchKeys", 1, 1e6],
  ["maxBatchBytes", 64, 2 ** 31 - 1]
];
function resolveOptions(options = {}) {
  if (options === null || typeof options !== "object") throw new InvalidOptionError(`options must be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) throw new InvalidOptionError(unknownOptionMessage(key));
  const out = { ...DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== void 0) out[k] = v;
  for (const [name, min, max] of INTEGER_OPTIONS) {
    const v = out[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidOptionError(`option ${name} must be an integer from ${min} to ${max}, got ${describeValue(v)}`);
    }
  }
  const r = out;
  if (r.minConnections > r.maxConnections) throw new InvalidOptionError(`option minConnections (${r.minConnections}) exceeds maxConnections (${r.maxConnections})`);
  if (!["auto", "mn", "version"].includes(r.validation)) throw new InvalidOptionError(`option validation must be 'auto', 'mn' or 'version', got ${describeValue(r.validation)}`);
  if (typeof r.failover !== "boolean") throw new InvalidOptionError(`option failover must be a boolean, got ${describeValue(r.failover)}`);
  if (typeof r.coalesce !== "boolean") throw new InvalidOptionError(`option coalesce must be a boolean, got ${describeValue(r.coalesce)}`);
  if (typeof r.traceKeys !== "boolean") throw new InvalidOptionError(`option traceKeys must be a boolean, got ${describeValue(r.traceKeys)}`);
  if (!["auto", "meta", "text"].includes(r.protocol)) throw new InvalidOptionError(`option protocol must be 'auto', 'meta' or 'text', got ${describeValue(r.protocol)}`);
  if (typeof r.allowExitOnIdle !== "boolean") throw new InvalidOptionError(`option allowExitOnIdle must be a boolean, got ${describeValue(r.allowExitOnIdle)}`);
  if (typeof r.keyPrefix !== "string") throw new InvalidOptionError(`option keyPrefix must be a string, got ${describeValue(r.keyPrefix)}`);
  if (r.keyPrefix !== "") {
    let bytes3;
    try {
      bytes3 = validateKey(r.keyPrefix);
    } catch (err) {
      throw new InvalidOptionError(`option keyPrefix ${describeValue(r.keyPrefix, 60)} cannot start a key: ${err.message.replace(/^key /, "")}`);
    }
    if (bytes3 >= MAX_KEY_BYTES) throw new InvalidOptionError(`option keyPrefix is ${bytes3} bytes: a key must be at most ${MAX_KEY_BYTES} bytes with it`);
  }
  const s = r.serializer;
  if (!s || typeof s.serialize !== "function" || typeof s.deserialize !== "function") throw new InvalidOptionError("option serializer must have serialize() and deserialize()");
  if (r.tls === true) r.tls = {};
  else if (r.tls === false || r.tls === void 0) r.tls = void 0;
  else if (typeof r.tls !== "object") throw new InvalidOptionError(`option tls must be true or tls.ConnectionOptions, got ${describeValue(r.tls)}`);
  const auth = r.auth;
  if (auth !== void 0) {
    const a = auth;
    if (typeof a !== "object" || typeof a.username !== "string" || typeof a.password !== "string" || !a.username || /[\s]/.test(a.username) || /[\r\n]/.test(a.password)) {
      throw new InvalidOptionError("option auth must be { username, password } strings (username without spaces, password without CR/LF)");
    }
  }
  return r;
}
var COMPAT = "memcluster/compat takes memcached 2.2.2's options as they are";
var FOREIGN = {
  timeout: `did you mean timeoutMs? (durations are in ms; ${COMPAT})`,
  commandtimeout: "did you mean timeoutMs?",
  requesttimeout: "did you mean timeoutMs?",
  conntimeout: "did you mean connectTimeoutMs?",
  connecttimeout: "did you mean connectTimeoutMs?",
  connectiontimeout: "did you mean connectTimeoutMs?",
  connectiontimeoutmillis: "did you mean connectTimeoutMs?",
  poolsize: `did you mean maxConnections? (sockets per server; ${COMPAT})`,
  maxpoolsize: "did you mean maxConnections? (sockets per server)",
  max: "did you mean maxConnections? (sockets per server)",
  maxsockets: "did you mean maxConnections? (sockets per server)",
  connectionlimit: "did you mean maxConnections? (sockets per server)",
  min: "did you mean minConnections?",
  minpoolsize: "did you mean minConnections?",
  idle: `did you mean idleTimeoutMs? (${COMPAT})`,
  idletimeout: "did you mean idleTimeoutMs?",
  idletimeoutmillis: "did you mean idleTimeoutMs?",
  namespace: `did you mean keyPrefix? (${COMPAT})`,
  prefix: "did you mean keyPrefix?",
  retry: `did you mean retryDelayMs? (first re-probe delay of a down server; ${COMPAT})`,
  retrydelay: "did you mean retryDelayMs?",
  failovertime: "did you mean retryDelayMs? (first re-probe delay of a down server)",
  reconnect: `did you mean maxRetryDelayMs? (${COMPAT})`,
  failures: `did you mean failureThreshold? (${COMPAT})`,
  retries: `memcluster does not retry a failed call (a retried write could apply twice): a server is marked down after failureThreshold failures, and failover: true sends its keys to the next server (${COMPAT})`,
  maxretries: "memcluster does not retry a failed call (a retried write could apply twice); see failureThreshold and failover",
  maxvalue: `did you mean maxValueBytes? (${COMPAT})`,
  maxqueuesize: `did you mean maxQueue? (waiting requests per server; ${COMPAT})`,
  expires: "a TTL is given per call: set(key, value, { ttl })",
  ttl: "a TTL is given per call: set(key, value, { ttl })",
  username: "credentials go in auth: { username, password }",
  password: "credentials go in auth: { username, password }",
  ssl: "did you mean tls?",
  debug: "memcluster logs through the debug module: run with DEBUG=memcluster:*",
  logger: "memcluster logs through the debug module: run with DEBUG=memcluster:*",
  servers: "servers are the first argument: new Client(['host:port', ...], options)"
};
for (const name of ["remove", "failoverservers", "redundancy", "algorithm", "compatibility", "maxexpiration", "maxkeysize", "keycompression", "activequeries", "factor", "mintimeout", "maxtimeout", "randomize", "failurestimeout"]) {
  FOREIGN[name] = `a memcached 2.2.2 option: ${COMPAT}`;
}
var squash = (name) => name.toLowerCase().replace(/[-_]/g, "");
function unknownOptionMessage(key) {
  const name = describeValue(key, 60);
  const sq = squash(key);
  const exact = [...KNOWN].find((k) => squash(k) === sq);
  if (exact) return `unknown option ${name}: did you mean ${exact}?`;
  const foreign = Object.hasOwn(FOREIGN, sq) ? FOREIGN[sq] : void 0;
  if (foreign) return `unknown option ${name}: ${foreign}`;
  const near = key.length >= 5 ? [...KNOWN].find((k) => editDistance(sq, squash(k)) <= 2) : void 0;
  if (near) return `unknown option ${name}: did you mean ${near}?`;
  return `unknown option ${name} (options: ${[...KNOWN].join(", ")})`;
}
function editDistance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
function normalizeServers(servers) {
  if (typeof servers === "string") {
    if (!servers.includes(",")) return normalizeLocation(servers);
    return servers.split(",").map((part, i) => {
      if (part.trim() === "") throw new InvalidOptionError(`servers ${describeValue(servers, 200)} has an empty entry at position ${i + 1}`);
      return normalizeLocation(part.trim());
    });
  }
  if (Array.isArray(servers)) return servers.map((s) => typeof s === "string" ? normalizeLocation(s) : s);
  if (servers !== null && typeof servers === "object") {
    return Object.fromEntries(Object.entries(servers).map(([location, weight]) => [normalizeLocation(location), weight]));
  }
  return servers;
}
function normalizeLocation(location) {
  if (typeof location !== "string" || !/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location;
  const bad = (why) => new InvalidOptionError(`server location ${describeValue(location)} ${why}`);
  if (!/^memcached:\/\//i.test(location)) throw bad("has a scheme other than memcached:// (write 'host:port' or 'memcached://host:port')");
  let url;
  try {
    url = new URL(location);
  } catch {
    throw bad("is not a valid memcached://host[:port] URL");
  }
  if (url.username || url.password) throw bad("carries credentials: pass them as the auth option instead");
  if (url.pathname !== "" && url.pathname !== "/" || url.search || url.hash) throw bad("has a path, query or fragment: only memcached://host[:port] is meaningful");
  if (!url.hostname) throw bad("has no host");
  return url.port ? `${url.hostname}:${url.port}` : url.hostname;
}
var HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/;
function parseAddress(location) {
  if (typeof location !== "string" || location.trim() === "") throw new InvalidOptionError(`server location must be a non-empty string, got ${describeValue(location)}`);
  const bad = (why) => new InvalidOptionError(`server location ${describeValue(location)} is not host[:port]: ${why}`);
  let host = location;
  let port = "11211";
  const v6 = /^\[([^\]]*)\](?::([^:]*))?$/.exec(location);
  if (v6) {
    host = v6[1];
    if (v6[2] !== void 0) port = v6[2];
    if (!_net.isIPv6.call(void 0, host)) throw bad("the part in brackets is not an IPv6 address");
  } else if (location.indexOf(":") !== location.lastIndexOf(":")) {
    if (!_net.isIPv6.call(void 0, location)) {
      throw bad(location.includes(",") || location.includes("://") ? "several servers go in an array or a comma-separated string ('h1:11211,h2:11211'); URLs are memcached://host:port" : "write an IPv6 address with a port as [address]:port");
    }
  } else {
    const i = location.indexOf(":");
    if (i >= 0) {
      host = location.slice(0, i);
      port = location.slice(i + 1);
    }
    if (!HOSTNAME.test(host)) throw bad(`${describeValue(host)} is not a host name or IPv4 address`);
  }
  const n = Number(port);
  if (!/^\d{1,5}$/.test(port) || n < 1 || n > 65535) throw bad(`the port must be a number from 1 to 65535, got ${describeValue(port)}`);
  const label = host.includes(":") ? `[${host}]:${n}` : `${host}:${n}`;
  return { host, port: n, label };
}

// src/protocol/encoder.ts
var STATS_GROUP = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;
function encodeGet(cmd, keys) {
  if (keys.length === 0) throw new InvalidArgumentError(`${cmd} needs at least one key`);
  return `${cmd} ${keys.join(" ")}\r
`;
}
function encodeGat(cmd, exptime, keys) {
  if (keys.length === 0) throw new InvalidArgumentError(`${cmd} needs at least one key`);
  return `${cmd} ${exptime} ${keys.join(" ")}\r
`;
}
function encodeStore(cmd, key, flags, exptime, data, dataBytes) {
  return withData(`${cmd} ${key} ${flags} ${exptime} `, "\r\n", data, dataBytes);
}
function encodeCas(key, flags, exptime, data, cas, dataBytes) {
  return withData(`cas ${key} ${flags} ${exptime} `, ` ${cas}\r
`, data, dataBytes);
}
function encodeArith(cmd, key, delta) {
  return `${cmd} ${key} ${delta}\r
`;
}
function encodeDelete(key) {
  return `delete ${key}\r
`;
}
function encodeTouch(key, exptime) {
  return `touch ${key} ${exptime}\r
`;
}
function encodeFlushAll(delaySeconds) {
  if (delaySeconds === void 0 || delaySeconds === 0) return "flush_all\r\n";
  return `flush_all ${delaySeconds}\r
`;
}
function encodeVersion() {
  return "version\r\n";
}
function encodeStats(group) {
  if (group === void 0 || group === "") return "stats\r\n";
  if (!STATS_GROUP.test(group)) throw new InvalidArgumentError(`invalid stats group ${JSON.stringify(group)}`);
  return `stats ${group}\r
`;
}
function encodeMn() {
  return "mn\r\n";
}
var AUTH_KEY = "memcluster-auth-".padEnd(251, "_");
function encodeAuth(username, password) {
  const data = `${username} ${password}`;
  return `set ${AUTH_KEY} 0 0 ${Buffer.byteLength(data, "utf8")}\r
${data}\r
`;
}
function withData(head, tail, data, dataBytes) {
  if (typeof data === "string") return `${head}${dataBytes ?? Buffer.byteLength(data, "utf8")}${tail}${data}\r
`;
  const header = `${head}${data.length}${tail}`;
  const headerBytes = Buffer.byteLength(header, "utf8");
  const total = headerBytes + data.length + 2;
  const out = Buffer.allocUnsafe(total);
  out.write(header, 0, headerBytes, "utf8");
  data.copy(out, headerBytes);
  out[total - 2] = 13;
  out[total - 1] = 10;
  return out;
}

// src/cluster/ring.ts
var _crypto = require('crypto'); var _crypto2 = _interopRequireDefault(_crypto);
var _hashring = require('hashring'); var _hashring2 = _interopRequireDefault(_hashring);

// src/cluster/md5.ts
var words = new Int32Array(80);
var bytes = new Uint8Array(words.buffer);
var bigWords = new Int32Array(0);
var bigBytes = new Uint8Array(0);
var LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
function md5Word0(key) {
  const n = key.length;
  if (n <= 250) {
    const full = n >> 2;
    let or = 0;
    for (let w = 0, i = 0; w < full; w++, i += 4) {
      const c0 = key.charCodeAt(i);
      const c1 = key.charCodeAt(i + 1);
      const c2 = key.charCodeAt(i + 2);
      const c3 = key.charCodeAt(i + 3);
      or |= c0 | c1 | c2 | c3;
      words[w] = c0 | c1 << 8 | c2 << 16 | c3 << 24;
    }
    let last = 128;
    for (let i = n - 1; i >= full << 2; i--) {
      const c = key.charCodeAt(i);
      or |= c;
      last = last << 8 | c;
    }
    if (or < 128) {
      const end = (n + 8 >>> 6) + 1 << 4;
      words[full] = last;
      for (let w = full + 1; w < end - 2; w++) words[w] = 0;
      words[end - 2] = n << 3;
      words[end - 1] = 0;
      return md5A(words, end);
    }
  }
  return md5Word0Utf8(key);
}
function md5Word0Utf8(key) {
  const encoded = Buffer.from(key, "utf8");
  const n = encoded.length;
  const end = (n + 8 >>> 6) + 1 << 4;
  let x = words;
  if (end > words.length) {
    if (end > bigWords.length) {
      bigWords = new Int32Array(end * 2);
      bigBytes = new Uint8Array(bigWords.buffer);
    }
    x = bigWords;
  }
  const b = x === words ? bytes : bigBytes;
  b.set(encoded);
  b[n] = 128;
  b.fill(0, n + 1, (end << 2) - 8);
  x[end - 2] = n << 3 | 0;
  x[end - 1] = Math.floor(n / 536870912);
  return md5A(x, end);
}
function md5A(x, end) {
  let a0 = 1732584193 | 0;
  let b0 = 4023233417 | 0;
  let c0 = 2562383102 | 0;
  let d0 = 271733878 | 0;
  for (let o = 0; o < end; o += 16) {
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    let t;
    t = x[o] + -680876936 + a + (d ^ b & (c ^ d)) | 0;
    a = b + (t << 7 | t >>> 25) | 0;
    t = x[o + 1] + -389564586 + d + (c ^ a & (b ^ c)) | 0;
    d = a + (t << 12 | t >>> 20) | 0;
    t = x[o + 2] + 606105819 + c + (b ^ d & (a ^ b)) | 0;
    c = d + (t << 17 | t >>> 15) | 0;
    t = x[o + 3] + -1044525330 + b + (a ^ c & (d ^ a)) | 0;
    b = c + (t << 22 | t >>> 10) | 0;
    t = x[o + 4] + -176418897 + a + (d ^ b & (c ^ d)) | 0;
    a = b + (t << 7 | t >>> 25) | 0;
    t = x[o + 5] + 1200080426 + d + (c ^ a & (b ^ c)) | 0;
    d = a + (t << 12 | t >>> 20) | 0;
    t = x[o + 6] + -1473231341 + c + (b ^ d & (a ^ b)) | 0;
    c = d + (t << 17 | t >>> 15) | 0;
    t = x[o + 7] + -45705983 + b + (a ^ c & (d ^ a)) | 0;
    b = c + (t << 22 | t >>> 10) | 0;
    t = x[o + 8] + 1770035416 + a + (d ^ b & (c ^ d)) | 0;
    a = b + (t << 7 | t >>> 25) | 0;
    t = x[o + 9] + -1958414417 + d + (c ^ a & (b ^ c)) | 0;
    d = a + (t << 12 | t >>> 20) | 0;
    t = x[o + 10] + -42063 + c + (b ^ d & (a ^ b)) | 0;
    c = d + (t << 17 | t >>> 15) | 0;
    t = x[o + 11] + -1990404162 + b + (a ^ c & (d ^ a)) | 0;
    b = c + (t << 22 | t >>> 10) | 0;
    t = x[o + 12] + 1804603682 + a + (d ^ b & (c ^ d)) | 0;
    a = b + (t << 7 | t >>> 25) | 0;
    t = x[o + 13] + -40341101 + d + (c ^ a & (b ^ c)) | 0;
    d = a + (t << 12 | t >>> 20) | 0;
    t = x[o + 14] + -1502002290 + c + (b ^ d & (a ^ b)) | 0;
    c = d + (t << 17 | t >>> 15) | 0;
    t = x[o + 15] + 1236535329 + b + (a ^ c & (d ^ a)) | 0;
    b = c + (t << 22 | t >>> 10) | 0;
    t = x[o + 1] + -165796510 + a + (c & ~d) + (b & d) | 0;
    a = b + (t << 5 | t >>> 27) | 0;
    t = x[o + 6] + -1069501632 + d + (b & ~c) + (a & c) | 0;
    d = a + (t << 9 | t >>> 23) | 0;
    t = x[o + 11] + 643717713 + c + (a & ~b) + (d & b) | 0;
    c = d + (t << 14 | t >>> 18) | 0;
    t = x[o] + -373897302 + b + (d & ~a) + (c & a) | 0;
    b = c + (t << 20 | t >>> 12) | 0;
    t = x[o + 5] + -701558691 + a + (c & ~d) + (b & d) | 0;
    a = b + (t << 5 | t >>> 27) | 0;
    t = x[o + 10] + 38016083 + d + (b & ~c) + (a & c) | 0;
    d = a + (t << 9 | t >>> 23) | 0;
    t = x[o + 15] + -660478335 + c + (a & ~b) + (d & b) | 0;
    c = d + (t << 14 | t >>> 18) | 0;
    t = x[o + 4] + -405537848 + b + (d & ~a) + (c & a) | 0;
    b = c + (t << 20 | t >>> 12) | 0;
    t = x[o + 9] + 568446438 + a + (c & ~d) + (b & d) | 0;
    a = b + (t << 5 | t >>> 27) | 0;
    t = x[o + 14] + -1019803690 + d + (b & ~c) + (a & c) | 0;
    d = a + (t << 9 | t >>> 23) | 0;
    t = x[o + 3] + -187363961 + c + (a & ~b) + (d & b) | 0;
    c = d + (t << 14 | t >>> 18) | 0;
    t = x[o + 8] + 1163531501 + b + (d & ~a) + (c & a) | 0;
    b = c + (t << 20 | t >>> 12) | 0;
    t = x[o + 13] + -1444681467 + a + (c & ~d) + (b & d) | 0;
    a = b + (t << 5 | t >>> 27) | 0;
    t = x[o + 2] + -51403784 + d + (b & ~c) + (a & c) | 0;
    d = a + (t << 9 | t >>> 23) | 0;
    t = x[o + 7] + 1735328473 + c + (a & ~b) + (d & b) | 0;
    c = d + (t << 14 | t >>> 18) | 0;
    t = x[o + 12] + -1926607734 + b + (d & ~a) + (c & a) | 0;
    b = c + (t << 20 | t >>> 12) | 0;
    t = x[o + 5] + -378558 + a + (b ^ (c ^ d)) | 0;
    a = b + (t << 4 | t >>> 28) | 0;
    t = x[o + 8] + -2022574463 + d + (a ^ (b ^ c)) | 0;
    d = a + (t << 11 | t >>> 21) | 0;
    t = x[o + 11] + 1839030562 + c + (d ^ (a ^ b)) | 0;
    c = d + (t << 16 | t >>> 16) | 0;
    t = x[o + 14] + -35309556 + b + (c ^ (d ^ a)) | 0;
    b = c + (t << 23 | t >>> 9) | 0;
    t = x[o + 1] + -1530992060 + a + (b ^ (c ^ d)) | 0;
    a = b + (t << 4 | t >>> 28) | 0;
    t = x[o + 4] + 1272893353 + d + (a ^ (b ^ c)) | 0;
    d = a + (t << 11 | t >>> 21) | 0;
    t = x[o + 7] + -155497632 + c + (d ^ (a ^ b)) | 0;
    c = d + (t << 16 | t >>> 16) | 0;
    t = x[o + 10] + -1094730640 + b + (c ^ (d ^ a)) | 0;
    b = c + (t << 23 | t >>> 9) | 0;
    t = x[o + 13] + 681279174 + a + (b ^ (c ^ d)) | 0;
    a = b + (t << 4 | t >>> 28) | 0;
    t = x[o] + -358537222 + d + (a ^ (b ^ c)) | 0;
    d = a + (t << 11 | t >>> 21) | 0;
    t = x[o + 3] + -722521979 + c + (d ^ (a ^ b)) | 0;
    c = d + (t << 16 | t >>> 16) | 0;
    t = x[o + 6] + 76029189 + b + (c ^ (d ^ a)) | 0;
    b = c + (t << 23 | t >>> 9) | 0;
    t = x[o + 9] + -640364487 + a + (b ^ (c ^ d)) | 0;
    a = b + (t << 4 | t >>> 28) | 0;
    t = x[o + 12] + -421815835 + d + (a ^ (b ^ c)) | 0;
    d = a + (t << 11 | t >>> 21) | 0;
    t = x[o + 15] + 530742520 + c + (d ^ (a ^ b)) | 0;
    c = d + (t << 16 | t >>> 16) | 0;
    t = x[o + 2] + -995338651 + b + (c ^ (d ^ a)) | 0;
    b = c + (t << 23 | t >>> 9) | 0;
    t = x[o] + -198630844 + a + (c ^ (b | ~d)) | 0;
    a = b + (t << 6 | t >>> 26) | 0;
    t = x[o + 7] + 1126891415 + d + (b ^ (a | ~c)) | 0;
    d = a + (t << 10 | t >>> 22) | 0;
    t = x[o + 14] + -1416354905 + c + (a ^ (d | ~b)) | 0;
    c = d + (t << 15 | t >>> 17) | 0;
    t = x[o + 5] + -57434055 + b + (d ^ (c | ~a)) | 0;
    b = c + (t << 21 | t >>> 11) | 0;
    t = x[o + 12] + 1700485571 + a + (c ^ (b | ~d)) | 0;
    a = b + (t << 6 | t >>> 26) | 0;
    t = x[o + 3] + -1894986606 + d + (b ^ (a | ~c)) | 0;
    d = a + (t << 10 | t >>> 22) | 0;
    t = x[o + 10] + -1051523 + c + (a ^ (d | ~b)) | 0;
    c = d + (t << 15 | t >>> 17) | 0;
    t = x[o + 1] + -2054922799 + b + (d ^ (c | ~a)) | 0;
    b = c + (t << 21 | t >>> 11) | 0;
    t = x[o + 8] + 1873313359 + a + (c ^ (b | ~d)) | 0;
    a = b + (t << 6 | t >>> 26) | 0;
    t = x[o + 15] + -30611744 + d + (b ^ (a | ~c)) | 0;
    d = a + (t << 10 | t >>> 22) | 0;
    t = x[o + 6] + -1560198380 + c + (a ^ (d | ~b)) | 0;
    c = d + (t << 15 | t >>> 17) | 0;
    t = x[o + 13] + 1309151649 + b + (d ^ (c | ~a)) | 0;
    b = c + (t << 21 | t >>> 11) | 0;
    t = x[o + 4] + -145523070 + a + (c ^ (b | ~d)) | 0;
    a = b + (t << 6 | t >>> 26) | 0;
    t = x[o + 11] + -1120210379 + d + (b ^ (a | ~c)) | 0;
    d = a + (t << 10 | t >>> 22) | 0;
    t = x[o + 2] + 718787259 + c + (a ^ (d | ~b)) | 0;
    c = d + (t << 15 | t >>> 17) | 0;
    t = x[o + 9] + -343485551 + b + (d ^ (c | ~a)) | 0;
    b = c + (t << 21 | t >>> 11) | 0;
    a0 = a0 + a | 0;
    b0 = b0 + b | 0;
    c0 = c0 + c | 0;
    d0 = d0 + d | 0;
  }
  return a0 >>> 0;
}
var md5Word0Supported = LITTLE_ENDIAN;

// src/cluster/ring.ts
var BUCKET_BITS = 14;
var BUCKET_SHIFT = 32 - BUCKET_BITS;
var BUCKETS = 2 ** BUCKET_BITS;
var BUCKET_SPAN = 2 ** BUCKET_SHIFT;
var md5 = typeof _crypto2.default.hash === "function" ? (key) => _crypto2.default.hash("md5", key, "buffer") : (key) => _crypto2.default.createHash("md5").update(key).digest();
var hashValue = md5Word0Supported ? md5Word0 : (key) => {
  const x = md5(key);
  return (x[3] << 24 | x[2] << 16 | x[1] << 8 | x[0]) >>> 0;
};
var Ring = class {
  ring;
  /** The continuum as two parallel arrays: each point's hash, and its server's index in `ids`. */
  values = new Float64Array(0);
  owners = new Int32Array(0);
  /**
   * The continuum's point for every hash in a bucket (the top BUCKET_BITS bits of the hash), or -1
   * where `find` must search. A bucket that holds no point (and is not bucket 0, where `find`
   * compares against 0) sees every comparison of the search come out the same for all its hashes,
   * so `find` gives all of them one answer: looked up once here, not searched per key.
   */
  buckets = new Int32Array(0);
  ids;
  constructor(locations) {
    this.ring = new (0, _hashring2.default)(locations, "md5", { compatibility: "ketama", "default port": 11211 });
    this.ids = [...new Set(serverIds(locations))];
    this.refresh();
  }
  /** Ring ids (the location strings as given). */
  get servers() {
    return this.ids;
  }
  /** The server for a key; `undefined` only when the ring is empty. With one server, no hashing at all (as 2.2.2). */
  get(key) {
    const i = this.indexOf(key);
    return i < 0 ? void 0 : this.ids[i];
  }
  /** The index in `servers` of the key's server; -1 only when the ring is empty. */
  indexOf(key) {
    if (this.ids.length <= 1) return this.ids.length - 1;
    if (this.values.length === 0) return -1;
    return this.owners[this.pointOf(hashValue(key))];
  }
  /** `find(hash)`, from the bucket table where it can be (a uint32 hash, on a ring with points). */
  pointOf(hash) {
    const point = this.buckets[hash >>> BUCKET_SHIFT];
    return point >= 0 ? point : this.find(hash);
  }
  /** Up to `n` distinct servers in ring order from the key's position: failover candidates. */
  range(key, n) {
    return this.ring.range(key, n, true);
  }
  /**
   * Adds a server (with an optional weight) and rebuilds the ring exactly as hashring does, so keys
   * route as a freshly built `memcached` 2.2.2 ring of the new list routes them. Not every moved key
   * goes to the new server: hashring gives each server floor(weight / total weight x 40 x servers)
   * vnodes (4 points each), so every server's share is relative to the total weight. With equal
   * weights that stays 40 and only the keys the new server takes over move, except where the
   * floating-point product rounds down to 39 (7, 14, 28, 49, 56, 98, ... equal servers): growing
   * to or from such a size moves about 2% of keys between the other servers too. With weights, a
   * new server whose weight differs from the average changes every server's point count, so a few
   * % of keys (more, the further its weight is from the average) move between the existing servers.
   */
  add(id, weight) {
    if (weight !== void 0 && !(typeof weight === "number" && Number.isFinite(weight) && weight > 0)) {
      throw new InvalidOptionError(`server weight must be a number > 0, got ${describeValue(weight)}`);
    }
    this.ring.add(weight === void 0 ? id : { [id]: weight });
    this.ids = [...this.ids.filter((s) => s !== id), id];
    this.refresh();
  }
  /**
   * Removes a server and rebuilds as hashring does. Its keys move to the others; as with `add`, other
   * keys move between the remaining servers too when their point counts change (weights, or an
   * equal-weight size where hashring's rounding changes; see `add`).
   */
  remove(id) {
    this.ring.remove(id);
    this.ids = this.ids.filter((s) => s !== id);
    this.refresh();
  }
  /**
   * Puts `to` in `from`'s place: the same ring points, so `to` takes exactly `from`'s keys and no
   * other key moves (hashring's `swap`, which `memcached` 2.2.2 uses for `failOverServers`).
   */
  swap(from, to) {
    this.ring.swap(from, to);
    this.ids = [...new Set(this.ids.map((s) => s === from ? to : s))];
    this.refresh();
  }
  refresh() {
    const points = this.ring.ring;
    const at = new Map(this.ids.map((id, i) => [id, i]));
    this.values = new Float64Array(points.length);
    this.owners = new Int32Array(points.length);
    for (let i = 0; i < points.length; i++) {
      this.values[i] = points[i].value;
      this.owners[i] = at.get(points[i].server) ?? -1;
    }
    const buckets = new Int32Array(BUCKETS);
    for (let b = 0; b < BUCKETS; b++) buckets[b] = this.values.length === 0 ? -1 : this.find(b * BUCKET_SPAN);
    buckets[0] = -1;
    for (const v of this.values) if (v >= 0 && v < 2 ** 32) buckets[Math.floor(v / BUCKET_SPAN)] = -1;
    this.buckets = buckets;
  }
  /** hashring 3.2.0's `find`, kept verbatim (its edge cases decide which server a key gets). */
  find(hash) {
    const ring = this.values;
    const size = ring.length;
    let high = size;
    let low = 0;
    for (; ; ) {
      const mid = low + high >> 1;
      if (mid === size) return 0;
      const middle = ring[mid];
      const prev = mid === 0 ? 0 : ring[mid - 1];
      if (hash <= middle && hash > prev) return mid;
      if (middle < hash) low = mid + 1;
      else high = mid - 1;
      if (low > high) return 0;
    }
  }
};
function serverIds(locations) {
  if (typeof locations === "string") return [locations];
  if (Array.isArray(locations)) return [...locations];
  return Object.keys(locations);
}

// src/cluster/cluster.ts
var _debug = require('debug'); var _debug2 = _interopRequireDefault(_debug);

// src/connection/connection.ts


// src/protocol/wire.ts
var CR = 13;
var LF = 10;
var SP = 32;
var D0 = 48;
var MAX_KEY_BYTES2 = 250;
var UINT64_MAX = "18446744073709551615";
var bytes2 = (s) => Buffer.from(s, "latin1");
function matchKey(buf, start, end, keys, from) {
  const n = end - start;
  next: for (let i = from; i < keys.length; i++) {
    const k = keys[i];
    if (k.length > n) continue;
    for (let j = 0; j < k.length; j++) {
      const c = k.charCodeAt(j);
      if (c >= 128) {
        if (utf8Of(buf, start, end) === k) return i;
        continue next;
      }
      if (buf[start + j] !== c) continue next;
    }
    if (k.length === n) return i;
  }
  return -1;
}
var ERROR_WORDS = [
  [bytes2("ERROR"), "error"],
  [bytes2("CLIENT_ERROR"), "client_error"],
  [bytes2("SERVER_ERROR"), "server_error"]
];
function errorLine(buf, start, end) {
  for (const [word, kind] of ERROR_WORDS) {
    if (!startsWith(buf, start, end, word)) continue;
    const p = start + word.length;
    if (p === end) return { kind, message: "" };
    return buf[p] === SP ? { kind, message: buf.toString("utf8", p + 1, end) } : null;
  }
  return null;
}
function startsWith(buf, start, end, lit) {
  const n = lit.length;
  if (end - start < n) return false;
  for (let i = 0; i < n; i++) if (buf[start + i] !== lit[i]) return false;
  return true;
}
function equals(buf, start, end, lit) {
  return end - start === lit.length && startsWith(buf, start, end, lit);
}
function isUint64(buf, start, end) {
  const n = end - start;
  if (n < 1 || n > 20) return false;
  for (let i = start; i < end; i++) {
    const d = buf[i] - D0;
    if (d < 0 || d > 9) return false;
  }
  return n < 20 || buf.toString("latin1", start, end) <= UINT64_MAX;
}
function decimal(buf, start, end, maxDigits) {
  if (end <= start || end - start > maxDigits) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - D0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
function snippet(buf, start, end) {
  const stop = Math.min(end, start + 60);
  let s = "";
  for (let i = start; i < stop; i++) {
    const c = buf[i];
    if (c === CR) s += "\\r";
    else if (c === LF) s += "\\n";
    else if (c < 32 || c >= 127 || c === 34 || c === 92) s += `\\x${c.toString(16).padStart(2, "0")}`;
    else s += String.fromCharCode(c);
  }
  return `"${s}"${end > stop ? "..." : ""}`;
}

// src/protocol/hit.ts
var Hit = class {
  constructor(key, flags, cas, buf, start, end) {
    this.key = key;
    this.flags = flags;
    this.cas = cas;
    this.buf = buf;
    this.start = start;
    this.end = end;
  }
  key;
  flags;
  cas;
  buf;
  start;
  end;
  #data = void 0;
  /** The value's bytes: a view of the chunk it arrived in (keeps that chunk alive). */
  get data() {
    return this.#data ??= this.buf.subarray(this.start, this.end);
  }
};

// src/protocol/meta-grammar.ts
var MN = bytes2("MN");
var MAX_OPAQUE_BYTES = 32;
var META_KINDS = ["meta", "meta_batch"];
function codeOf(a, b) {
  switch (a) {
    case 86:
      return b === 65 ? "VA" : void 0;
    // VA
    case 72:
      return b === 68 ? "HD" : void 0;
    // HD
    case 69:
      return b === 78 ? "EN" : b === 88 ? "EX" : void 0;
    // EN EX
    case 78:
      return b === 70 ? "NF" : b === 83 ? "NS" : void 0;
    // NF NS
    default:
      return void 0;
  }
}
var MetaGrammar = class {
  #sink;
  #maxValue;
  // The batch being collected (valid while a meta_batch expectation is the oldest).
  #replies = [];
  #errors = [];
  #hits = [];
  /** A plain hit's flags, as `#hitFlags` read them. */
  #hit = { flags: 0, keyStart: -1, keyEnd: -1, cas: void 0 };
  /** The data block being read belongs to a plain hit (`#dHitKey`), not to a MetaReply. */
  #dHitKey = void 0;
  /** Where the next hit's key is looked for among the batch's keys. */
  #keyNext = 0;
  /** Where parseFlags found the `k` token of the line (start -1: none). */
  #keyAt = { start: -1, end: -1 };
  // The VA line whose data block the parser is reading.
  #dFlags = null;
  #dBatch = false;
  constructor(sink, maxValueBytes) {
    this.#sink = sink;
    this.#maxValue = maxValueBytes;
  }
  line(buf, start, end, kind, maxValues, keys) {
    const batch = kind === "meta_batch";
    const code = end - start >= 2 && (end - start === 2 || buf[start + 2] === SP) ? codeOf(buf[start], buf[start + 1]) : void 0;
    if (code !== void 0) {
      if (batch && this.#replies.length + this.#hits.length >= maxValues) {
        return this.#sink.fail(`more meta replies than the ${maxValues} request(s) in the batch: ${snippet(buf, start, end)}`);
      }
      return this.#metaLine(code, buf, start, end, batch, keys);
    }
    if (batch && equals(buf, start, end, MN)) {
      const reply = { kind: "meta_batch", replies: this.#replies, errors: this.#errors, hits: this.#hits };
      this.#replies = [];
      this.#errors = [];
      this.#hits = [];
      this.#keyNext = 0;
      return this.#sink.answer(reply);
    }
    const error = errorLine(buf, start, end);
    if (error !== null) {
      if (!batch) return this.#sink.answer(error);
      if (this.#replies.length + this.#hits.length + this.#errors.length >= 2 * maxValues) {
        return this.#sink.fail(`more error lines than the ${maxValues} request(s) in the batch can cause: ${snippet(buf, start, end)}`);
      }
      this.#errors.push({ kind: error.kind, message: error.message, index: this.#replies.length + this.#hits.length });
      return;
    }
    this.#sink.fail(`unexpected reply to a ${kind} request: ${snippet(buf, start, end + 2)}`);
  }
  data(buf, start, end) {
    if (this.#dHitKey !== void 0) {
      const h = this.#hit;
      this.#hits.push(new Hit(this.#dHitKey, h.flags, h.cas, buf, start, end));
      this.#dHitKey = void 0;
      return;
    }
    const block = buf.subarray(start, end);
    this.#push({ kind: "meta", code: "VA", data: block, flags: this.#dFlags }, this.#dBatch);
    this.#dFlags = null;
  }
  reset() {
    this.#keyNext = 0;
    this.#hits = [];
    this.#dHitKey = void 0;
    this.#replies = [];
    this.#errors = [];
    this.#dFlags = null;
  }
  #push(reply, batch) {
    if (batch) this.#replies.push(reply);
    else this.#sink.answer(reply);
  }
  #metaLine(code, buf, start, end, batch, keys) {
    let p = start + 2;
    let size = 0;
    if (code === "VA") {
      const sizeStart = ++p;
      for (; p < end && buf[p] !== SP; p++) {
        const d = buf[p] - D0;
        if (d < 0 || d > 9) return this.#bad(buf, start, end, "bad VA length");
        size = size * 10 + d;
        if (size > this.#maxValue) {
          return this.#sink.fail(`VA line claims more than maxValueBytes (${this.#maxValue}) bytes: ${snippet(buf, start, end)}`);
        }
      }
      if (p === sizeStart || sizeStart > end) return this.#bad(buf, start, end, "bad VA length");
    }
    if (code === "VA" && batch && keys !== void 0 && this.#hitFlags(buf, p, end)) {
      const h = this.#hit;
      const i = matchKey(buf, h.keyStart, h.keyEnd, keys, this.#keyNext);
      if (i < 0) return this.#sink.fail(`meta reply for key ${snippet(buf, h.keyStart, h.keyEnd)} that was not requested (or out of order)`);
      this.#keyNext = i + 1;
      this.#dHitKey = keys[i];
      this.#sink.beginData(size);
      return;
    }
    const at = this.#keyAt;
    at.start = -1;
    const flags = parseFlags(buf, p, end, at);
    if (typeof flags === "string") return this.#bad(buf, start, end, flags);
    if (at.start >= 0) {
      if (keys === void 0) flags.key = keyOf(buf, at.start, at.end);
      else {
        const i = matchKey(buf, at.start, at.end, keys, this.#keyNext);
        if (i < 0) return this.#sink.fail(`meta reply for key ${snippet(buf, at.start, at.end)} that was not requested (or out of order)`);
        flags.key = keys[i];
        this.#keyNext = batch ? i + 1 : 0;
      }
    }
    if (code !== "VA") return this.#push({ kind: "meta", code, data: void 0, flags }, batch);
    this.#dFlags = flags;
    this.#dBatch = batch;
    this.#sink.beginData(size);
  }
  /**
   * Reads the flags of a plain hit (`f<n>`, `k<key>`, `c<cas>`, each at most once, `k` present) into
   * `#hit`; false when the line holds anything else (the general path then parses, or refuses, it).
   */
  #hitFlags(buf, p, end) {
    const h = this.#hit;
    h.flags = 0;
    h.keyStart = -1;
    h.cas = void 0;
    let seen = 0;
    while (p < end) {
      if (buf[p] !== SP || p + 1 === end) return false;
      const letter = buf[p + 1];
      const t = p + 2;
      let e = t;
      while (e < end && buf[e] !== SP) e++;
      if (letter === 102) {
        const n = decimal(buf, t, e, 10);
        if ((seen & 1) !== 0 || n < 0 || n > 4294967295) return false;
        seen |= 1;
        h.flags = n;
      } else if (letter === 107) {
        if ((seen & 2) !== 0 || e === t || e - t > MAX_KEY_BYTES2 || !tokenBytes(buf, t, e)) return false;
        seen |= 2;
        h.keyStart = t;
        h.keyEnd = e;
      } else if (letter === 99) {
        if ((seen & 4) !== 0 || !isUint64(buf, t, e)) return false;
        seen |= 4;
        h.cas = latin1Of(buf, t, e);
      } else {
        return false;
      }
      p = e;
    }
    return h.keyStart >= 0;
  }
  #bad(buf, start, end, why) {
    this.#sink.fail(`malformed meta reply line (${why}): ${snippet(buf, start, end)}`);
  }
};
function parseFlags(buf, p, end, keyAt) {
  const f = {
    opaque: void 0,
    key: void 0,
    cas: void 0,
    ttl: void 0,
    clientFlags: void 0,
    size: void 0,
    hitBefore: void 0,
    lastAccess: void 0,
    win: false,
    stale: false,
    otherWon: false
  };
  while (p < end) {
    if (buf[p] !== SP || p + 1 === end) return "stray space";
    const t = p + 2;
    let e = t - 1;
    while (e < end && buf[e] !== SP) e++;
    if (e === t - 1) return "stray space";
    const letter = buf[p + 1];
    switch (letter) {
      case 79:
        if (e === t || e - t > MAX_OPAQUE_BYTES || !printableAscii(buf, t, e)) return "bad opaque";
        f.opaque = latin1Of(buf, t, e);
        break;
      case 107:
        if (e === t || e - t > MAX_KEY_BYTES2 || !tokenBytes(buf, t, e) || keyAt.start >= 0) return "bad key";
        keyAt.start = t;
        keyAt.end = e;
        break;
      case 99:
        if (!isUint64(buf, t, e)) return "bad cas";
        f.cas = latin1Of(buf, t, e);
        break;
      case 116:
        if (e - t === 2 && buf[t] === 45 && buf[t + 1] === 49) {
          f.ttl = -1;
        } else {
          f.ttl = decimal(buf, t, e, 10);
          if (f.ttl < 0) return "bad ttl";
        }
        break;
      case 102:
        f.clientFlags = decimal(buf, t, e, 10);
        if (f.clientFlags < 0 || f.clientFlags > 4294967295) return "bad client flags";
        break;
      case 115:
        f.size = decimal(buf, t, e, 15);
        if (f.size < 0) return "bad size";
        break;
      case 108:
        f.lastAccess = decimal(buf, t, e, 15);
        if (f.lastAccess < 0) return "bad last access";
        break;
      case 104:
        if (e - t !== 1 || buf[t] !== 48 && buf[t] !== 49) return "bad hit-before";
        f.hitBefore = buf[t] === 49;
        break;
      case 87:
        if (e !== t) return "bad W flag";
        f.win = true;
        break;
      case 88:
        if (e !== t) return "bad X flag";
        f.stale = true;
        break;
      case 90:
        if (e !== t) return "bad Z flag";
        f.otherWon = true;
        break;
      default:
        return "unknown flag";
    }
    p = e;
  }
  return f;
}
function printableAscii(buf, start, end) {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c < 33 || c > 126) return false;
  }
  return true;
}
function tokenBytes(buf, start, end) {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 32 || c === 13 || c === 10 || c === 0) return false;
  }
  return true;
}

// src/protocol/text-grammar.ts
var VALUE_ = bytes2("VALUE ");
var END = bytes2("END");
var STAT_ = bytes2("STAT ");
var ITEM_ = bytes2("ITEM ");
var PREFIX_ = bytes2("PREFIX ");
var RESET = bytes2("RESET");
var OK = bytes2("OK");
var VERSION_ = bytes2("VERSION ");
var DEFAULT_MAX_STATS_LINES = 1e6;
var DEFAULT_MAX_STATS_BYTES = 64 * 1024 * 1024;
var statuses = (...names) => names.map((s) => ({ lit: bytes2(s), reply: Object.freeze({ kind: "status", status: s }) }));
var STATUS_BY_KIND = {
  store: statuses("STORED", "NOT_STORED", "EXISTS", "NOT_FOUND"),
  delete: statuses("DELETED", "NOT_FOUND"),
  touch: statuses("TOUCHED", "NOT_FOUND"),
  arith: statuses("NOT_FOUND"),
  ok: statuses("OK"),
  mn: statuses("MN"),
  auth: statuses("STORED")
};
var TEXT_KINDS = ["retrieval", "version", "stats", "stats_line", ...Object.keys(STATUS_BY_KIND)];
var TextGrammar = class {
  #sink;
  #lim;
  #values = [];
  #stats = [];
  #lines = [];
  #statLines = 0;
  #statBytes = 0;
  /** Past a stats cap: lines are still checked, counted and consumed, but no longer stored. */
  #oversize = false;
  // The VALUE line whose data block the parser is reading.
  #dKey = "";
  /** Where the next hit's key is looked for among the expectation's keys. */
  #keyNext = 0;
  #dFlags = 0;
  #dCas = void 0;
  constructor(sink, limits) {
    this.#sink = sink;
    this.#lim = limits;
  }
  line(buf, start, end, kind, maxValues, keys) {
    if (kind === "retrieval") {
      if (startsWith(buf, start, end, VALUE_)) return this.#valueLine(buf, start, end, maxValues, keys);
      if (equals(buf, start, end, END)) {
        const values = this.#values;
        this.#values = [];
        this.#keyNext = 0;
        return this.#sink.answer({ kind: "values", values });
      }
    } else if (kind === "stats" || kind === "stats_line") {
      if (this.#statsLine(buf, start, end, kind)) return;
    } else if (kind === "version") {
      if (startsWith(buf, start, end, VERSION_) && end > start + VERSION_.length) {
        return this.#sink.answer({ kind: "version", version: buf.toString("utf8", start + VERSION_.length, end) });
      }
    } else if (kind === "arith" && isUint64(buf, start, end)) {
      return this.#sink.answer({ kind: "number", value: buf.toString("latin1", start, end) });
    }
    const accepted = STATUS_BY_KIND[kind];
    if (accepted !== void 0) {
      for (const s of accepted) if (equals(buf, start, end, s.lit)) return this.#sink.answer(s.reply);
    }
    const error = errorLine(buf, start, end);
    if (error !== null) {
      this.reset();
      return this.#sink.answer(error);
    }
    this.#sink.fail(`unexpected reply to a ${kind} request: ${snippet(buf, start, end + 2)}`);
  }
  data(buf, start, end) {
    this.#values.push(new Hit(this.#dKey, this.#dFlags, this.#dCas, buf, start, end));
  }
  reset() {
    this.#values = [];
    this.#keyNext = 0;
    this.#stats = [];
    this.#lines = [];
    this.#statLines = 0;
    this.#statBytes = 0;
    this.#oversize = false;
  }
  /** True when the line was a valid part of a stats reply (and was handled). */
  #statsLine(buf, start, end, kind) {
    if (startsWith(buf, start, end, STAT_)) {
      let sp = start + STAT_.length;
      while (sp < end && buf[sp] !== SP) sp++;
      if (sp === start + STAT_.length) return false;
      if (kind === "stats_line") {
        const entry = [buf.toString("utf8", start + STAT_.length, sp), sp < end ? buf.toString("utf8", sp + 1, end) : ""];
        if (this.#stats.length === 0 && entry[0] === "sizes_status" && entry[1] === "error") {
          this.#stats.push(entry);
          return true;
        }
        const stats = this.#stats.length === 0 ? [entry] : [...this.#stats, entry];
        this.#stats = [];
        this.#sink.answer({ kind: "stats", stats, lines: [], end: null });
      } else if (this.#count(end - start)) {
        this.#stats.push([buf.toString("utf8", start + STAT_.length, sp), sp < end ? buf.toString("utf8", sp + 1, end) : ""]);
      }
      return true;
    }
    if (kind === "stats_line") return false;
    if (startsWith(buf, start, end, ITEM_) || startsWith(buf, start, end, PREFIX_)) {
      if (this.#count(end - start)) this.#lines.push(buf.toString("utf8", start, end));
      return true;
    }
    const first = this.#statLines === 0;
    const term = equals(buf, start, end, END) ? "END" : first && equals(buf, start, end, RESET) ? "RESET" : first && equals(buf, start, end, OK) ? "OK" : null;
    if (term === null) return false;
    const reply = this.#oversize ? { kind: "oversize", message: `stats reply exceeds ${this.#lim.maxStatsLines} lines or ${this.#lim.maxStatsBytes} bytes (${this.#statLines} lines, ${this.#statBytes} bytes); read to its end and dropped` } : { kind: "stats", stats: this.#stats, lines: this.#lines, end: term };
    this.reset();
    this.#sink.answer(reply);
    return true;
  }
  /** Counts one stats line; false once the reply is over a cap (then nothing more is stored). */
  #count(lineBytes) {
    this.#statLines++;
    this.#statBytes += lineBytes;
    if (this.#oversize) return false;
    if (this.#statLines > this.#lim.maxStatsLines || this.#statBytes > this.#lim.maxStatsBytes) {
      this.#oversize = true;
      this.#stats = [];
      this.#lines = [];
      return false;
    }
    return true;
  }
  /** `VALUE <key> <flags> <bytes> [<cas>]`, checked before anything is allocated for the data. */
  #valueLine(buf, start, end, maxValues, keys) {
    if (this.#values.length >= maxValues) {
      return this.#sink.fail(`more VALUE blocks than the ${maxValues} key(s) requested: ${snippet(buf, start, end)}`);
    }
    let p = start + VALUE_.length;
    const keyStart = p;
    while (p < end && buf[p] !== SP) p++;
    const keyEnd = p;
    if (keyEnd === keyStart || keyEnd - keyStart > MAX_KEY_BYTES2 || p === end) return this.#badValue(buf, start, end);
    let flags = 0;
    const flagsStart = ++p;
    for (; p < end && buf[p] !== SP; p++) {
      const d = buf[p] - D0;
      if (d < 0 || d > 9) return this.#badValue(buf, start, end);
      flags = flags * 10 + d;
    }
    if (p === flagsStart || p - flagsStart > 10 || flags > 4294967295 || p === end) return this.#badValue(buf, start, end);
    let size = 0;
    const sizeStart = ++p;
    for (; p < end && buf[p] !== SP; p++) {
      const d = buf[p] - D0;
      if (d < 0 || d > 9) return this.#badValue(buf, start, end);
      size = size * 10 + d;
      if (size > this.#lim.maxValueBytes) {
        return this.#sink.fail(`VALUE line claims more than maxValueBytes (${this.#lim.maxValueBytes}) bytes: ${snippet(buf, start, end)}`);
      }
    }
    if (p === sizeStart) return this.#badValue(buf, start, end);
    let cas;
    if (p < end) {
      if (!isUint64(buf, p + 1, end)) return this.#badValue(buf, start, end);
      cas = latin1Of(buf, p + 1, end);
    }
    if (keys === void 0) this.#dKey = keyOf(buf, keyStart, keyEnd);
    else {
      const i = matchKey(buf, keyStart, keyEnd, keys, this.#keyNext);
      if (i < 0) return this.#sink.fail(`server returned key ${snippet(buf, keyStart, keyEnd)} that was not requested (or out of order)`);
      this.#keyNext = i + 1;
      this.#dKey = keys[i];
    }
    this.#dFlags = flags;
    this.#dCas = cas;
    this.#sink.beginData(size);
  }
  #badValue(buf, start, end) {
    this.#sink.fail(`malformed VALUE line in reply to a retrieval request: ${snippet(buf, start, end)}`);
  }
};

// src/protocol/parser.ts
var DEFAULT_MAX_LINE_BYTES = 8192;
var TOO_MANY = bytes2("ERROR Too many open connections\r\n");
var KINDS = /* @__PURE__ */ new Set([...TEXT_KINDS, ...META_KINDS]);
var isMeta = (kind) => kind === "meta" || kind === "meta_batch";
var ReplyParser = class {
  #server;
  #maxLine;
  #text;
  #meta;
  #onReply;
  #onError;
  #kinds = [];
  /** Per expectation, the most VALUE blocks its reply may hold (the keys it asked for). */
  #maxValues = [];
  /** Per expectation, the keys its hits must name, in request order (undefined: any key, decoded). */
  #keys = [];
  #head = 0;
  #failed = false;
  #feeding = false;
  // Incomplete line carried to the next chunk; grown geometrically up to maxLineBytes + 2.
  #tail = null;
  #tailLen = 0;
  // The partial line began while nothing was pending: it may only become the refusal line.
  #tailUnsolicited = false;
  // The data block being read (valid while #inData), and the grammar that announced it.
  #inData = false;
  #dOwner = null;
  #dBytes = 0;
  #dFilled = 0;
  #dCrlf = 0;
  #dBuf = null;
  /**
   * @param opts `maxValueBytes` bounds the length a `VALUE`/`VA` line may claim; `maxLineBytes`
   *   (default 8192) bounds any reply line; `maxStatsLines`/`maxStatsBytes` (default 1,000,000 /
   *   64 MiB) turn a bigger stats reply into an `oversize` reply; `server` is put on every error.
   * @param onReply called once per expectation, in order.
   * @param onError called at most once, after which the parser ignores all input.
   */
  constructor(opts, onReply, onError) {
    const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(opts.maxValueBytes) || opts.maxValueBytes < 0) {
      throw new RangeError(`ReplyParser: maxValueBytes must be a non-negative integer, got ${opts.maxValueBytes}`);
    }
    if (!Number.isSafeInteger(maxLine) || maxLine < 16) {
      throw new RangeError(`ReplyParser: maxLineBytes must be an integer >= 16, got ${maxLine}`);
    }
    const maxStatsLines = opts.maxStatsLines ?? DEFAULT_MAX_STATS_LINES;
    const maxStatsBytes = opts.maxStatsBytes ?? DEFAULT_MAX_STATS_BYTES;
    for (const [name, v] of [["maxStatsLines", maxStatsLines], ["maxStatsBytes", maxStatsBytes]]) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`ReplyParser: ${name} must be a non-negative integer, got ${v}`);
    }
    this.#server = opts.server;
    this.#maxLine = maxLine;
    const sink = {
      answer: (reply) => this.#answer(reply),
      fail: (message) => this.#fail(message),
      beginData: (size) => this.#beginData(size)
    };
    this.#text = new TextGrammar(sink, { maxValueBytes: opts.maxValueBytes, maxStatsLines, maxStatsBytes });
    this.#meta = new MetaGrammar(sink, opts.maxValueBytes);
    this.#onReply = onReply;
    this.#onError = onError;
  }
  /** Expectations not yet answered by a reply. */
  get pending() {
    return this.#kinds.length - this.#head;
  }
  /** True once a protocol error was reported; all later input is ignored. */
  get failed() {
    return this.#failed;
  }
  /**
   * Registers the reply kind of the next request; call once per request, in write order.
   * `maxValues` (for retrievals: the number of keys asked for; for a `meta_batch`: the number of
   * requests before its `mn`) bounds the VALUE blocks / meta reply lines the reply may hold, so a
   * server cannot grow one reply without end. `keys`, when given, are the keys as written that the
   * reply's `VALUE` lines / `k` flags must name, in request order: each is matched byte for byte
   * (not decoded), the reply carries these very strings, and a key that is not among them (or comes
   * out of order) is a protocol error.
   */
  expect(kind, maxValues = Number.MAX_SAFE_INTEGER, keys) {
    if (!KINDS.has(kind)) throw new TypeError(`ReplyParser.expect: unknown reply kind ${String(kind)}`);
    this.#kinds.push(kind);
    this.#maxValues.push(maxValues);
    this.#keys.push(keys);
  }
  /** Consumes a chunk of bytes from the server. Never throws; see the class notes. */
  feed(chunk) {
    if (this.#failed) return;
    if (this.#feeding) return this.#fail("feed() called from inside onReply/onError");
    this.#feeding = true;
    try {
      this.#run(chunk);
    } catch (err) {
      this.#fail(`internal parser error: ${err instanceof Error ? err.message : String(err)}`, err);
    } finally {
      this.#feeding = false;
    }
  }
  #run(chunk) {
    const len = chunk.length;
    let pos = 0;
    if (this.#tailLen > 0) {
      if (this.#tailUnsolicited) {
        this.#append(chunk, 0, Math.min(len, TOO_MANY.length - this.#tailLen));
        this.#unsolicited(this.#tail, 0, this.#tailLen);
        return;
      }
      const nl = chunk.indexOf(LF);
      const upto = nl < 0 ? len : nl + 1;
      if (this.#tailLen + upto > this.#maxLine + (nl < 0 ? 1 : 2)) {
        this.#fail(`reply line longer than maxLineBytes (${this.#maxLine}): ${snippet(this.#tail, 0, this.#tailLen)}`);
        return;
      }
      this.#append(chunk, 0, upto);
      if (nl < 0) return;
      const lineLen = this.#tailLen;
      this.#tailLen = 0;
      this.#line(this.#tail, 0, lineLen - 1);
      pos = upto;
    }
    while (pos < len && !this.#failed) {
      if (this.#inData) {
        pos = this.#data(chunk, pos);
      } else if (this.#head === this.#kinds.length) {
        this.#unsolicited(chunk, pos, len);
        return;
      } else {
        let nl = pos;
        while (nl < len && chunk[nl] !== LF) nl++;
        if (nl === len) {
          if (len - pos > this.#maxLine + 1) {
            this.#fail(`reply line longer than maxLineBytes (${this.#maxLine}): ${snippet(chunk, pos, len)}`);
          } else {
            this.#append(chunk, pos, len);
          }
          return;
        }
        this.#line(chunk, pos, nl);
        pos = nl + 1;
      }
    }
  }
  /** Bytes arrived with nothing pending: only a (possibly partial) refusal line is tolerated. */
  #unsolicited(buf, start, end) {
    const n = Math.min(end - start, TOO_MANY.length);
    for (let i = 0; i < n; i++) {
      if (buf[start + i] !== TOO_MANY[i]) {
        this.#fail(`unsolicited data with no request pending: ${snippet(buf, start, end)}`);
        return;
      }
    }
    if (n === TOO_MANY.length) {
      this.#report(new TooManyConnectionsError({ server: this.#server }));
    } else if (buf !== this.#tail) {
      this.#tailUnsolicited = true;
      this.#append(buf, start, end);
    }
  }
  #append(src, start, end) {
    const need = this.#tailLen + end - start;
    if (this.#tail === null || this.#tail.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(need, 2 * (this.#tail?.length ?? 0), 128), this.#maxLine + 2));
      if (this.#tail !== null) this.#tail.copy(grown, 0, 0, this.#tailLen);
      this.#tail = grown;
    }
    src.copy(this.#tail, this.#tailLen, start, end);
    this.#tailLen = need;
  }
  /** One complete line: `buf[start, nl)` followed by `\n` at `nl`. */
  #line(buf, start, nl) {
    const end = nl - 1;
    if (end - start > this.#maxLine) {
      this.#fail(`reply line longer than maxLineBytes (${this.#maxLine}): ${snippet(buf, start, nl)}`);
      return;
    }
    if (end < start || buf[end] !== CR) {
      this.#fail(`reply line ends with a bare \\n instead of \\r\\n: ${snippet(buf, start, nl + 1)}`);
      return;
    }
    const kind = this.#kinds[this.#head];
    (isMeta(kind) ? this.#meta : this.#text).line(buf, start, end, kind, this.#maxValues[this.#head], this.#keys[this.#head]);
  }
  #beginData(size) {
    this.#dOwner = isMeta(this.#kinds[this.#head]) ? this.#meta : this.#text;
    this.#dBytes = size;
    this.#dFilled = 0;
    this.#dCrlf = 0;
    this.#dBuf = null;
    this.#inData = true;
  }
  /** Reads (part of) the current value's data block and its `\r\n`; returns the new position. */
  #data(chunk, pos) {
    const size = this.#dBytes;
    const len = chunk.length;
    if (this.#dBuf === null) {
      const avail = len - pos;
      if (avail >= size + 2) {
        if (chunk[pos + size] !== CR || chunk[pos + size + 1] !== LF) {
          this.#badTrailer(chunk, pos + size);
          return len;
        }
        this.#pushValue(chunk, pos, pos + size);
        return pos + size + 2;
      }
      if (avail >= size) {
        this.#dBuf = chunk.subarray(pos, pos + size);
        this.#dFilled = size;
        pos += size;
      } else {
        this.#dBuf = Buffer.allocUnsafe(size);
        chunk.copy(this.#dBuf, 0, pos, len);
        this.#dFilled = avail;
        return len;
      }
    } else if (this.#dFilled < size) {
      const n = Math.min(size - this.#dFilled, len - pos);
      chunk.copy(this.#dBuf, this.#dFilled, pos, pos + n);
      this.#dFilled += n;
      pos += n;
    }
    while (this.#dFilled === size && pos < len) {
      if (chunk[pos] !== (this.#dCrlf === 0 ? CR : LF)) {
        this.#badTrailer(chunk, pos);
        return len;
      }
      pos++;
      if (++this.#dCrlf === 2) {
        this.#pushValue(this.#dBuf, 0, size);
        break;
      }
    }
    return pos;
  }
  /** The data block is `buf[start, end)`: the chunk it arrived in, or a buffer of its own. */
  #pushValue(buf, start, end) {
    this.#inData = false;
    this.#dBuf = null;
    this.#dOwner.data(buf, start, end);
  }
  #badTrailer(chunk, at) {
    this.#fail(
      `data block of ${this.#dBytes} bytes is not followed by \\r\\n: found ${snippet(chunk, at, Math.min(chunk.length, at + 8))}`
    );
  }
  #answer(reply) {
    this.#head++;
    if (this.#head === this.#kinds.length) {
      this.#kinds.length = 0;
      this.#maxValues.length = 0;
      this.#keys.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#kinds.length) {
      this.#kinds.splice(0, this.#head);
      this.#maxValues.splice(0, this.#head);
      this.#keys.splice(0, this.#head);
      this.#head = 0;
    }
    try {
      this.#onReply(reply);
    } catch (err) {
      this.#fail("onReply callback threw; parser stopped", err);
    }
  }
  #fail(message, cause) {
    this.#report(new ProtocolError(message, cause === void 0 ? { server: this.#server } : { server: this.#server, cause }));
  }
  #report(err) {
    if (this.#failed) return;
    this.#failed = true;
    this.#tail = null;
    this.#tailLen = 0;
    this.#tailUnsolicited = false;
    this.#text.reset();
    this.#meta.reset();
    this.#dBuf = null;
    this.#inData = false;
    try {
      this.#onError(err);
    } catch {
    }
  }
};

// src/connection/deque.ts
var Deque = class {
  items_ = [];
  head = 0;
  get length() {
    return this.items_.length - this.head;
  }
  push(item) {
    this.items_.push(item);
  }
  peek() {
    return this.items_[this.head];
  }
  shift() {
    if (this.head >= this.items_.length) return void 0;
    const item = this.items_[this.head];
    this.items_[this.head++] = void 0;
    if (this.head > 1024 && this.head * 2 > this.items_.length) {
      this.items_ = this.items_.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  /** The smallest `key(item)` over the queued items (Infinity when empty). O(n): for rare checks only. */
  min(key) {
    let m = Infinity;
    for (let i = this.head; i < this.items_.length; i++) {
      const v = key(this.items_[i]);
      if (v < m) m = v;
    }
    return m;
  }
  /** The queued items, oldest first (do not push or shift while iterating). */
  *items() {
    for (let i = this.head; i < this.items_.length; i++) yield this.items_[i];
  }
  /** Position of `item` from the head, or -1. O(n). */
  indexOf(item) {
    const i = this.items_.indexOf(item, this.head);
    return i < 0 ? -1 : i - this.head;
  }
  /** Removes and returns everything, oldest first. */
  drain() {
    const out = this.items_.slice(this.head);
    this.items_ = [];
    this.head = 0;
    return out;
  }
};

// src/connection/keys-in-flight.ts
var KEY_BUCKETS = 8192;
var EMPTY = new Uint32Array(0);
function bucketOf(key) {
  let h = key.length;
  for (let i = Math.max(0, key.length - 12); i < key.length; i++) h = Math.imul(h, 31) + key.charCodeAt(i) | 0;
  return (h ^ h >>> 10) & KEY_BUCKETS - 1;
}
var bucketCache = /* @__PURE__ */ new WeakMap();
function bucketsOf(keys) {
  let b = bucketCache.get(keys);
  if (b === void 0) {
    b = new Uint16Array(keys.length);
    for (let i = 0; i < keys.length; i++) b[i] = bucketOf(keys[i]);
    bucketCache.set(keys, b);
  }
  return b;
}
var KeysInFlight = class {
  /** False: nothing is counted, and `mayCarry` answers "maybe" for every key. */
  on = false;
  // 32-bit counts (a deep pipeline can hold over 65,535 keys of one bucket), allocated the first
  // time counting starts: a socket that is its server's only one never needs them.
  all = EMPTY;
  writes = EMPTY;
  /** Keys counted in `all` / `writes`: none in flight answers "no" without looking at a bucket. */
  allTotal = 0;
  writeTotal = 0;
  /** Starts (counting `inFlight`, what is pending now) or stops counting. */
  track(on, inFlight) {
    if (on === this.on) return;
    this.on = on;
    if (on && this.all === EMPTY) {
      this.all = new Uint32Array(KEY_BUCKETS);
      this.writes = new Uint32Array(KEY_BUCKETS);
    } else {
      this.all.fill(0);
      this.writes.fill(0);
    }
    this.allTotal = 0;
    this.writeTotal = 0;
    if (on) for (const out of inFlight) this.count(out, 1);
  }
  /** Adds (`by` 1) or removes (-1) a request's keys, while counting. */
  count(out, by) {
    if (!this.on || out.key === void 0 && out.keys === void 0) return;
    const write = !out.read;
    if (out.key !== void 0) {
      const b = bucketOf(out.key);
      this.all[b] += by;
      this.allTotal += by;
      if (write) {
        this.writes[b] += by;
        this.writeTotal += by;
      }
      return;
    }
    const buckets = bucketsOf(out.keys);
    const all = this.all;
    for (let i = 0; i < buckets.length; i++) all[buckets[i]] += by;
    this.allTotal += by * buckets.length;
    if (write) {
      const writes = this.writes;
      for (let i = 0; i < buckets.length; i++) writes[buckets[i]] += by;
      this.writeTotal += by * buckets.length;
    }
  }
  /** False only when no request for `key` (or any of `keys`) can be in flight; true means "scan to know". */
  mayCarry(key, keys, writesOnly) {
    if (!this.on) return true;
    if ((writesOnly ? this.writeTotal : this.allTotal) === 0) return false;
    const counts = writesOnly ? this.writes : this.all;
    if (key !== void 0) return counts[bucketOf(key)] !== 0;
    if (keys !== void 0) {
      const buckets = bucketsOf(keys);
      for (let i = 0; i < buckets.length; i++) if (counts[buckets[i]] !== 0) return true;
      return false;
    }
    return true;
  }
};
function anyCarries(pending, key, keys, writesOnly) {
  for (const p of pending) {
    const o = p.out;
    if (writesOnly && o.read) continue;
    if (key !== void 0) {
      if (o.key === key || o.keys?.includes(key)) return true;
    } else if (keys !== void 0) {
      for (const k of keys) if (o.key === k || o.keys?.includes(k)) return true;
    }
  }
  return false;
}
function pickSocket(conns, req, maxPipeline) {
  let first;
  for (const c of conns) {
    if (c.alive && !c.congested && c.inFlight < maxPipeline) {
      first = c;
      break;
    }
  }
  if (conns.length < 2 || req.key === void 0 && req.keys === void 0) return first;
  const writesOnly = req.read === true;
  let carrier;
  for (const c of conns) {
    if (!c.alive || c.inFlight === 0 || !c.carries(req.key, req.keys, writesOnly)) continue;
    if (carrier !== void 0 && carrier !== c) return void 0;
    carrier = c;
  }
  return carrier ?? first;
}
function writingKey(conns, key) {
  if (conns.length < 2) return false;
  for (const c of conns) if (c.alive && c.inFlight > 0 && c.carries(key, void 0, true)) return true;
  return false;
}

// src/connection/out-buffer.ts
var MAX_JOIN_BYTES = 64 * 1024;
var OutBuffer = class {
  text = "";
  parts = [];
  bufferBytes = 0;
  add(bytes3) {
    if (typeof bytes3 === "string") {
      this.text += bytes3;
      return;
    }
    if (this.text.length > 0) this.parts.push(this.text);
    this.text = "";
    this.parts.push(bytes3);
    this.bufferBytes += bytes3.length;
  }
  /** Writes everything added since the last call in one write (none when `socket` is undefined: dead), and empties. */
  writeTo(socket) {
    const parts = this.parts;
    const text = this.text;
    if (socket) {
      if (parts.length === 0) socket.write(text);
      else {
        if (text.length > 0) parts.push(text);
        if (parts.length === 1) socket.write(parts[0]);
        else if (this.bufferBytes + text.length * 3 <= MAX_JOIN_BYTES) {
          socket.write(Buffer.concat(parts.map((w) => typeof w === "string" ? Buffer.from(w, "utf8") : w)));
        } else {
          socket.cork();
          for (const w of parts) socket.write(w);
          socket.uncork();
        }
      }
    }
    parts.length = 0;
    this.text = "";
    this.bufferBytes = 0;
  }
};

// src/connection/request.ts
var _perf_hooks = require('perf_hooks');
var hasDataBlock = (kind, bytes3) => kind === "store" || kind === "auth" || kind === "meta" && isMetaSet(bytes3);
function isMetaSet(bytes3) {
  return typeof bytes3 === "string" ? bytes3.charCodeAt(0) === 109 && bytes3.charCodeAt(1) === 115 && bytes3.charCodeAt(2) === 32 : bytes3[0] === 109 && bytes3[1] === 115 && bytes3[2] === 32;
}
function replyError(reply, dataBlock, server) {
  switch (reply.kind) {
    case "server_error":
      return { err: new ServerErrorReply(`SERVER_ERROR ${serverText(reply.message)}`, { server }) };
    case "oversize":
      return { err: new ReplyTooLargeError(reply.message, { server }) };
    case "error":
    case "client_error": {
      if (reply.kind === "error" && reply.message === "Too many open connections") {
        const err2 = new TooManyConnectionsError({ server });
        return { err: err2, end: err2 };
      }
      const err = new ClientErrorReply(reply.kind === "error" ? `server answered ERROR${reply.message ? " " + serverText(reply.message) : ""}` : `CLIENT_ERROR ${serverText(reply.message)}`, { server });
      if (!dataBlock) return { err };
      return { err, end: new ConnectionError(`connection dropped after an error reply to a request with a data block: ${err.detail}`, { server, cause: err }) };
    }
    default:
      return void 0;
  }
}
var now = () => _perf_hooks.performance.now();

// src/connection/read-slice.ts
var READ_SLICE_MS = 4;
var turnStart = -1;
var paused = [];
function endTurn() {
  turnStart = -1;
}
function resumeAll() {
  for (const socket of paused.splice(0)) if (!socket.destroyed) socket.resume();
}
var overSlice = () => turnStart >= 0 && now() - turnStart >= READ_SLICE_MS;
function pause(socket) {
  socket.pause();
  if (paused.push(socket) === 1) setImmediate(() => setImmediate(resumeAll));
}
function beginRead(socket, chunk) {
  if (overSlice() && !socket.destroyed) {
    pause(socket);
    socket.unshift(chunk);
    return false;
  }
  if (turnStart < 0) {
    turnStart = now();
    setImmediate(endTurn);
  }
  return true;
}
function endRead(socket) {
  if (overSlice() && !socket.destroyed) pause(socket);
}

// src/connection/auth.ts
var UNAUTHENTICATED = "unauthenticated";
async function authenticateOpened(conn, auth, deadline, signal, aborted) {
  if (!auth) return;
  if (signal?.aborted) {
    conn.destroy(aborted());
    throw aborted();
  }
  const abortAuth = () => conn.destroy(aborted());
  signal?.addEventListener("abort", abortAuth, { once: true });
  try {
    await authenticate(conn, auth, deadline);
  } catch (caught) {
    const err = caught instanceof TimeoutError ? new ConnectTimeoutError("authentication got no reply in time (bound: connectTimeoutMs); the socket was closed", { server: conn.server, cause: caught }) : caught;
    conn.destroy(err);
    throw err;
  } finally {
    signal?.removeEventListener("abort", abortAuth);
  }
}
async function authenticate(conn, auth, deadline) {
  const required = await conn.send(encodeVersion(), "version", deadline).then(() => false, (err) => {
    if (err instanceof ClientErrorReply && err.detail === `CLIENT_ERROR ${UNAUTHENTICATED}`) return true;
    throw err;
  });
  if (!required) {
    throw new AuthenticationError("authentication failed: the server does not use ASCII authentication (-Y); the credentials were not sent", { server: conn.server });
  }
  try {
    await conn.send(encodeAuth(auth.username, auth.password), "auth", deadline);
  } catch (err) {
    if (!(err instanceof ClientErrorReply)) throw err;
    throw new AuthenticationError(`authentication failed: the server refused the credentials of user ${JSON.stringify(auth.username)} (${err.detail})`, { server: conn.server, cause: err });
  }
}

// src/connection/socket.ts

var _tls = require('tls'); var _tls2 = _interopRequireDefault(_tls);

var log = _debug2.default.call(void 0, "memcluster:conn");
var TLS_CERT_ERRORS = /* @__PURE__ */ new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID"
]);
function isTlsCertificateError(err) {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = e.code;
    if (typeof code === "string" && TLS_CERT_ERRORS.has(code)) return true;
  }
  return false;
}
function connectError(err, opts) {
  const why = `${err.code ?? "error"}: ${err.message}`;
  if (opts.tls && err.code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new ConnectionError(`TLS handshake failed: the server certificate does not match the expected host name (${why})`, { server: opts.server, cause: err });
  }
  if (opts.tls && isTlsCertificateError(err)) {
    return new ConnectionError(`TLS handshake failed: the server certificate could not be verified (${why})`, { server: opts.server, cause: err });
  }
  if (opts.tls && (err.code?.startsWith("ERR_SSL") || err.code === "ECONNRESET")) {
    return new ConnectionError(`TLS handshake failed (${why})`, { server: opts.server, cause: err });
  }
  return new ConnectionError(`connect failed: ${err.code ?? err.message}`, { server: opts.server, cause: err });
}
function openSocket(opts, signal, aborted) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const socket = opts.tls ? _tls2.default.connect({ ...opts.tls, host: opts.host, port: opts.port, servername: opts.tls.servername ?? (_net2.default.isIP(opts.host) ? void 0 : opts.host) }) : _net2.default.connect({ host: opts.host, port: opts.port });
    socket.setNoDelay(true);
    const onAbort = () => fail(aborted());
    const fail = (err) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.removeAllListeners();
      socket.on("error", () => {
      });
      socket.destroy();
      log("connect %s failed: %s", opts.server, err.message);
      reject(err);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    let connected = false;
    const timer = setTimeout(() => setImmediate(() => {
      if (!connected) fail(new ConnectTimeoutError(`connect timed out after ${opts.connectTimeoutMs} ms`, { server: opts.server }));
    }), opts.connectTimeoutMs);
    socket.once("error", (err) => fail(connectError(err, opts)));
    socket.once(opts.tls ? "secureConnect" : "connect", () => {
      connected = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.removeAllListeners();
      resolve(socket);
    });
  });
}

// src/connection/connection.ts
var log2 = _debug2.default.call(void 0, "memcluster:conn");
var DEFAULT_STALL_MS = 1e3;
var LATE_MS = 25;
var MAX_LATE_CHECKS = 3;
var nextId = 1;
var liveDeadline = (p) => p.abandoned ? Infinity : p.out.deadline;
var Connection = class _Connection {
  /** Small per-process number so log lines can tell sockets apart. */
  id = nextId++;
  server;
  /**
   * Set by the owner; called after each reply was read and delivered (or discarded, for an abandoned
   * request) while the socket stays in service: the server answered, and the socket has room again.
   */
  onReplied;
  /** Set by the owner; called exactly once when the connection dies, whatever the reason. */
  onDeath;
  /** When the last reply arrived (monotonic ms), for "trust recently proven sockets". */
  lastReplyAt = 0;
  /** The request that proves this socket when it is borrowed (learned when it was opened). */
  validation = "version";
  /** When the last byte arrived (monotonic ms): progress, for the stall check. */
  lastDataAt = 0;
  stallMs;
  socket;
  parser;
  pending = new Deque();
  timer;
  /** The deadline the timer is armed for. */
  timerAt = Infinity;
  /** Which keys are in flight here (only while the owner has several sockets; see `trackKeys`). */
  keys = new KeysInFlight();
  /** A flush is scheduled for the end of this tick. */
  flushing = false;
  /** Requests written since the last flush: their bytes leave (and their stall clock starts) at the flush. */
  unsent = [];
  /** Their bytes, for one write at the flush. */
  out = new OutBuffer();
  dead;
  drainWaiters = [];
  constructor(socket, opts) {
    this.server = opts.server;
    this.socket = socket;
    this.stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_MS;
    this.parser = new ReplyParser(
      { server: opts.server, maxValueBytes: opts.maxValueBytes },
      (reply) => this.onReply(reply),
      (err) => this.destroy(err)
    );
    socket.on("data", (chunk) => {
      this.lastDataAt = now();
      if (!beginRead(socket, chunk)) return;
      this.parser.feed(chunk);
      endRead(socket);
    });
    socket.on("error", (err) => this.destroy(new ConnectionError(`socket error: ${err.message}`, { server: this.server, cause: err })));
    socket.on("end", () => this.destroy(new ConnectionError("server closed the connection (EOF)", { server: this.server })));
    socket.on("close", () => this.destroy(new ConnectionError("socket closed", { server: this.server })));
    socket.on("drain", () => this.flushDrainWaiters());
  }
  /**
   * Opens a socket (TCP, or TLS when configured) within `connectTimeoutMs`, then authenticates when
   * credentials are set. The result has carried no command yet: the pool validates it before use.
   * Aborting `signal` abandons the attempt at once (socket and timer gone).
   */
  static open(opts, signal) {
    if (!_chunkNYUFQ7A3cjs.isTraced.call(void 0, _chunkNYUFQ7A3cjs.connectTrace)) return _Connection.connect(opts, signal);
    return _chunkNYUFQ7A3cjs.traceAsync.call(void 0, _chunkNYUFQ7A3cjs.connectTrace, { ..._chunkNYUFQ7A3cjs.targetOf.call(void 0, opts.server), tls: !!opts.tls }, () => _Connection.connect(opts, signal));
  }
  /** `open` itself, outside its `memcluster:connect` trace. */
  static async connect(opts, signal) {
    const aborted = () => new ConnectionError("connection attempt abandoned: the client is closing", { server: opts.server });
    const conn = new _Connection(await openSocket(opts, signal, aborted), opts);
    log2("conn#%d %s connected%s", conn.id, opts.server, opts.tls ? " (tls)" : "");
    await authenticateOpened(conn, opts.auth, now() + opts.connectTimeoutMs, signal, aborted);
    return conn;
  }
  /** False once the connection is dead; a dead connection rejects every request. */
  get alive() {
    return this.dead === void 0;
  }
  /**
   * True while the validation request is in flight (set by `validateSocket`): a missed deadline is
   * then a failed validation rather than a command timeout, counted by whoever validates.
   */
  validating = false;
  /** Requests written and not yet answered. */
  get inFlight() {
    return this.pending.length;
  }
  /** True while the socket's write buffer is over its high-water mark; wait with `drained()`. */
  get congested() {
    return this.socket.writableNeedDrain;
  }
  /** Whether this socket alone keeps the process alive (`false` for idle sockets with `allowExitOnIdle`). */
  keepAlive(on) {
    if (on) this.socket.ref();
    else this.socket.unref();
  }
  /** Resolves when the socket can take more bytes (or is dead). */
  drained() {
    if (!this.congested || this.dead) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
  /**
   * Writes one request and resolves with its reply (or rejects with a typed error). `deadline` is
   * the call's (monotonic ms, see `now()`): if the reply has not come by then, the call rejects with
   * `TimeoutError` and the request is abandoned; the socket stays (see the class notes). `verify`
   * runs synchronously on the reply before it is delivered; an error from it ends the socket.
   * `maxValues` caps the VALUE blocks of a retrieval reply (the number of keys asked for).
   */
  send(bytes3, kind, deadline, maxValues, verify) {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.write({ bytes: bytes3, kind, deadline, maxValues, verify, resolve, reject });
    });
  }
  /**
   * `send` for an owner that brings its own request object (no promise, no closure per request):
   * `out.resolve` or `out.reject` is called once. The returned token abandons the request
   * (`abandon`). On a dead connection `out.reject` is called at once and undefined returned.
   */
  request(out) {
    if (this.dead) {
      out.reject(this.dead);
      return void 0;
    }
    out.prepare?.();
    return this.write(out);
  }
  /** Gives up on a request written here: its call rejects with `err` now; the socket stays in service. */
  abandon(p, err) {
    if (p.abandoned || this.dead) return;
    if (this.pending.indexOf(p) < 0) return;
    p.abandoned = true;
    p.out.reject(err);
  }
  /**
   * Whether a request for `key` (or any of `keys`) is in flight here, so the next one for it must
   * come here too; with `writesOnly`, only requests that change items count (reads may pass reads).
   */
  carries(key, keys, writesOnly) {
    return this.keys.mayCarry(key, keys, writesOnly) && anyCarries(this.pending.items(), key, keys, writesOnly);
  }
  /**
   * Keeps (or stops keeping) the in-flight key counts `carries` reads. An owner with one socket has
   * no choice to make, so it keeps them off and requests pay nothing for them; turning them on
   * counts what is in flight now.
   */
  trackKeys(on) {
    this.keys.track(on, [...this.pending.items()].map((p) => p.out));
  }
  write(out) {
    const bytes3 = out.bytes;
    const dataBlock = hasDataBlock(out.kind, bytes3);
    const p = { out, writtenAt: Infinity, abandoned: false, dataBlock };
    this.pending.push(p);
    this.keys.count(out, 1);
    this.unsent.push(p);
    this.parser.expect(out.kind, out.maxValues, out.replyKeys);
    if (!this.flushing) {
      this.flushing = true;
      if (this.pending.length > 1) setImmediate(this.flush);
      else process.nextTick(this.flush);
    }
    this.out.add(bytes3);
    if (out.deadline < this.timerAt) this.armTimer(out.deadline);
    return p;
  }
  flush = () => {
    this.flushing = false;
    this.out.writeTo(this.dead ? void 0 : this.socket);
    const t = now();
    for (const p of this.unsent) p.writtenAt = t;
    this.unsent.length = 0;
    if (t + this.stallMs < this.timerAt) this.armTimer(t + this.stallMs);
  };
  /** Destroys the socket and rejects every pending request. Idempotent. */
  destroy(reason) {
    if (this.dead) return;
    this.dead = reason;
    if (this.timer !== void 0) clearTimeout(this.timer);
    this.timer = void 0;
    this.timerAt = Infinity;
    this.socket.destroy();
    const pending = this.pending.drain();
    log2("conn#%d %s destroyed (%s), %d pending rejected", this.id, this.server, reason.message, pending.length);
    this.onDeath?.(this, reason, pending.length);
    for (const p of pending) if (!p.abandoned) p.out.reject(reason);
    this.flushDrainWaiters();
  }
  onReply(reply) {
    if (this.dead) return;
    const req = this.pending.shift();
    if (!req) return;
    this.keys.count(req.out, -1);
    this.lastReplyAt = this.lastDataAt;
    const failed = replyError(reply, req.dataBlock, this.server);
    if (failed) {
      if (!req.abandoned) req.out.reject(failed.err);
      if (failed.end) this.destroy(failed.end);
    } else {
      const bad = req.out.verify?.(reply);
      if (bad) {
        if (!req.abandoned) req.out.reject(bad);
        this.destroy(bad);
        return;
      }
      if (!req.abandoned) req.out.resolve(reply);
      else req.out.late?.(reply);
    }
    if (!this.dead) this.onReplied?.(this);
  }
  armTimer(deadline) {
    if (!Number.isFinite(deadline)) return;
    if (this.timer !== void 0) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(() => this.checkDeadline(), Math.max(1, Math.ceil(deadline - now())));
    this.timer.unref();
  }
  /**
   * Two clocks, checked together: each call's own deadline (past it, the call rejects with
   * `TimeoutError` and its request is abandoned; the socket stays), and the socket's progress (no
   * byte for `stallMs` since the oldest outstanding request was written: the server is not
   * answering, so the socket goes and every pending request rejects).
   */
  checkDeadline(graced = 0) {
    const planned = this.timerAt;
    this.timer = void 0;
    this.timerAt = Infinity;
    if (this.dead || this.pending.length === 0) return;
    const t = now();
    const head = this.pending.peek();
    const stallAt = this.stallAt();
    const earliest = Math.min(stallAt, this.pending.min(liveDeadline));
    if (t < earliest) return this.armTimer(earliest);
    const paused2 = this.socket.isPaused();
    if (graced === 0 || paused2 || t - planned > LATE_MS && graced < MAX_LATE_CHECKS) {
      this.timerAt = t;
      const next = paused2 ? Math.max(graced, 1) : graced + 1;
      this.timer = setTimeout(() => this.checkDeadline(next), 0);
      this.timer.unref();
      return;
    }
    if (t >= this.stallAt()) {
      const what = `no reply for ${Math.round(t - Math.max(head.writtenAt, this.lastDataAt))} ms with ${this.pending.length} request(s) outstanding (${head.out.kind} first) on conn#${this.id}`;
      this.destroy(this.validating ? new ValidationFailedError(`no reply to the ${head.out.kind} validation request in time (conn#${this.id})`, { server: this.server }) : new TimeoutError(what, { server: this.server, stalled: true }));
      return;
    }
    for (const p of this.pending.items()) {
      if (p.abandoned || p.out.deadline > t) continue;
      p.abandoned = true;
      p.out.reject(this.validating && (p.out.kind === "mn" || p.out.kind === "version") ? new ValidationFailedError(`no reply to the ${p.out.kind} validation request in time (conn#${this.id})`, { server: this.server }) : new TimeoutError(`no reply within the call's timeout (${p.out.kind}, request abandoned; conn#${this.id} kept)`, { server: this.server }));
    }
    this.checkDeadline(1);
  }
  /**
   * When the socket counts as stalled: the earliest point at which an outstanding request has had
   * no byte for its allowance since it was written (or since the last byte, if later). The
   * allowance is `stallMs`, or longer for a request given more time (a call's own `timeoutMs`, a
   * validation's `validateTimeoutMs`): a server slower than the client's bound is not judged dead
   * while only such a call waits on it. A request with the usual bound written behind it (or one
   * abandoned) still has `stallMs`, so a frozen server is judged as soon as ordinary calls meet it.
   */
  stallAt() {
    return this.pending.min(this.stallPoint);
  }
  stallPoint = (p) => {
    const own = p.abandoned ? 0 : p.out.deadline - p.writtenAt;
    return Math.max(p.writtenAt, this.lastDataAt) + (own > this.stallMs ? own : this.stallMs);
  };
  flushDrainWaiters() {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
};

// src/cluster/server-node.ts


// src/pool/server-pool.ts
var _genericpool = require('generic-pool'); var _genericpool2 = _interopRequireDefault(_genericpool);

var _events = require('events');

// src/connection/prove.ts

var log3 = _debug2.default.call(void 0, "memcluster:conn");
var RELEARN_AFTER_MS = 3e4;
var ServerTraits = class {
  constructor(mode) {
    this.mode = mode;
  }
  mode;
  #version;
  /** Whether `#version` is one whose meta protocol memcluster uses (cached: read per request). */
  #metaVersion = false;
  /** The last `VERSION` a socket reported (undefined until one did). */
  get version() {
    return this.#version;
  }
  set version(v) {
    this.#version = v;
    this.#metaVersion = supportsMetaProtocol(v);
  }
  /** True when the last socket that tried `mn` got `MN`: it speaks the meta protocol's no-op. */
  meta = false;
  /** Until then (monotonic ms) new sockets are asked `version` only: `mn` was refused recently. */
  mnRefusedUntil = 0;
  /** Whether a new socket should try `mn` (always in `mn` mode, never in `version` mode). */
  get tryMn() {
    return this.mode === "mn" || this.mode === "auto" && now() >= this.mnRefusedUntil;
  }
  /**
   * Whether requests to this server may use the meta protocol: memcached >= 1.6.10 by its version,
   * and, once `mn` was refused (a proxy in front of it closes the socket on a meta command), only
   * after a later socket got `MN` again: time passing proves nothing (a proxy forwards `version`).
   * `undefined` until a socket has reported the version.
   */
  get speaksMeta() {
    if (this.#version === void 0) return void 0;
    return this.#metaVersion && (this.mnRefusedUntil === 0 || this.meta);
  }
  /** Remembers that `mn` did not work on this server (ERROR, or the socket was closed on it). */
  refuseMn() {
    this.meta = false;
    this.mnRefusedUntil = now() + RELEARN_AFTER_MS;
  }
};
var MetaUnsupportedError = class extends ValidationFailedError {
  constructor(server, cause) {
    super("the server answered ERROR to mn (no meta protocol)", { server, cause });
  }
};
async function validateSocket(conn, command, timeoutMs, keepOnError = false) {
  const started = now();
  const server = conn.server;
  conn.validating = true;
  try {
    const reply = await conn.send(command === "mn" ? encodeMn() : encodeVersion(), command, started + timeoutMs);
    if (command === "mn" && reply.kind === "status" && reply.status === "MN") return void 0;
    if (command === "version" && reply.kind === "version") return reply.version;
    throw new ValidationFailedError(`unexpected reply to ${command}: ${reply.kind}`, { server });
  } catch (err) {
    if (keepOnError && command === "mn" && conn.alive && err instanceof ClientErrorReply && err.detail === "server answered ERROR") {
      throw new MetaUnsupportedError(server, err);
    }
    const wrapped = err instanceof TooManyConnectionsError || err instanceof ValidationFailedError ? err : err instanceof ClientErrorReply && err.detail.startsWith("CLIENT_ERROR unauthenticated") ? new AuthenticationError("the server requires authentication (memcached -Y) and no credentials are configured (option auth)", { server, cause: err }) : new ValidationFailedError(`${command} validation failed after ${Math.round(now() - started)} ms: ${err.detail ?? err.message}`, { server, cause: err });
    conn.destroy(wrapped);
    throw wrapped;
  } finally {
    conn.validating = false;
  }
}
async function openProven(opts, traits, validateTimeoutMs, signal) {
  const proven = await prove(opts, traits, validateTimeoutMs, signal);
  proven.conn.validation = proven.command;
  return proven;
}
async function prove(opts, traits, validateTimeoutMs, signal) {
  const conn = await Connection.open(opts, signal);
  if (!traits.tryMn) {
    traits.version = await validateSocket(conn, "version", validateTimeoutMs);
    return { conn, command: "version" };
  }
  if (traits.mode === "mn") {
    if (traits.version === void 0) traits.version = await validateSocket(conn, "version", validateTimeoutMs);
    await validateSocket(conn, "mn", validateTimeoutMs);
    traits.meta = true;
    return { conn, command: "mn" };
  }
  const version = await validateSocket(conn, "version", validateTimeoutMs);
  traits.version = version;
  if (!supportsMetaNoop(version)) {
    traits.meta = false;
    return { conn, command: "version" };
  }
  try {
    await validateSocket(conn, "mn", validateTimeoutMs, true);
    traits.meta = true;
    return { conn, command: "mn" };
  } catch (err) {
    if (err instanceof MetaUnsupportedError) {
      log3("%s conn#%d answered ERROR to mn: validating with version", opts.server, conn.id);
      traits.refuseMn();
      return { conn, command: "version" };
    }
    if (!(err instanceof MemclusterError) || !isClosedOnMn(err)) throw err;
    log3("%s conn#%d was closed on mn: validating with version on a new socket", opts.server, conn.id);
    traits.refuseMn();
    const again = await Connection.open(opts, signal);
    traits.version = await validateSocket(again, "version", validateTimeoutMs);
    return { conn: again, command: "version" };
  }
}
function isClosedOnMn(err) {
  const cause = err.cause;
  return cause instanceof ConnectionError;
}
function supportsMetaNoop(version) {
  const m = /^(\d+)\.(\d+)\./.exec(version ?? "");
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 1 || major === 1 && minor >= 6;
}
function supportsMetaProtocol(version) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version ?? "");
  if (!m) return false;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return major > 1 || major === 1 && (minor > 6 || minor === 6 && patch >= 10);
}

// src/pool/server-pool.ts
var log4 = _debug2.default.call(void 0, "memcluster:pool");
var CLOSING = new ConnectionError("pool closed the socket");
var MAX_CREATE_BACKOFF_MS = 1e3;
var MIN_TOP_UP_TRIES = 5;
var FRESH_MS = 50;
var ServerPool = class {
  constructor(opts, hooks = {}) {
    this.opts = opts;
    this.hooks = hooks;
    this.server = opts.server;
    this.traits = new ServerTraits(opts.validation);
    _events.setMaxListeners.call(void 0, 0, this.abort.signal);
    this.pool = _genericpool2.default.createPool({
      create: () => this.create(),
      destroy: async (conn) => {
        this.deadIdle.delete(conn);
        conn.onDeath = void 0;
        conn.destroy(CLOSING);
      },
      validate: (conn) => this.validateOnBorrow(conn)
    }, {
      max: opts.maxConnections,
      min: opts.minConnections,
      acquireTimeoutMillis: opts.acquireTimeoutMs,
      testOnBorrow: true,
      fifo: false,
      // LIFO keeps few sockets hot and lets idle ones age out
      // Idle sockets above minConnections close after idleTimeoutMs; the minConnections ones stay
      // (generic-pool's hard idle timeout would close and reopen them over and over).
      softIdleTimeoutMillis: opts.idleTimeoutMs > 0 ? opts.idleTimeoutMs : void 0,
      idleTimeoutMillis: Number.MAX_SAFE_INTEGER,
      evictionRunIntervalMillis: opts.idleTimeoutMs > 0 ? Math.max(250, Math.min(opts.idleTimeoutMs, 5e3)) : 0,
      autostart: opts.minConnections > 0
    });
    this.pool.on("factoryCreateError", () => {
    });
    this.pool.on("factoryDestroyError", () => {
    });
  }
  opts;
  hooks;
  server;
  pool;
  /** What this server's sockets have shown (version, meta), shared with its health probes. */
  traits;
  fresh = /* @__PURE__ */ new WeakSet();
  createFailures = 0;
  nextCreateAt = 0;
  closed = false;
  sleepers = /* @__PURE__ */ new Map();
  /** Abandons connects and authentications still in progress when the pool closes. */
  abort = new AbortController();
  /** Sockets that died while idle: closed already, dropped by generic-pool at the next borrow or eviction run. */
  deadIdle = /* @__PURE__ */ new Set();
  counters = { created: 0, evicted: 0, validations: 0, validationFailures: 0 };
  /** Rejecters of the borrows waiting right now, for failures no retry can fix (see `refuseWaiters`). */
  waiters = /* @__PURE__ */ new Set();
  /** Opens and proves a socket as the pool does (health probes use it too, so they learn alike). */
  prove(signal) {
    return openProven(this.opts, this.traits, this.opts.validateTimeoutMs, signal);
  }
  /** A proven socket, or a rejection (`TimeoutError` when none came within `acquireTimeoutMs`). */
  acquire() {
    if (!_chunkNYUFQ7A3cjs.isTraced.call(void 0, _chunkNYUFQ7A3cjs.poolWaitTrace)) return this.borrowProven();
    return _chunkNYUFQ7A3cjs.traceAsync.call(void 0, _chunkNYUFQ7A3cjs.poolWaitTrace, _chunkNYUFQ7A3cjs.targetOf.call(void 0, this.server), () => this.borrowProven());
  }
  /** `acquire` itself, outside its `memcluster:pool.wait` trace. */
  async borrowProven() {
    const borrow = this.pool.acquire();
    let refuse;
    let refused = false;
    const refusal = new Promise((_, reject) => {
      refuse = (err) => {
        refused = true;
        reject(err);
      };
    });
    this.waiters.add(refuse);
    borrow.then((conn) => {
      if (refused) this.release(conn);
    }, () => {
    });
    try {
      return await Promise.race([borrow, refusal]);
    } catch (err) {
      if (err instanceof MemclusterError) throw err;
      throw new TimeoutError(`no usable socket within ${this.opts.acquireTimeoutMs} ms (acquire)`, { server: this.server, cause: err });
    } finally {
      this.waiters.delete(refuse);
    }
  }
  /** Gives a socket back. A dead or busy one is destroyed instead: nothing in an unknown state is pooled. */
  release(conn) {
    if (!this.pool.isBorrowedResource(conn)) return;
    if (!conn.alive || conn.inFlight > 0 || this.closed) {
      this.pool.destroy(conn).catch(() => {
      });
      return;
    }
    if (this.opts.allowExitOnIdle) conn.keepAlive(false);
    this.pool.release(conn).catch(() => {
    });
  }
  /** Destroys a borrowed socket now. */
  evict(conn) {
    if (this.pool.isBorrowedResource(conn)) this.pool.destroy(conn).catch(() => {
    });
  }
  /**
   * Forgets the create backoff: the server just answered a probe, so the next create should not
   * wait; and opens the sockets `minConnections` asks for, which failed creates left unopened.
   */
  resetBackoff() {
    this.createFailures = 0;
    this.nextCreateAt = 0;
    if (!this.closed && this.opts.minConnections > 0) this.internals()?._ensureMinimum?.();
  }
  /**
   * Withdraws the borrows waiting for a socket (they reject with `err`): nobody needs them any
   * more (the server was marked down, or a failure no retry can fix). A borrow still waiting
   * makes generic-pool retry `create` until its acquire timeout: dialing a dead server, and keeping
   * a process that asked to exit on idle alive.
   */
  withdrawBorrows(err) {
    this.abandonWaiters(err);
  }
  /** generic-pool 3.9.0's private parts this pool reaches (pinned exactly; every use is optional). */
  internals() {
    return this.pool;
  }
  /** Socket counts and validation figures. */
  stats() {
    return {
      size: this.pool.size - this.deadIdle.size,
      // generic-pool's clear() (at close) destroys the free sockets but leaves them in its count.
      free: this.closed ? 0 : Math.max(0, this.pool.available - this.deadIdle.size),
      borrowed: this.pool.borrowed,
      pending: this.pool.pending,
      ...this.counters
    };
  }
  /** Waits for borrowed sockets to come back, closes them all, and clears every timer. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    for (const [t, wake] of this.sleepers) {
      clearTimeout(t);
      wake();
    }
    this.sleepers.clear();
    this.abort.abort();
    this.abandonWaiters(new ConnectionError("pool is closed", { server: this.server }));
    await this.pool.drain();
    await this.pool.clear();
  }
  /**
   * Rejects borrows still waiting inside generic-pool. It has no public way to cancel them, and
   * while one waits, every failed `create` is retried until its acquire timeout, which would keep
   * a closed client (and the process) alive. This reads generic-pool 3.9.0's waiting queue, which
   * is why that version is pinned exactly; if the shape ever differs, close() falls back to waiting
   * out the acquire timeout.
   */
  abandonWaiters(err) {
    const queue = this.internals()?._waitingClientsQueue;
    if (typeof queue?.dequeue !== "function") return;
    for (let r = queue.dequeue(); r !== void 0; r = queue.dequeue()) r.reject(err);
  }
  async create() {
    const wait = this.nextCreateAt - now();
    if (wait > 0) await this.sleep(wait);
    if (this.closed) {
      if (this.pool.pending > 0) await this.sleep(this.opts.acquireTimeoutMs, true);
      throw new ConnectionError("pool is closed", { server: this.server });
    }
    let conn;
    try {
      ({ conn } = await this.prove(this.abort.signal));
    } catch (err) {
      this.createFailures++;
      this.nextCreateAt = now() + Math.min(MAX_CREATE_BACKOFF_MS, 25 * 2 ** Math.min(this.createFailures, 10));
      const e = err instanceof MemclusterError ? err : new ConnectionError(String(err), { server: this.server, cause: err });
      log4("%s create failed (%d in a row): %s", this.server, this.createFailures, e.message);
      this.hooks.onFailure?.(e);
      if (isConfigurationFailure(e)) {
        this.refuseWaiters(e);
        this.abandonWaiters(e);
      } else if (this.opts.minConnections > 0 && this.createFailures < MIN_TOP_UP_TRIES) {
        setTimeout(() => {
          if (!this.closed) this.internals()?._ensureMinimum?.();
        }, Math.max(0, this.nextCreateAt - now())).unref();
      }
      throw e;
    }
    this.createFailures = 0;
    this.nextCreateAt = 0;
    this.counters.created++;
    this.fresh.add(conn);
    if (this.opts.allowExitOnIdle) conn.keepAlive(false);
    conn.onDeath = (c, reason, pending) => this.onDeath(c, reason, pending);
    this.hooks.onConnected?.(conn);
    return conn;
  }
  /**
   * Rejects every waiting borrow with `err` now. generic-pool would keep the borrows waiting and
   * retry `create` (paced by the backoff) until `acquireTimeoutMs`, turning refused credentials or an
   * untrusted certificate into a timeout; callers should see the real reason at once.
   */
  refuseWaiters(err) {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const refuse of waiters) refuse(err);
  }
  /** Never rejects (a rejecting validate wedges generic-pool). */
  async validateOnBorrow(conn) {
    if (!conn.alive || this.closed) return false;
    if (this.opts.allowExitOnIdle) conn.keepAlive(true);
    if (this.fresh.has(conn)) {
      this.fresh.delete(conn);
      if (now() - conn.lastReplyAt < FRESH_MS) return true;
    }
    if (this.opts.trustRecentMs > 0 && now() - conn.lastReplyAt < this.opts.trustRecentMs) return true;
    this.counters.validations++;
    try {
      await validateSocket(conn, conn.validation, this.opts.validateTimeoutMs);
      return !this.closed;
    } catch (err) {
      this.counters.validationFailures++;
      this.hooks.onFailure?.(err);
      return false;
    }
  }
  onDeath(conn, reason, pendingAtDeath) {
    if (reason === CLOSING) return;
    this.counters.evicted++;
    const borrowed = this.pool.isBorrowedResource(conn);
    if (borrowed) {
      this.pool.destroy(conn).catch(() => {
      });
    } else if (!this.dropIdle(conn)) {
      this.deadIdle.add(conn);
    }
    log4("%s conn#%d evicted (%s)%s", this.server, conn.id, reason.message, borrowed ? "" : " while idle");
    this.hooks.onEvicted?.(conn, reason, pendingAtDeath);
  }
  /**
   * Takes a socket that died while idle out of generic-pool's free list and destroys it there, so
   * the pool tops itself up to `minConnections` at once (a server restart, or one that closes idle
   * connections, left the pool empty until the next borrow). False if generic-pool's shape differs.
   */
  dropIdle(conn) {
    const p = this.internals();
    const it = p?._availableObjects?.iterator?.();
    if (!it || typeof p?._destroy !== "function") return false;
    for (let r = it.next(); r.done !== true; r = it.next()) {
      if (r.value?.obj !== conn) continue;
      it.remove();
      p._destroy(r.value);
      return true;
    }
    return false;
  }
  /**
   * A delay that `close()` cuts short (unless `untracked`, used after close: that one must run its
   * course, and stays ref'd so an awaited `close()` keeps the process alive until it returns).
   */
  sleep(ms, untracked = false) {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.sleepers.delete(t);
        resolve();
      }, ms);
      if (!untracked) this.sleepers.set(t, resolve);
    });
  }
};
function isConfigurationFailure(err) {
  return err instanceof AuthenticationError || err instanceof ConnectionError && isTlsCertificateError(err);
}

// src/cluster/health.ts


var log5 = _debug2.default.call(void 0, "memcluster:health");
var ServerHealth = class {
  constructor(server, opts, prove2, hooks) {
    this.server = server;
    this.opts = opts;
    this.prove = prove2;
    this.hooks = hooks;
    _events.setMaxListeners.call(void 0, 0, this.abort.signal);
  }
  server;
  opts;
  prove;
  hooks;
  state = "up";
  failures = 0;
  lastError;
  downSince = 0;
  probeTimer;
  probeAttempt = 0;
  probing;
  closed = false;
  /** Abandons a probe still connecting or authenticating when the client closes. */
  abort = new AbortController();
  get isDown() {
    return this.state === "down";
  }
  /** A real request succeeded on this server (the probe delay starts over from its first step). */
  recordSuccess() {
    this.failures = 0;
    this.probeAttempt = 0;
  }
  /**
   * A socket was opened and proven outside a probe (the pool topping itself up to
   * `minConnections`): the same evidence a passed probe gives, so a down server comes up now
   * rather than when the probe timer fires (and no probe socket is opened beside it).
   */
  proven() {
    if (this.state !== "down" || this.closed) return;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = void 0;
    this.markUp();
  }
  /** Something failed in a way that says the server itself is not answering. */
  recordFailure(err) {
    this.lastError = err;
    if (this.state === "down" || this.closed) return;
    this.failures++;
    this.hooks.onFailure?.(err, this.failures);
    log5("%s failure %d/%d: %s", this.server, this.failures, this.opts.failureThreshold, err.message);
    if (this.failures >= this.opts.failureThreshold) this.markDown(err);
  }
  /** Marks the server down now (also used when a failure is unambiguous). */
  markDown(reason) {
    if (this.state === "down" || this.closed) return;
    this.state = "down";
    this.downSince = Date.now();
    log5("%s marked DOWN after %d failures: %s", this.server, this.failures, reason.message);
    this.hooks.onDown(reason, this.failures);
    this.scheduleProbe();
  }
  /** Stops probing and clears every timer. */
  close() {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = void 0;
    this.abort.abort();
    this.probing?.destroy(new MemclusterError("MC_ERR_CLOSED", "client is closed", { server: this.server }));
  }
  scheduleProbe() {
    const base = Math.min(this.opts.maxRetryDelayMs, this.opts.retryDelayMs * 2 ** Math.min(this.probeAttempt, 20));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.probeAttempt++;
    log5("%s probe #%d in %d ms", this.server, this.probeAttempt, delay);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = void 0;
      void this.probe();
    }, delay);
    this.probeTimer.unref();
  }
  async probe() {
    if (this.closed) return;
    let conn;
    try {
      ({ conn } = await this.prove(this.abort.signal));
      this.probing = conn;
      conn.onDeath = void 0;
      conn.destroy(new MemclusterError("MC_ERR_PROBE_DONE", "probe finished", { server: this.server }));
      if (this.closed || this.state === "up") return;
      this.markUp();
    } catch (err) {
      this.lastError = err instanceof MemclusterError ? err : this.lastError;
      log5("%s probe failed: %s", this.server, err.message);
      if (!this.closed && this.state === "down") this.scheduleProbe();
    } finally {
      this.probing = void 0;
    }
  }
  markUp() {
    const downFor = Date.now() - this.downSince;
    this.state = "up";
    this.failures = 0;
    log5("%s marked UP after %d ms down", this.server, downFor);
    this.hooks.onUp(downFor);
  }
};

// src/cluster/job-queue.ts
var JobQueue = class {
  /** @param timedOut the error for a request whose deadline passed while it waited. */
  constructor(timedOut) {
    this.timedOut = timedOut;
  }
  timedOut;
  jobs = new Deque();
  timer;
  /** The deadline the timer is armed for (-Infinity for the grace turn). */
  timerAt = Infinity;
  closed = false;
  /** True while deadlines never decrease from head to tail: the head's deadline is the earliest. */
  sorted = true;
  /** While `sorted`: the tail's deadline (the latest queued). */
  latest = -Infinity;
  /** While not `sorted`: a lower bound of the queued deadlines (exact after each scan). */
  earliest = Infinity;
  get length() {
    return this.jobs.length;
  }
  /**
   * Queues a job (the caller checked `maxQueue`) and tells its call where it waits; `arm` starts its
   * clock. A job due before the one the timer waits for re-arms it now.
   */
  push(job, owner) {
    const d = job.deadline;
    if (this.jobs.length === 0) {
      this.sorted = true;
      this.latest = d;
    } else if (this.sorted) {
      if (d >= this.latest) this.latest = d;
      else {
        this.sorted = false;
        this.earliest = Math.min(this.jobs.peek().deadline, d);
      }
    } else if (d < this.earliest) {
      this.earliest = d;
    }
    this.jobs.push(job);
    job.cancel?.queuedOn(owner);
    if (this.timer && d < this.timerAt) {
      clearTimeout(this.timer);
      this.timer = void 0;
      this.arm();
    }
  }
  /**
   * The next job that can still be written, left at the head (`shift` takes it): jobs of aborted
   * calls and jobs past their deadline are rejected on the way, so none of them is ever written.
   * (Jobs past their deadline further back are rejected by the timer.)
   */
  peekLive() {
    let t = 0;
    while (this.jobs.length > 0) {
      const job = this.jobs.peek();
      if (job.cancel?.aborted) {
        this.jobs.shift();
        job.reject(job.cancel.reason);
      } else if (job.deadline <= (t ||= now())) {
        this.jobs.shift();
        job.reject(this.timedOut());
      } else {
        return job;
      }
    }
    return void 0;
  }
  shift() {
    return this.jobs.shift();
  }
  /** Drops the jobs of an aborted call, each rejecting with the call's reason. */
  purge(cancel) {
    for (const job of this.keepIf((j) => j.cancel !== cancel)) job.reject(cancel.reason);
  }
  /** Rejects the jobs whose deadline has passed with `err`; the others keep waiting. */
  rejectExpired(err) {
    const t = now();
    for (const job of this.keepIf((j) => j.deadline > t)) job.reject(err);
  }
  /** Rejects every queued job with `err`. */
  rejectAll(err) {
    for (const job of this.jobs.drain()) job.reject(err);
  }
  /** Rejects every queued job with `err` and stops the timer for good. */
  close(err) {
    this.closed = true;
    this.rejectAll(err);
    if (this.timer) clearTimeout(this.timer);
    this.timer = void 0;
  }
  /** Arms the timer for the earliest queued deadline (no-op when armed, empty or closed). */
  arm() {
    if (this.timer || this.jobs.length === 0 || this.closed) return;
    const at = this.firstDeadline();
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(false), Math.max(1, Math.ceil(at - now())));
    this.timer.unref();
  }
  /** The earliest queued deadline, or a lower bound of it while the order is broken (queue not empty). */
  firstDeadline() {
    return this.sorted ? this.jobs.peek().deadline : this.earliest;
  }
  expire(graced) {
    this.timer = void 0;
    if (this.jobs.length === 0) return;
    const t = now();
    if (this.firstDeadline() <= t) {
      if (!graced) {
        this.timerAt = -Infinity;
        this.timer = setTimeout(() => this.expire(true), 0);
        this.timer.unref();
        return;
      }
      let expired;
      if (this.sorted) {
        expired = [];
        while (this.jobs.length > 0 && this.jobs.peek().deadline <= t) expired.push(this.jobs.shift());
      } else {
        expired = this.keepIf((job) => job.deadline > t);
      }
      for (const job of expired) job.reject(this.timedOut());
    }
    this.arm();
  }
  /**
   * Keeps the jobs for which `keep` holds, in order, and returns the others (for the caller to
   * reject after this returns, so a request queued by a rejection goes behind the kept ones).
   * Re-learns the deadline order on the way.
   */
  keepIf(keep) {
    const dropped = [];
    let sorted = true;
    let latest = -Infinity;
    let earliest = Infinity;
    for (const job of this.jobs.drain()) {
      if (!keep(job)) {
        dropped.push(job);
        continue;
      }
      const d = job.deadline;
      if (d < latest) sorted = false;
      else latest = d;
      if (d < earliest) earliest = d;
      this.jobs.push(job);
    }
    this.sorted = sorted;
    this.latest = latest;
    this.earliest = earliest;
    return dropped;
  }
};

// src/cluster/server-node.ts
var log6 = _debug2.default.call(void 0, "memcluster:server");
var LINGER_MS = 50;
var ServerNode = class {
  constructor(server, opts, hooks) {
    this.server = server;
    this.opts = opts;
    this.pool = new ServerPool(opts.pool, {
      // Opening and validating a socket clears the last refusal, not the failure count: a proxy
      // in front of a dead backend answers validation but no command, and must still go down. A
      // down server comes up, as after a passed probe (the same proof; the probe delay keeps growing).
      onConnected: () => {
        this.lastRefusal = void 0;
        this.health.proven();
      },
      onFailure: (err) => {
        this.lastRefusal = { err };
        if (this.hasLiveSocket()) {
          log6("%s could not open another socket (%s): not counted, a socket is alive", this.server, err.code);
          return;
        }
        if (err instanceof TooManyConnectionsError && this.acquiring > 1) {
          log6("%s refused one of %d sockets on their way: not counted yet", this.server, this.acquiring);
          return;
        }
        this.health.recordFailure(err);
        if (err instanceof TooManyConnectionsError && this.conns.length === 0) this.rejectQueued(err);
      },
      onEvicted: (conn, reason, pendingAtDeath) => {
        this.removeConn(conn);
        const counted = conn.validating || reason instanceof ValidationFailedError || reason instanceof TooManyConnectionsError || reason.cause instanceof ClientErrorReply;
        if (pendingAtDeath > 0 && !counted) this.health.recordFailure(reason);
        hooks.onEvicted(server, conn.id, reason);
      }
    });
    this.health = new ServerHealth(server, opts.health, (signal) => this.pool.prove(signal), {
      onDown: (reason, failures) => {
        const down = new ServerUnavailableError(`server is down after ${failures} consecutive failures (last: ${reason.detail})`, { server, cause: reason });
        this.rejectQueued(down);
        this.pool.withdrawBorrows(down);
        hooks.onDown(server, reason, failures);
      },
      onUp: (downFor) => {
        this.pool.resetBackoff();
        hooks.onUp(server, downFor);
      },
      onFailure: (reason, failures) => hooks.onFailure?.(server, reason, failures)
    });
  }
  server;
  opts;
  pool;
  health;
  queue = new JobQueue(() => this.queuedTimeout());
  conns = [];
  /** Removed from the ring: finishing what was routed here before the change, then closing. */
  retiring = false;
  /** While retiring: whether a call that routed keys before the change may still submit some here. */
  held = () => false;
  acquiring = 0;
  releaseTimer;
  closed = false;
  /** What requests that reach a closed server are told (client closed, or server removed). */
  closeReason;
  /** The last failure to create or prove a socket: the reason to give queued requests that time out. */
  lastRefusal;
  /** Queues a request; it settles with the reply or a typed error by `job.deadline`. */
  submit(job) {
    if (this.closed) return job.reject(this.closeReason ?? new ClientClosedError({ server: this.server }));
    if (this.health.isDown) return job.reject(this.unavailable());
    if (job.cancel?.aborted) return job.reject(job.cancel.reason);
    if (this.queue.length === 0) {
      const conn = this.pick(job);
      if (conn) return this.write(conn, job);
    }
    if (this.queue.length >= this.opts.maxQueue) {
      return job.reject(new PoolFullError(`${this.queue.length} requests already waiting for a socket (maxQueue)`, { server: this.server }));
    }
    this.queue.push(job, this);
    this.pump();
  }
  /** Drops the queued requests of an aborted call, each rejecting with the call's reason. */
  purge(cancel) {
    this.queue.purge(cancel);
  }
  /**
   * Whether requests to this server use the meta protocol: `true`/`false`, or `undefined` while no
   * socket has told the server's version yet (see `Client` for how that is learned).
   */
  get meta() {
    const p = this.opts.protocol;
    return p === "auto" ? this.pool.traits.speaksMeta : p === "meta";
  }
  /** The error for requests while this server is down. */
  unavailable() {
    const last = this.health.lastError;
    return new ServerUnavailableError(`server is marked down${last ? ` (last: ${last.detail})` : ""}`, { server: this.server, cause: last });
  }
  stats() {
    let inFlight = 0;
    for (const c of this.conns) inFlight += c.inFlight;
    return {
      server: this.server,
      state: this.health.state,
      queued: this.queue.length,
      inFlight,
      failures: this.health.failures,
      lastError: this.health.lastError?.message,
      ...this.pool.stats()
    };
  }
  /**
   * For a server taken out of the ring: requests routed here before the change (queued, in flight,
   * or still being submitted by a multi-key call) finish here while the server answers, each within
   * its own deadline; then the server closes. Requests made after the change never come here.
   * `held` tells whether a call that routed keys before the change may still submit some (see
   * `Cluster#hold`). The first look is a turn later: requests routed in the same tick as the change
   * are submitted at the end of it (same-tick `get`s are coalesced on the next tick).
   */
  async retire(reason, held) {
    if (this.closed || this.retiring) return;
    this.retiring = true;
    if (held) this.held = held;
    log6("%s retiring: %d queued, %d socket(s)", this.server, this.queue.length, this.conns.length);
    await new Promise((resolve) => {
      const check = () => this.idle() ? resolve() : setTimeout(check, 5).unref();
      setImmediate(check);
    });
    await this.close(reason);
  }
  idle() {
    if (this.queue.length > 0 || this.acquiring > 0 || this.held()) return false;
    for (const c of this.conns) if (c.alive && c.inFlight > 0) return false;
    return true;
  }
  /**
   * Refuses new requests (they and the queued ones get `reason`), waits for in-flight ones (each
   * bounded by its timeout), then closes every socket and timer.
   */
  async close(reason = new ClientClosedError({ server: this.server })) {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.health.close();
    this.queue.close(reason);
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    await Promise.all(this.conns.map((c) => waitIdle(c)));
    for (const c of this.conns.splice(0)) this.putBack(c);
    await this.pool.close();
  }
  /**
   * Returns a borrowed socket to the pool without this node's reply hook: the pool's borrow-time
   * validation reply is not a reply to a real command, and must not reset the failure count (a
   * proxy in front of a dead backend answers `version`/`mn` but no command, and must still go down).
   */
  putBack(conn) {
    conn.onReplied = void 0;
    this.pool.release(conn);
  }
  /** Whether this node holds a borrowed socket still alive (its stall check condemns one that stops answering). */
  hasLiveSocket() {
    for (const c of this.conns) if (c.alive) return true;
    return false;
  }
  pick(job) {
    return pickSocket(this.conns, job, this.opts.maxPipeline);
  }
  /** Whether a request that changes `key` is in flight on one of several busy sockets (see `writingKey`). */
  writing(key) {
    return writingKey(this.conns, key);
  }
  write(conn, job) {
    const sent = conn.request(job);
    if (sent && job.cancel) job.cancel.track({ abandon: (err) => conn.abandon(sent, err) });
    if (conn.congested) void conn.drained().then(() => this.pump());
  }
  pump() {
    for (let job = this.queue.peekLive(); job !== void 0; job = this.queue.peekLive()) {
      const conn = this.pick(job);
      if (!conn) break;
      this.queue.shift();
      this.write(conn, job);
    }
    if (this.queue.length === 0) return;
    if (this.conns.length + this.acquiring < this.opts.pool.maxConnections && this.acquiring * this.opts.maxPipeline < this.queue.length) this.acquire();
    this.queue.arm();
  }
  acquire() {
    this.acquiring++;
    this.pool.acquire().then(
      (conn) => {
        this.acquiring--;
        if (this.closed) return this.pool.release(conn);
        this.conns.push(conn);
        this.keyTracking();
        conn.onReplied = this.afterReply;
        this.pump();
        this.scheduleRelease();
      },
      (err) => {
        this.acquiring--;
        log6("%s acquire failed: %s", this.server, err.message);
        if (this.conns.length > 0 || this.acquiring > 0) return;
        const final = this.health.isDown ? this.unavailable() : this.statedRefusal() ?? (err instanceof TimeoutError ? void 0 : err);
        if (final) return this.rejectQueued(final);
        this.queue.rejectExpired(err);
        if (this.queue.length > 0) this.pump();
      }
    );
  }
  /**
   * Every reply on a socket in service (an error line to its own request included): the server
   * answers a real command. Set while the node holds the socket; cleared when it goes back (`putBack`).
   */
  afterReply = (conn) => {
    this.health.recordSuccess();
    if (this.queue.length > 0) this.pump();
    else if (conn.inFlight === 0) this.scheduleRelease();
  };
  /**
   * Returns borrowed sockets to the pool once they have been idle for `LINGER_MS`: back-to-back
   * requests (a sequential caller, a server that gets every third key) keep their proven socket
   * instead of paying a validation round trip per request; a socket idle for longer goes back to
   * the pool, and its next borrow is validated.
   */
  scheduleRelease() {
    if (this.releaseTimer) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = void 0;
      const t = now();
      let lingering = false;
      for (let i = this.conns.length - 1; i >= 0; i--) {
        const c = this.conns[i];
        if (c.inFlight > 0 || this.queue.length > 0) continue;
        if (t - c.lastReplyAt < LINGER_MS) {
          lingering = true;
          continue;
        }
        this.conns.splice(i, 1);
        c.trackKeys(false);
        this.putBack(c);
        this.keyTracking();
      }
      if (lingering) this.scheduleRelease();
    }, LINGER_MS);
    this.releaseTimer.unref();
  }
  removeConn(conn) {
    const i = this.conns.indexOf(conn);
    if (i < 0) return;
    this.conns.splice(i, 1);
    this.pool.evict(conn);
    this.keyTracking();
    if (this.queue.length > 0) this.pump();
  }
  /** Sockets count their in-flight keys only while there are several to choose from (see `pick`). */
  keyTracking() {
    const on = this.conns.length > 1;
    for (const c of this.conns) c.trackKeys(on);
  }
  rejectQueued(err) {
    this.queue.rejectAll(err);
  }
  /**
   * The refusal the server stated on the last attempt to open a socket (too many connections, bad
   * credentials), if no socket has opened since: a better answer than "timed out" for requests that
   * waited for a socket. Silence stays a timeout.
   */
  statedRefusal() {
    const err = this.lastRefusal?.err;
    return err instanceof TooManyConnectionsError || err instanceof AuthenticationError ? err : void 0;
  }
  /**
   * What a request that waited for a socket past its call's deadline is told (not a server failure):
   * the server's stated refusal when it left us no socket, else a timeout (behind busy sockets that
   * answer, the refusal of one more is only its cause).
   */
  queuedTimeout() {
    const refusal = this.statedRefusal();
    if (refusal && !this.hasLiveSocket()) return refusal;
    return new TimeoutError(`no socket free within the call's timeout (waited behind ${this.queue.length} queued, ${this.conns.length} socket(s) busy)`, { server: this.server, cause: refusal ?? this.health.lastError });
  }
};
function waitIdle(conn) {
  return new Promise((resolve) => {
    const check = () => conn.inFlight === 0 || !conn.alive ? resolve() : setTimeout(check, 5).unref();
    check();
  });
}

// src/cluster/cluster.ts
var log7 = _debug2.default.call(void 0, "memcluster:cluster");
var Hold = class {
  constructor(deadline, holds) {
    this.deadline = deadline;
    this.holds = holds;
  }
  deadline;
  holds;
  released = false;
  release() {
    this.released = true;
    this.holds.delete(this);
  }
  /** Still keeping removed servers open: not released, and the call's deadline not passed. */
  get active() {
    return !this.released && now() < this.deadline;
  }
};
var Cluster = class {
  /**
   * `asGiven`: take `locations` as `memcached` 2.2.2 (hashring) took them, for the compat layer: a
   * server listed twice is one server, and an object's weights are read as hashring reads them
   * (`+weight || 1`: '2' is 2, 0 is 1). The ring is built from `locations` as they are either way.
   */
  constructor(locations, opts, hooks, asGiven = false) {
    this.opts = opts;
    this.hooks = hooks;
    this.asGiven = asGiven;
    validateLocations(locations, asGiven);
    this.ring = new Ring(locations);
    for (const id of this.ring.servers) this.nodes.set(id, this.createNode(id));
    this.reindex();
  }
  opts;
  hooks;
  asGiven;
  ring;
  nodes = /* @__PURE__ */ new Map();
  /** The nodes in ring-id order (`Ring#indexOf` indexes it): routing without a Map lookup per key. */
  byIndex = [];
  /** Servers retiring (out of the ring, finishing what was routed to them), by the promise of their retirement. */
  closing = /* @__PURE__ */ new Map();
  /** Calls routing keys now to submit them later (see `hold`). */
  holds = /* @__PURE__ */ new Set();
  closed = false;
  reindex() {
    this.byIndex = this.ring.servers.map((id) => this.nodes.get(id));
  }
  /** Every server, in ring-id order. */
  all() {
    return [...this.nodes.values()];
  }
  /** The server for a routed key (prefix + key). While it is down, with `failover`, the next live server on the ring. */
  nodeFor(routedKey) {
    const node = this.byIndex[this.ring.indexOf(routedKey)];
    if (!node) throw new NoServersError();
    if (!node.health.isDown || !this.opts.failover) return node;
    for (const other of this.ring.range(routedKey, this.nodes.size)) {
      const candidate = this.nodes.get(other);
      if (candidate && !candidate.health.isDown) {
        log7("key routed from down %s to %s (failover)", node.server, candidate.server);
        return candidate;
      }
    }
    return node;
  }
  /**
   * Taken by a call that routes keys now and submits them later (a multi-key call: a window of
   * writes, batches filled as keys are routed), before it routes its first key, and released (in a
   * `finally`) once it has submitted every key. A server removed or replaced meanwhile stays open
   * until then, so what the call routed to it before the change is written there, as promised by
   * `remove`. A hold lapses at the call's `deadline` (monotonic ms; nothing is written for the call
   * after it) and when the cluster closes. One Set insert and delete per call, nothing per key.
   */
  hold(deadline) {
    const h = new Hold(deadline, this.holds);
    this.holds.add(h);
    return h;
  }
  /** True when `location` (as given) is in the ring. */
  has(location) {
    return this.nodes.has(location);
  }
  /**
   * Adds a server at run time; keys route as hashring's ring of the new list routes them. With equal
   * weights, only the keys the new server takes over move (except at ring sizes where hashring's
   * rounding changes every server's points, see `Ring#add`); with weights, each server's share of
   * points is relative to the total weight, so a few % of keys also move between existing servers.
   */
  add(location, weight) {
    if (this.nodes.has(location)) throw new InvalidOptionError(`server ${location} is already in the cluster`);
    parseAddress(location);
    this.ring.add(location, weight);
    this.nodes.set(location, this.createNode(location));
    this.reindex();
    log7("server %s added (%d servers)", location, this.nodes.size);
  }
  /** Removes a server at run time: new requests route elsewhere, in-flight ones finish, then its sockets close. */
  async remove(location) {
    const node = this.nodes.get(location);
    if (!node) throw new InvalidOptionError(`server ${location} is not in the cluster`);
    this.ring.remove(location);
    this.nodes.delete(location);
    this.reindex();
    log7("server %s removed (%d servers)", location, this.nodes.size);
    await this.retire(node, "removed from the cluster");
  }
  /**
   * Replaces a server by another on the same ring points: the new server takes over exactly the old
   * one's keys (no other key moves). The old server's in-flight requests finish, then its sockets close.
   */
  async swap(from, to) {
    const node = this.nodes.get(from);
    if (!node) throw new InvalidOptionError(`server ${from} is not in the cluster`);
    if (this.nodes.has(to) && !this.asGiven) throw new InvalidOptionError(`server ${to} is already in the cluster`);
    parseAddress(to);
    if (this.nodes.has(to)) {
      this.nodes.delete(from);
    } else {
      const entries = [...this.nodes].map(([id, n]) => id === from ? [to, this.createNode(to)] : [id, n]);
      this.nodes.clear();
      for (const [id, n] of entries) this.nodes.set(id, n);
    }
    this.ring.swap(from, to);
    this.reindex();
    log7("server %s swapped for %s", from, to);
    await this.retire(node, `replaced by ${to}`);
  }
  /**
   * A server that left the ring finishes what was routed to it before the change (each request
   * within its own deadline), then closes; anything that reaches it after that learns why.
   */
  async retire(node, why) {
    const before = [...this.holds];
    const held = () => !this.closed && before.some((h) => h.active);
    const done = node.retire(new ServerUnavailableError(`server was ${why}`, { server: node.server }), held);
    this.closing.set(done, node);
    await done.finally(() => this.closing.delete(done));
  }
  /**
   * Closes every server, those still retiring too (calls queued on them reject with
   * `ClientClosedError`; in-flight requests settle first, each within its timeout).
   */
  async close() {
    this.closed = true;
    await Promise.all([...this.all().map((n) => n.close()), ...[...this.closing.values()].map((n) => n.close()), ...this.closing.keys()]);
  }
  createNode(id) {
    const { host, port, label } = parseAddress(id);
    const o = this.opts;
    return new ServerNode(label, {
      pool: {
        host,
        port,
        server: label,
        connectTimeoutMs: o.connectTimeoutMs,
        // A written request unanswered for a whole call timeout, with no byte since: the server is failing.
        stallTimeoutMs: o.timeoutMs,
        maxValueBytes: o.maxValueBytes + 1024,
        tls: o.tls,
        auth: o.auth,
        maxConnections: o.maxConnections,
        minConnections: o.minConnections,
        idleTimeoutMs: o.idleTimeoutMs,
        acquireTimeoutMs: o.timeoutMs,
        validation: o.validation,
        validateTimeoutMs: o.validateTimeoutMs,
        trustRecentMs: o.trustRecentMs,
        allowExitOnIdle: o.allowExitOnIdle
      },
      health: {
        failureThreshold: o.failureThreshold,
        retryDelayMs: o.retryDelayMs,
        maxRetryDelayMs: o.maxRetryDelayMs,
        validateTimeoutMs: o.validateTimeoutMs
      },
      maxQueue: o.maxQueue,
      maxPipeline: o.maxPipeline,
      protocol: o.protocol
    }, this.hooks);
  }
};
function validateLocations(locations, asGiven) {
  const ok = typeof locations === "string" || Array.isArray(locations) || locations !== null && typeof locations === "object" && (asGiven || Object.values(locations).every((w) => typeof w === "number" && w > 0));
  if (!ok) throw new InvalidOptionError(`servers must be a string, an array of strings or { 'host:port': weight }, got ${describeValue(locations)}`);
  const ids = serverIds(locations);
  if (ids.length === 0) throw new NoServersError();
  if (!asGiven && new Set(ids).size !== ids.length) throw new InvalidOptionError(`servers lists a server twice: ${describeValue(ids.join(", "), 200)}`);
  for (const id of ids) parseAddress(id);
}

// src/client/batch.ts
var _promises = require('timers/promises');

// src/protocol/meta-encoder.ts
var MAX_OPAQUE_LENGTH = 31;
var UINT64_MAX2 = 18446744073709551615n;
var INT32_MAX = 2 ** 31 - 1;
function encodeMetaGet(key, flags = {}) {
  return `${getLine(key, flags)}\r
`;
}
function encodeMetaGetBatchValidated(keys, flags) {
  if (keys.length === 0) throw new InvalidArgumentError("a meta get batch needs at least one key");
  const tail = getFlags(flags) + "\r\n";
  return `mg ${keys.join(`${tail}mg `)}${tail}mn\r
`;
}
function metaGetTail(flags) {
  return `${getFlags(flags)}\r
`;
}
function encodeMetaSet(key, data, flags = {}, dataBytes) {
  validateKey(key);
  let s = "";
  if (flags.mode !== void 0) {
    if (!"SEAPR".includes(flags.mode) || flags.mode.length !== 1) throw new InvalidArgumentError(`invalid ms mode ${JSON.stringify(flags.mode)} (S, E, A, P or R)`);
    s += ` M${flags.mode}`;
  }
  if (flags.clientFlags !== void 0) s += ` F${intIn("client flags", flags.clientFlags, 0, 4294967295)}`;
  if (flags.ttl !== void 0) s += ` T${ttlArg("ttl", flags.ttl, -1)}`;
  if (flags.compareCas !== void 0) s += ` C${uint64Arg("compareCas", flags.compareCas)}`;
  if (flags.invalidate) s += " I";
  if (flags.returnCas) s += " c";
  s += common(flags);
  return withData(`ms ${key} `, `${s}\r
`, data, dataBytes);
}
function encodeMetaDelete(key, flags = {}) {
  validateKey(key);
  let s = `md ${key}`;
  if (flags.compareCas !== void 0) s += ` C${uint64Arg("compareCas", flags.compareCas)}`;
  if (flags.invalidate) s += " I";
  if (flags.ttl !== void 0) s += ` T${ttlArg("ttl", flags.ttl, -1)}`;
  return `${s}${common(flags)}\r
`;
}
function encodeMetaArith(key, flags = {}) {
  validateKey(key);
  let s = `ma ${key}`;
  if (flags.mode !== void 0) {
    if (!["I", "+", "D", "-"].includes(flags.mode)) throw new InvalidArgumentError(`invalid ma mode ${JSON.stringify(flags.mode)} (I, +, D or -)`);
    s += ` M${flags.mode}`;
  }
  if (flags.delta !== void 0) s += ` D${uint64Arg("delta", flags.delta)}`;
  if (flags.vivify !== void 0) s += ` N${ttlArg("vivify", flags.vivify, 0)}`;
  if (flags.initial !== void 0) s += ` J${uint64Arg("initial", flags.initial)}`;
  if (flags.ttl !== void 0) s += ` T${ttlArg("ttl", flags.ttl, -1)}`;
  if (flags.compareCas !== void 0) s += ` C${uint64Arg("compareCas", flags.compareCas)}`;
  if (flags.value) s += " v";
  if (flags.returnTtl) s += " t";
  if (flags.returnCas) s += " c";
  return `${s}${common(flags)}\r
`;
}
function getLine(key, flags) {
  validateKey(key);
  return `mg ${key}${getFlags(flags)}`;
}
function getFlags(f) {
  let s = "";
  if (f.value) s += " v";
  if (f.clientFlags) s += " f";
  if (f.cas) s += " c";
  if (f.ttl) s += " t";
  if (f.returnKey) s += " k";
  if (f.size) s += " s";
  if (f.hitBefore) s += " h";
  if (f.lastAccess) s += " l";
  if (f.noBump) s += " u";
  if (f.vivify !== void 0) s += ` N${ttlArg("vivify", f.vivify, 0)}`;
  if (f.recache !== void 0) s += ` R${ttlArg("recache", f.recache, 0)}`;
  if (f.touch !== void 0) s += ` T${ttlArg("touch", f.touch, -1)}`;
  if (f.opaque !== void 0) s += ` O${opaqueArg(f.opaque)}`;
  if (f.quiet) s += " q";
  return s;
}
function common(f) {
  let s = "";
  if (f.returnKey) s += " k";
  if (f.opaque !== void 0) s += ` O${opaqueArg(f.opaque)}`;
  if (f.quiet) s += " q";
  return s;
}
function opaqueArg(o) {
  if (typeof o !== "string" || o.length === 0 || o.length > MAX_OPAQUE_LENGTH || !/^[\x21-\x7e]+$/.test(o)) {
    throw new InvalidArgumentError(`opaque must be 1-${MAX_OPAQUE_LENGTH} printable ASCII characters without spaces, got ${JSON.stringify(String(o)).slice(0, 80)}`);
  }
  return o;
}
function intIn(name, n, min, max) {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${String(n)}`);
  }
  return n;
}
function ttlArg(name, n, min) {
  return intIn(name, n, min, INT32_MAX);
}
function uint64Arg(name, v) {
  const s = typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
  if (typeof s !== "string" || !/^\d{1,20}$/.test(s) || BigInt(s) > UINT64_MAX2) {
    throw new InvalidArgumentError(`${name} must be a uint64 (decimal string or safe non-negative integer), got ${JSON.stringify(String(v)).slice(0, 80)}`);
  }
  return s;
}

// src/protocol/types.ts
function wireBuffer(w) {
  return typeof w === "string" ? Buffer.from(w, "utf8") : w;
}
function joinWire(parts) {
  let text = true;
  for (const w of parts) if (typeof w !== "string") {
    text = false;
    break;
  }
  return text ? parts.join("") : Buffer.concat(parts.map(wireBuffer));
}

// src/client/meta.ts
async function protocolOf(core, node, scope) {
  const known = node.meta;
  if (known !== void 0) return known;
  const reply = await core.send(node, encodeVersion(), "version", void 0, void 0, scope);
  if (reply.kind === "version" && node.pool.traits.version === void 0) node.pool.traits.version = reply.version;
  return node.meta ?? false;
}
function chooseAtWrite(node, job, meta) {
  job.prepare = function() {
    if (node.meta === true) Object.assign(this, meta);
  };
  return job;
}
async function metaRequest(core, node, bytes3, routed, scope, read = false, late) {
  const reply = await core.send(node, bytes3, "meta", (r) => verifyMetaKey(r, routed, node.server), routed, scope, read, late);
  if (reply.kind !== "meta") throw new ProtocolError(`unexpected reply to a meta request: ${reply.kind}`, { server: node.server });
  return reply;
}
function verifyMetaKey(reply, routed, server) {
  if (reply.kind !== "meta" || reply.flags.key === void 0 || reply.flags.key === routed) return void 0;
  return new ProtocolError(`meta reply for key ${JSON.stringify(reply.flags.key.slice(0, 60))}, expected ${JSON.stringify(routed.slice(0, 60))}`, { server });
}
var PLAIN_GET_TAIL = metaGetTail({ value: true, clientFlags: true, returnKey: true });
function metaGetLine(routed) {
  return `mg ${routed}${PLAIN_GET_TAIL}`;
}
function readFlags(cas, touch, quiet) {
  return { value: true, clientFlags: true, returnKey: true, cas, touch, quiet };
}
function handBackIfWon(node, reply, key, timeoutMs) {
  const f = reply.flags;
  if (!(f.stale && f.win)) return void 0;
  return new Promise((settle) => {
    node.submit({
      bytes: encodeMetaDelete(key, { invalidate: true }),
      kind: "meta",
      deadline: now() + timeoutMs,
      key,
      resolve: () => settle(),
      reject: () => settle()
    });
  });
}
function entryOf(reply, key) {
  if (reply.code !== "VA" || reply.data === void 0) return void 0;
  const f = reply.flags;
  if (f.stale || f.otherWon && reply.data.length === 0 || f.win && reply.data.length === 0) return void 0;
  return { key: f.key ?? key, flags: f.clientFlags ?? 0, data: reply.data, cas: f.cas };
}

// src/client/meta-batch.ts
var PLAIN_READ = readFlags(false, void 0, true);
var CAS_READ = readFlags(true, void 0, true);
function encodeReadBatch(keys, withCas, touch) {
  const flags = touch !== void 0 ? readFlags(withCas, touch, true) : withCas ? CAS_READ : PLAIN_READ;
  return encodeMetaGetBatchValidated(keys, flags);
}
function verifyReadBatch(reply, keys, server) {
  if (reply.kind !== "meta_batch") return new ProtocolError(`expected a meta batch reply, got ${reply.kind}`, { server });
  let i = 0;
  for (const r of reply.replies) {
    const key = r.flags.key;
    while (i < keys.length && keys[i] !== key) i++;
    if (i === keys.length) return new ProtocolError(`meta batch reply for key ${JSON.stringify(String(key).slice(0, 60))} that was not requested (or out of order)`, { server });
    i++;
  }
  return void 0;
}
function readBatchResult(reply, keys, server, node, timeoutMs = 1e3) {
  if (reply.replies.length === 0 && reply.errors.length === 0) return { values: reply.hits, failed: void 0, handingBack: void 0 };
  let values = [];
  let i = 0;
  let handingBack;
  for (const r of reply.replies) {
    const parsed = r.flags.key;
    while (i < keys.length && keys[i] !== parsed) i++;
    const key = i < keys.length ? keys[i++] : parsed;
    if (r.code !== "VA") continue;
    if (node && r.flags.stale && r.flags.win) (handingBack ??= []).push(handBackIfWon(node, r, key, timeoutMs));
    const v = entryOf(r, key);
    if (v) {
      v.key = key;
      values.push(v);
    }
  }
  const at = /* @__PURE__ */ new Map();
  keys.forEach((k, i2) => at.set(k, i2));
  if (reply.hits.length > 0) values = values.length === 0 ? reply.hits : [...reply.hits, ...values].sort((a, b) => at.get(a.key) - at.get(b.key));
  if (reply.errors.length === 0) return { values, failed: void 0, handingBack };
  const arrived = [...reply.hits.map((h) => at.get(h.key)), ...reply.replies.map((r) => at.get(r.flags.key) ?? -1)].sort((a, b) => a - b);
  const taken = blamed(arrived, reply.errors, keys.length);
  return { values, failed: { keys: [...taken.set].map((i2) => keys[i2]), err: taken.err(server) }, handingBack };
}
var QUIET_MAX_BYTES = 512;
var answers = (w) => w.item !== void 0 && w.item.bytes > QUIET_MAX_BYTES;
function encodeWriteBatch(writes, exptime) {
  const parts = [];
  let text = "";
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i];
    const item = w.item;
    if (item === void 0) {
      text += `md ${w.routed} O${i} q\r
`;
      continue;
    }
    const head = `ms ${w.routed} ${item.bytes} F${item.flags} T${exptime} O${i}${item.bytes > QUIET_MAX_BYTES ? "" : " q"}\r
`;
    if (typeof item.data === "string") {
      text += `${head}${item.data}\r
`;
      continue;
    }
    parts.push(text + head, item.data);
    text = "\r\n";
  }
  text += "mn\r\n";
  if (parts.length === 0) return text;
  parts.push(text);
  return joinWire(parts);
}
function verifyWriteBatch(reply, n, server, withData2) {
  if (reply.kind !== "meta_batch") return new ProtocolError(`expected a meta batch reply, got ${reply.kind}`, { server });
  if (withData2) {
    const bad = reply.errors.find((e) => e.kind !== "server_error");
    if (bad) return new ConnectionError(`connection dropped after an error line inside a batch of meta sets: ${bad.kind === "error" ? "ERROR" : "CLIENT_ERROR"} ${serverText(bad.message)}`, { server });
  }
  let last = -1;
  for (const r of reply.replies) {
    const i = opaqueIndex(r);
    if (!(i > last && i < n)) return new ProtocolError(`meta batch reply with opaque ${JSON.stringify(r.flags.opaque)} out of order or not requested`, { server });
    last = i;
  }
  return void 0;
}
function writeBatchResult(reply, writes, server) {
  const n = writes.length;
  const out = new Array(n).fill(true);
  for (const r of reply.replies) out[opaqueIndex(r)] = r.code === "HD";
  if (reply.errors.length > 0) {
    const taken = blamed(reply.replies.map(opaqueIndex), reply.errors, n, (i) => answers(writes[i]));
    const err = taken.err(server);
    for (const i of taken.set) out[i] = err;
  }
  return out;
}
function opaqueIndex(r) {
  const o = r.flags.opaque;
  return o !== void 0 && /^\d{1,9}$/.test(o) ? Number(o) : -1;
}
function blamed(arrived, errors, n, loud) {
  const answered = new Set(arrived);
  const set = /* @__PURE__ */ new Set();
  const perStretch = /* @__PURE__ */ new Map();
  for (const e of errors) perStretch.set(e.index, (perStretch.get(e.index) ?? 0) + 1);
  for (const [index, count] of perStretch) {
    const lo = index > 0 ? arrived[index - 1] : -1;
    const hi = index < arrived.length ? arrived[index] : n;
    const unanswered = [];
    for (let i = lo + 1; i < hi; i++) if (!answered.has(i)) unanswered.push(i);
    const unansweredLoud = loud ? unanswered.filter(loud) : [];
    for (const i of unansweredLoud.length === count ? unansweredLoud : unanswered) set.add(i);
  }
  const first = errors[0];
  const text = `${first.kind === "server_error" ? "SERVER_ERROR" : first.kind === "client_error" ? "CLIENT_ERROR" : "ERROR"}${first.message ? " " + serverText(first.message) : ""}`;
  const err = (server) => first.kind === "server_error" ? new ServerErrorReply(`${text} (inside a quiet meta batch)`, { server }) : new ClientErrorReply(`${text} (inside a quiet meta batch)`, { server });
  return { set, err };
}

// src/client/batch.ts
var NON_GET_LINE_LIMIT = 2040;
var SLICE_MS = 4;
var MAX_OUTSTANDING_BATCHES = 1024;
function makeSlicer() {
  let last = now();
  return (i) => {
    if ((i & 255) !== 0 || now() - last < SLICE_MS) return void 0;
    return _promises.setImmediate.call(void 0, ).then(() => {
      last = now();
    });
  };
}
function goOn(cancel, closed, deadline) {
  cancel?.check();
  if (closed) throw new ClientClosedError();
  if (now() >= deadline) throw new TimeoutError("the call's timeout passed while its keys were being checked (nothing was sent)");
}
var BatchWriter = class {
  /**
   * @param deadline the whole call's deadline (monotonic ms); default: `timeoutMs` from now.
   */
  constructor(cmd, exptime, limits, sink, deadline, cancel) {
    this.cmd = cmd;
    this.exptime = exptime;
    this.limits = limits;
    this.sink = sink;
    this.cancel = cancel;
    this.deadline = deadline ?? now() + limits.timeoutMs;
    this.prefixBytes = cmd.length + 1 + (cmd === "gat" || cmd === "gats" ? String(exptime).length + 1 : 0) + 2;
    this.maxBytes = cmd === "gat" || cmd === "gats" ? Math.min(limits.maxBatchBytes, NON_GET_LINE_LIMIT) : limits.maxBatchBytes;
  }
  cmd;
  exptime;
  limits;
  sink;
  cancel;
  open = /* @__PURE__ */ new Map();
  prefixBytes;
  maxBytes;
  outstanding = 0;
  /** Open `memcluster:batch` traces by request line (only while someone subscribes). */
  traces;
  finished = false;
  done;
  roomWaiter;
  /** The call's deadline (monotonic ms). */
  deadline;
  /** Adds one routed, validated key (`keyBytes` = its UTF-8 length). */
  add(node, key, keyBytes) {
    let batch = this.open.get(node);
    if (batch && (batch.keys.length >= this.limits.maxBatchKeys || batch.bytes + 1 + keyBytes > this.maxBytes)) {
      this.submit(node, batch.keys);
      batch = void 0;
    }
    if (!batch) {
      batch = { keys: [], bytes: this.prefixBytes - 1 };
      this.open.set(node, batch);
    }
    batch.keys.push(key);
    batch.bytes += 1 + keyBytes;
  }
  /** Resolves when fewer than MAX_OUTSTANDING_BATCHES are outstanding (undefined when already so). */
  room() {
    if (this.outstanding < MAX_OUTSTANDING_BATCHES) return void 0;
    return new Promise((resolve) => {
      this.roomWaiter = resolve;
    });
  }
  /** Submits the partly filled batches and resolves when every batch has settled. */
  finish() {
    for (const [node, batch] of this.open) this.submit(node, batch.keys);
    this.open.clear();
    this.finished = true;
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.done = resolve;
    });
  }
  submit(node, keys) {
    this.outstanding++;
    if (_chunkNYUFQ7A3cjs.isTraced.call(void 0, (0, _chunkNYUFQ7A3cjs.batchTrace))) (this.traces ??= /* @__PURE__ */ new Map()).set(keys, _chunkNYUFQ7A3cjs.beginBatchTrace.call(void 0, this.cmd, node.server, keys, this.limits.traceKeys));
    if (now() >= this.deadline) {
      this.settle(node.server, keys, void 0, callTimeout(node.server));
      return;
    }
    const withCas = this.cmd === "gets" || this.cmd === "gats";
    const key = keys.length === 1 ? keys[0] : void 0;
    const orderKeys = keys.length > 1 ? keys : void 0;
    const meta = node.meta;
    const touch = this.cmd === "gat" || this.cmd === "gats" ? this.exptime : void 0;
    const settleMeta = (reply) => {
      const r = readBatchResult(reply, keys, node.server, node, this.limits.timeoutMs);
      if (r.handingBack) void Promise.all(r.handingBack).then(() => this.settle(node.server, keys, r.values, void 0, r.failed));
      else this.settle(node.server, keys, r.values, void 0, r.failed);
    };
    const metaNow = meta === true;
    const metaVerify = (reply) => verifyReadBatch(reply, keys, node.server);
    const job = {
      // Quiet mg lines fenced by mn: no long line at all; placeholders and stale items read as misses.
      bytes: metaNow ? encodeReadBatch(keys, withCas, touch) : this.cmd === "get" || this.cmd === "gets" ? encodeGet(this.cmd, keys) : encodeGat(this.cmd, this.exptime, keys),
      kind: metaNow ? "meta_batch" : "retrieval",
      maxValues: keys.length,
      replyKeys: keys,
      deadline: this.deadline,
      key,
      keys: orderKeys,
      read: metaNow ? touch === void 0 : this.cmd === "get" || this.cmd === "gets",
      cancel: this.cancel,
      verify: metaNow ? metaVerify : (reply) => verifyRetrieval(reply, keys, node.server, withCas),
      // The parser matched every hit to `keys` (replyKeys): hits carry the request's own key strings.
      resolve: (reply) => {
        if (reply.kind === "meta_batch") settleMeta(reply);
        else this.settle(node.server, keys, reply.values, void 0);
      },
      reject: (err) => this.settle(node.server, keys, void 0, err)
    };
    if (meta === void 0) chooseAtWrite(node, job, { bytes: encodeReadBatch(keys, withCas, touch), kind: "meta_batch", read: touch === void 0, verify: metaVerify });
    node.submit(job);
  }
  settle(server, keys, values, err, failed) {
    this.outstanding--;
    const trace = this.traces?.get(keys);
    if (trace) {
      this.traces.delete(keys);
      _chunkNYUFQ7A3cjs.endBatchTrace.call(void 0, trace, values, err ?? failed?.err);
    }
    if (failed) {
      const lost = new Set(failed.keys);
      this.sink(server, keys.filter((k) => !lost.has(k)), values, void 0);
      this.sink(server, failed.keys, void 0, failed.err);
    } else {
      this.sink(server, keys, values, err);
    }
    if (this.roomWaiter && this.outstanding < MAX_OUTSTANDING_BATCHES / 2) {
      const wake = this.roomWaiter;
      this.roomWaiter = void 0;
      wake();
    }
    if (this.finished && this.outstanding === 0) this.done?.();
  }
};
function verifyRetrieval(reply, keys, server, withCas = false) {
  if (reply.kind !== "values") return new ProtocolError(`expected VALUE/END, got ${reply.kind}`, { server });
  let i = 0;
  for (const v of reply.values) {
    if (withCas && v.cas === void 0) return new ProtocolError("gets/gats reply carried no cas", { server });
    while (i < keys.length && keys[i] !== v.key) i++;
    if (i === keys.length) return new ProtocolError(`server returned key ${JSON.stringify(v.key.slice(0, 60))} that was not requested (or out of order)`, { server });
    i++;
  }
  return void 0;
}
function routeAll(cluster, writer, routed, keyBytes, onUnroutable) {
  const slice = makeSlicer();
  const unavailable = /* @__PURE__ */ new Map();
  const from = (start) => {
    for (let i = start; i < routed.length; i++) {
      const pause2 = i !== start && (i & 255) === 0 ? slice(i) ?? writer.room() : void 0;
      if (pause2) return pause2.then(() => afterPause(i));
      const key = routed[i];
      let node;
      try {
        node = cluster.nodeFor(key);
      } catch (err) {
        onUnroutable(key, err);
        continue;
      }
      if (node.health.isDown) {
        let err = unavailable.get(node);
        if (!err) unavailable.set(node, err = node.unavailable());
        onUnroutable(key, err);
      } else writer.add(node, key, keyBytes[i]);
    }
    return void 0;
  };
  const afterPause = (i) => {
    const stop = writer.cancel?.aborted ? writer.cancel.reason : now() >= writer.deadline ? callTimeout(void 0) : void 0;
    if (!stop) return from(i);
    for (; i < routed.length; i++) onUnroutable(routed[i], stop);
    return void 0;
  };
  return from(0);
}
function callTimeout(server) {
  return new TimeoutError("the call's timeout passed before this key was answered", { server });
}
function partialFailure(what, keys, values, errors) {
  const servers = new Set([...errors.values()].map((e) => e.server ?? "?"));
  return new PartialFailureError(`${what} failed for ${errors.size} of ${keys} keys (servers: ${[...servers].join(", ")})`, values, errors);
}

// src/client/core.ts
var _async_hooks = require('async_hooks');
var noop = () => {
};
var SingleRequest = class {
  constructor(bytes3, kind, deadline, verify, key, read, cancel, map, done = noop, fail = noop) {
    this.bytes = bytes3;
    this.kind = kind;
    this.deadline = deadline;
    this.verify = verify;
    this.key = key;
    this.read = read;
    this.cancel = cancel;
    this.map = map;
    this.done = done;
    this.fail = fail;
    this.maxValues = kind === "retrieval" ? 1 : void 0;
    this.replyKeys = key !== void 0 && (kind === "retrieval" || kind === "meta") ? [key] : void 0;
  }
  bytes;
  kind;
  deadline;
  verify;
  key;
  read;
  cancel;
  map;
  done;
  fail;
  keys = void 0;
  maxValues;
  replyKeys;
  /** Set by `chooseAtWrite` when the request's form waits for what the server speaks. */
  prepare;
  /** Set by a caller that must act on a reply arriving after its call gave up (see `Outgoing.late`). */
  late;
  resolve(reply) {
    if (this.map === void 0) return this.done(reply);
    let value;
    try {
      value = this.map(reply);
    } catch (err) {
      return this.fail(err);
    }
    this.done(value);
  }
  reject(err) {
    this.fail(err);
  }
};
var ClientCore = class {
  constructor(opts, cluster) {
    this.opts = opts;
    this.cluster = cluster;
    this.prefixBytes = Buffer.byteLength(opts.keyPrefix);
  }
  opts;
  cluster;
  closed = false;
  prefixBytes;
  /** The `get`s issued in the current tick, flushed on the next one. */
  tick;
  /** The async context the client was made in: request lines shared by several traced callers go out in it. */
  rootContext = _async_hooks.AsyncLocalStorage.snapshot();
  /** Validates a caller key (with the prefix) before anything is written; throws `InvalidKeyError`. */
  prepare(key) {
    if (this.closed) throw new ClientClosedError();
    if (this.prefixBytes === 0) return { key, routed: key, bytes: validateKey(key) };
    if (typeof key !== "string" || key.length === 0) validateKey(key);
    const routed = this.opts.keyPrefix + key;
    return { key, routed, bytes: validateKey(routed) };
  }
  /** `prepare(key).routed`, without the object: for calls that need the routed key alone. */
  routedKey(key) {
    if (this.closed) throw new ClientClosedError();
    if (this.prefixBytes === 0) {
      validateKey(key);
      return key;
    }
    return this.prepare(key).routed;
  }
  /**
   * Sends one request to the key's server; settles by the call's deadline. `key` (the routed key of
   * a single-key request) keeps one key's requests in call order across the server's sockets.
   */
  send(node, bytes3, kind, verify, key, scope, read, late) {
    return this.sendMapped(node, bytes3, kind, void 0, verify, key, scope, read, late);
  }
  /**
   * `send`, settling with `map(reply)` instead of the reply (a throw from `map` rejects): one promise
   * per call, not one more per `.then`.
   */
  sendMapped(node, bytes3, kind, map, verify, key, scope, read, late) {
    const job = new SingleRequest(bytes3, kind, scope?.deadline ?? now() + this.opts.timeoutMs, verify, key, read, scope?.cancel, map);
    if (late) job.late = late;
    return new Promise((resolve, reject) => {
      job.done = resolve;
      job.fail = reject;
      this.submit(node, job);
    });
  }
  /**
   * `send` of a request whose form depends on what the server speaks, for a server whose protocol
   * is not known yet (see `chooseAtWrite`); the reply's kind (`meta` or not) says which form went.
   */
  sendEither(node, text, meta, key, scope, read) {
    const job = new SingleRequest(text.bytes, text.kind, scope?.deadline ?? now() + this.opts.timeoutMs, text.verify, key, read, scope?.cancel, void 0);
    chooseAtWrite(node, job, { bytes: meta.bytes, kind: meta.kind, verify: meta.verify, maxValues: void 0 });
    return new Promise((resolve, reject) => {
      job.done = resolve;
      job.fail = reject;
      this.submit(node, job);
    });
  }
  /**
   * Hands a request to its server, after the `get`s this tick is still holding: a call made later
   * must never be written before one made earlier (a `get` then a `delete` of the same key must read
   * the old value).
   */
  submit(node, job) {
    if (this.tick) this.flushTick();
    node.submit(job);
  }
  /** The reply of a single-key retrieval: the one VALUE for `routed`, or undefined on a miss. */
  single(reply, routed, server) {
    if (reply.kind !== "values" || reply.values.length > 1) throw new ProtocolError(`unexpected reply to a single-key retrieval: ${reply.kind}`, { server });
    const v = reply.values[0];
    if (v && v.key !== routed) throw new ProtocolError("server returned a different key than requested", { server });
    return v;
  }
  decode(v, key, server) {
    if (v instanceof Hit) return decodeHit(this.opts.serializer, v, key, server);
    return decodeValue(this.opts.serializer, v.data, v.flags, key, server);
  }
  /** One `get` on its own request line: the value, or undefined on a miss. */
  getOne(p, node, scope) {
    return new Promise((resolve, reject) => this.getInto(p, node, scope, resolve, reject));
  }
  /**
   * `getOne` settling the caller's own promise: the request's reply is checked and decoded as it
   * arrives and the value handed to `resolve`, with no promise or async step of its own.
   */
  getInto(p, node, scope, resolve, reject) {
    const deadline = scope?.deadline ?? now() + this.opts.timeoutMs;
    const meta = node.meta;
    if (meta === true) {
      const read2 = (r) => this.metaGot(r, p, node);
      this.submit(node, new SingleRequest(metaGetLine(p.routed), "meta", deadline, void 0, p.routed, true, scope?.cancel, read2, resolve, reject));
      return;
    }
    const verify = (r) => verifyRetrieval(r, [p.routed], node.server);
    const read = meta === false ? (r) => this.textGot(r, p, node) : (r) => r.kind === "meta" ? this.metaGot(r, p, node) : this.textGot(r, p, node);
    const job = new SingleRequest(`get ${p.routed}\r
`, "retrieval", deadline, verify, p.routed, true, scope?.cancel, read, resolve, reject);
    if (meta === void 0) chooseAtWrite(node, job, { bytes: metaGetLine(p.routed), kind: "meta", verify: void 0, maxValues: void 0 });
    this.submit(node, job);
  }
  /** A `get`'s meta reply: the value, or undefined (a miss, a placeholder, a stale item). */
  metaGot(r, p, node) {
    if (r.kind !== "meta") throw new ProtocolError(`unexpected reply to a meta request: ${r.kind}`, { server: node.server });
    const back = handBackIfWon(node, r, p.routed, this.opts.timeoutMs);
    const v = entryOf(r, p.routed);
    if (!back) return v && this.decode(v, p.key, node.server);
    return back.then(() => v && this.decode(v, p.key, node.server));
  }
  /** A `get`'s text reply: the value, or undefined on a miss. */
  textGot(r, p, node) {
    const v = this.single(r, p.routed, node.server);
    return v && this.decode(v, p.key, node.server);
  }
  /**
   * A `get` that joins every other `get` issued in this tick: per server, one request line (capped
   * like any batch) answers them all, and same-tick duplicates share one key on the line. A tick
   * with a single `get` sends it on its own line, so a sequential caller pays no batching.
   */
  coalescedGet(p, node) {
    return new Promise((resolve, reject) => {
      if (!this.tick) {
        this.tick = [];
        process.nextTick(this.flushTick);
      }
      this.tick.push({ p, node, resolve, reject, context: _chunkNYUFQ7A3cjs.isTraced.call(void 0, _chunkNYUFQ7A3cjs.batchTrace) ? _async_hooks.AsyncLocalStorage.snapshot() : void 0 });
    });
  }
  flushTick = () => {
    const gets = this.tick;
    if (!gets) return;
    this.tick = void 0;
    if (gets.length === 1) {
      const g = gets[0];
      this.getInto(g.p, g.node, void 0, g.resolve, g.reject);
      return;
    }
    if (gets[0].context) return this.flushTraced(gets);
    this.coalesce(gets);
  };
  /**
   * A traced tick: the flush runs in the context of the tick's first `get`, and a request line must
   * not be traced under a caller it does not serve (another request's trace). A server asked by one
   * caller gets that caller's line in the caller's own context; lines shared by several callers go
   * out in the client's root context (no caller's span as parent).
   */
  flushTraced(gets) {
    const byNode = /* @__PURE__ */ new Map();
    for (const g of gets) {
      const list = byNode.get(g.node);
      if (list) list.push(g);
      else byNode.set(g.node, [g]);
    }
    const shared = [];
    for (const list of byNode.values()) {
      if (list.length > 1) shared.push(...list);
      else list[0].context(() => this.getInto(list[0].p, list[0].node, void 0, list[0].resolve, list[0].reject));
    }
    if (shared.length > 0) this.rootContext(() => this.coalesce(shared));
  }
  /** The tick's `get`s as capped lines per server, same-key duplicates sharing one key. */
  coalesce(gets) {
    const waiters = /* @__PURE__ */ new Map();
    const writer = new BatchWriter("get", 0, this.opts, (server, keys, values, err) => this.deliver(waiters, server, keys, values, err));
    for (const g of gets) {
      if (g.node.writing(g.p.routed)) {
        this.getInto(g.p, g.node, void 0, g.resolve, g.reject);
        continue;
      }
      const waiter = { key: g.p.key, resolve: g.resolve, reject: g.reject };
      const list = waiters.get(g.p.routed);
      if (list) {
        list.push(waiter);
        continue;
      }
      waiters.set(g.p.routed, [waiter]);
      writer.add(g.node, g.p.routed, g.p.bytes);
    }
    void writer.finish();
  }
  deliver(waiters, server, keys, values, err) {
    if (!values) {
      for (const k of keys) for (const w of waiters.get(k)) w.reject(err);
      return;
    }
    let vi = 0;
    for (const k of keys) {
      const v = values[vi]?.key === k ? values[vi++] : void 0;
      for (const w of waiters.get(k)) {
        if (!v) {
          w.resolve(void 0);
          continue;
        }
        try {
          w.resolve(this.decode(v, w.key, server));
        } catch (e) {
          w.reject(e);
        }
      }
    }
  }
};

// src/client/ttl.ts
var MAX_RELATIVE_TTL = 2592e3;
function toExptime(ttl, what = "ttl", nowMs) {
  if (ttl === void 0) return 0;
  if (typeof ttl !== "number" || !Number.isSafeInteger(ttl) || ttl < 0) {
    throw new InvalidArgumentError(`${what} must be a whole number of seconds >= 0, got ${describeValue(ttl)}`);
  }
  if (ttl <= MAX_RELATIVE_TTL) return ttl;
  const absolute = Math.floor((nowMs ?? Date.now()) / 1e3) + ttl;
  if (absolute > 2147483647) throw new InvalidArgumentError(`${what} ${ttl} s reaches past January 2038, which memcached's exptime cannot represent`);
  return absolute;
}

// src/client/single.ts
var MAX_UINT64 = 2n ** 64n - 1n;
async function retrieveOne(core, key, cmd, exptime, scope) {
  const p = core.prepare(key);
  const node = core.cluster.nodeFor(p.routed);
  const withCas = cmd === "gets" || cmd === "gats";
  const touch = cmd === "gat" || cmd === "gats";
  let v;
  const meta = node.meta;
  if (meta === true) {
    v = await metaRead(core, node, p.routed, withCas, touch ? exptime : void 0, scope, cmd === "gets");
  } else {
    const text = {
      bytes: touch ? encodeGat(cmd, exptime, [p.routed]) : encodeGet(cmd, [p.routed]),
      kind: "retrieval",
      verify: (r) => verifyRetrieval(r, [p.routed], node.server, withCas)
    };
    const reply = meta === false ? await core.send(node, text.bytes, text.kind, text.verify, p.routed, scope, cmd === "gets") : await core.sendEither(node, text, { bytes: encodeMetaGet(p.routed, readFlags(withCas, touch ? exptime : void 0, false)), kind: "meta" }, p.routed, scope, cmd === "gets");
    v = reply.kind === "meta" ? await metaEntry(core, node, reply, p.routed) : core.single(reply, p.routed, node.server);
  }
  if (!v) return void 0;
  const value = core.decode(v, key, node.server);
  if (!withCas) return value;
  if (v.cas === void 0) throw new ProtocolError(`${cmd} reply carried no cas`, { server: node.server });
  return { value, cas: v.cas };
}
async function metaRead(core, node, routed, withCas, touch, scope, read) {
  const r = await metaRequest(core, node, encodeMetaGet(routed, readFlags(withCas, touch, false)), routed, scope, read);
  return metaEntry(core, node, r, routed);
}
async function metaEntry(core, node, r, routed) {
  await handBackIfWon(node, r, routed, core.opts.timeoutMs);
  return entryOf(r, routed);
}
var STORE_OK = { STORED: true, NOT_STORED: false, EXISTS: false, NOT_FOUND: false };
function storeBytes(core, cmd, key, routed, value, ttl) {
  const exptime = toExptime(ttl);
  const opts = core.opts;
  if (typeof value === "string" && opts.serializer === defaultSerializer && cmd !== "append" && cmd !== "prepend") {
    return encodeStore(cmd, routed, FLAGS.STRING, exptime, value, textBytes(value, key, opts.maxValueBytes));
  }
  let item;
  if (cmd === "append" || cmd === "prepend") {
    if (typeof value === "string") item = { data: value, bytes: Buffer.byteLength(value, "utf8"), flags: 0 };
    else if (Buffer.isBuffer(value)) item = { data: value, bytes: value.length, flags: 0 };
    else throw new InvalidArgumentError(`${cmd} takes a string or Buffer (raw bytes added to the item), got ${typeof value}`);
    if (item.bytes > opts.maxValueBytes) throw new InvalidArgumentError(`${cmd} of ${item.bytes} bytes exceeds maxValueBytes`);
  } else {
    item = encodeItem(opts.serializer, value, key, opts.maxValueBytes);
  }
  return encodeStore(cmd, routed, item.flags, exptime, item.data, item.bytes);
}
function checkCas(cas) {
  if (typeof cas !== "string" || !/^\d{1,20}$/.test(cas) || BigInt(cas) > MAX_UINT64) {
    throw new InvalidArgumentError(`cas must be the decimal token from gets() (0 to 2^64-1), got ${describeValue(cas)}`);
  }
}
function checkDelta(cmd, delta) {
  const ok = typeof delta === "number" && Number.isSafeInteger(delta) && delta >= 0 || typeof delta === "bigint" && delta >= 0n && delta <= MAX_UINT64;
  if (!ok) throw new InvalidArgumentError(`${cmd} delta must be an integer from 0 to 2^64-1, got ${describeValue(delta)}`);
}
var storeResult = (reply) => reply.kind === "status" && reply.status === "STORED" || statusOf(reply, STORE_OK);
function statusOf(reply, table) {
  if (reply.kind === "status" && reply.status in table) return table[reply.status];
  throw new ProtocolError(`unexpected reply: ${reply.kind === "status" ? reply.status : reply.kind}`);
}

// src/client/tracing.ts
var CLIENT_CALLS = {
  get: { command: "get", shape: "key", read: "one" },
  gets: { command: "gets", shape: "key", read: "one" },
  gat: { command: "gat", shape: "key", read: "one" },
  gats: { command: "gats", shape: "key", read: "one" },
  set: { command: "set", shape: "key" },
  add: { command: "add", shape: "key" },
  replace: { command: "replace", shape: "key" },
  append: { command: "append", shape: "key" },
  prepend: { command: "prepend", shape: "key" },
  cas: { command: "cas", shape: "key" },
  incr: { command: "incr", shape: "key" },
  decr: { command: "decr", shape: "key" },
  delete: { command: "delete", shape: "key" },
  touch: { command: "touch", shape: "key" },
  fetch: { command: "fetch", shape: "key", read: "one" },
  invalidate: { command: "invalidate", shape: "key" },
  getMulti: { command: "get", shape: "keys", read: "map" },
  getMultiSettled: { command: "get", shape: "keys", read: "settled" },
  getsMulti: { command: "gets", shape: "keys", read: "map" },
  gatMulti: { command: "gat", shape: "keys", read: "map" },
  gatsMulti: { command: "gats", shape: "keys", read: "map" },
  setMulti: { command: "set", shape: "entries" },
  deleteMulti: { command: "delete", shape: "keys" },
  flush: { command: "flush_all", shape: "servers" },
  version: { command: "version", shape: "servers" },
  stats: { command: "stats", shape: "servers" }
};
function traceMethods(proto, calls, hooks) {
  for (const [method, call] of Object.entries(calls)) {
    const original = proto[method];
    if (typeof original !== "function") throw new TypeError(`traceMethods: ${method} is not a method`);
    const run = original;
    const traced = function(a, b, c, d, e) {
      if (!_chunkNYUFQ7A3cjs.isTraced.call(void 0, _chunkNYUFQ7A3cjs.commandTrace)) {
        switch (arguments.length) {
          case 0:
            return run.call(this);
          case 1:
            return run.call(this, a);
          case 2:
            return run.call(this, a, b);
          case 3:
            return run.call(this, a, b, c);
          case 4:
            return run.call(this, a, b, c, d);
          case 5:
            return run.call(this, a, b, c, d, e);
          default:
            return run.apply(this, arguments);
        }
      }
      const args = Array.prototype.slice.call(arguments);
      const ctx = commandContext(this, method, call, a, hooks);
      return _chunkNYUFQ7A3cjs.traceAsync.call(void 0, _chunkNYUFQ7A3cjs.commandTrace, ctx, () => run.apply(this, args), call.read || call.shape === "entries" ? summarize(call, a) : void 0);
    };
    Object.defineProperty(traced, "name", { value: method });
    Object.defineProperty(proto, method, { value: traced, writable: true, configurable: true, enumerable: false });
  }
}
function commandContext(target, method, call, first, hooks) {
  const withKeys = hooks.traceKeys(target);
  const ctx = { command: call.command, method, api: "client", keys: 0 };
  if (call.shape === "key") {
    ctx.keys = 1;
    Object.assign(ctx, routeOf(target, first, hooks));
    if (withKeys && typeof first === "string") ctx.key = first;
  } else if (call.shape !== "servers") {
    const keys = keysOf(call.shape, first);
    ctx.keys = keys?.length ?? 0;
    ctx.batchSize = ctx.keys;
    if (withKeys && keys) ctx.keyList = keys;
  }
  return ctx;
}
function routeOf(target, key, hooks) {
  try {
    return _chunkNYUFQ7A3cjs.targetOf.call(void 0, hooks.route(target, key));
  } catch {
    return {};
  }
}
function keysOf(shape, first) {
  if (shape === "keys") return Array.isArray(first) ? first.map(String) : void 0;
  if (first instanceof Map) return [...first.keys()].map(String);
  if (Array.isArray(first)) return first.map((e) => String(Array.isArray(e) ? e[0] : e));
  return void 0;
}
function summarize(call, first) {
  return (result, ctx) => {
    if (call.read === "one") {
      ctx.hits = result === void 0 ? 0 : 1;
      ctx.misses = 1 - ctx.hits;
    } else if (call.read === "map" || call.read === "settled") {
      const settled = result;
      const values = call.read === "map" ? result : settled.values;
      const unique = Array.isArray(first) ? new Set(first).size : values.size;
      ctx.hits = values.size;
      if (call.read === "settled") ctx.failures = settled.errors.size;
      ctx.misses = Math.max(0, unique - ctx.hits - (ctx.failures ?? 0));
    } else if (call.shape === "entries" && ctx.batchSize === 0 && result instanceof Map) {
      ctx.keys = ctx.batchSize = result.size;
    }
  };
}
function traceCompat(q, fleet, work) {
  if (!_chunkNYUFQ7A3cjs.isTraced.call(void 0, _chunkNYUFQ7A3cjs.commandTrace)) return work(fleet);
  const ctx = { command: q.type, method: q.type, api: "compat", keys: q.key === void 0 ? 0 : 1 };
  if (q.key !== void 0) {
    try {
      Object.assign(ctx, _chunkNYUFQ7A3cjs.targetOf.call(void 0, fleet.nodeFor(q.key).server));
    } catch {
    }
    if (fleet.core.opts.traceKeys) ctx.key = q.key;
  }
  const read = q.type === "get" || q.type === "gets";
  let refused;
  const outcome = () => work(fleet).catch((err) => {
    if (err?.notStored !== true) throw err;
    refused = { error: err };
    return false;
  });
  const summary = read ? (result) => {
    ctx.hits = result === void 0 ? 0 : 1;
    ctx.misses = 1 - ctx.hits;
  } : void 0;
  return _chunkNYUFQ7A3cjs.traceAsync.call(void 0, _chunkNYUFQ7A3cjs.commandTrace, ctx, outcome, summary).then((result) => {
    if (refused) throw refused.error;
    return result;
  });
}


















































































exports.MemclusterError = MemclusterError; exports.InvalidKeyError = InvalidKeyError; exports.InvalidValueError = InvalidValueError; exports.InvalidArgumentError = InvalidArgumentError; exports.InvalidOptionError = InvalidOptionError; exports.ConnectionError = ConnectionError; exports.ConnectTimeoutError = ConnectTimeoutError; exports.TimeoutError = TimeoutError; exports.ValidationFailedError = ValidationFailedError; exports.ProtocolError = ProtocolError; exports.ClientErrorReply = ClientErrorReply; exports.ServerErrorReply = ServerErrorReply; exports.TooManyConnectionsError = TooManyConnectionsError; exports.ServerUnavailableError = ServerUnavailableError; exports.PoolFullError = PoolFullError; exports.AuthenticationError = AuthenticationError; exports.ClientClosedError = ClientClosedError; exports.NoServersError = NoServersError; exports.PartialFailureError = PartialFailureError; exports.DecodeError = DecodeError; exports.AbortError = AbortError; exports.ReplyTooLargeError = ReplyTooLargeError; exports.LeaseWaitTimeoutError = LeaseWaitTimeoutError; exports.describeValue = describeValue; exports.now = now; exports.encodeGet = encodeGet; exports.encodeStore = encodeStore; exports.encodeCas = encodeCas; exports.encodeArith = encodeArith; exports.encodeDelete = encodeDelete; exports.encodeTouch = encodeTouch; exports.encodeFlushAll = encodeFlushAll; exports.encodeVersion = encodeVersion; exports.encodeStats = encodeStats; exports.Connection = Connection; exports.MAX_KEY_BYTES = MAX_KEY_BYTES; exports.validateKey = validateKey; exports.FLAGS = FLAGS; exports.defaultSerializer = defaultSerializer; exports.encodeValue = encodeValue; exports.encodeItem = encodeItem; exports.DEFAULTS = DEFAULTS; exports.resolveOptions = resolveOptions; exports.normalizeServers = normalizeServers; exports.normalizeLocation = normalizeLocation; exports.parseAddress = parseAddress; exports.Ring = Ring; exports.serverIds = serverIds; exports.validateSocket = validateSocket; exports.Cluster = Cluster; exports.encodeMetaGet = encodeMetaGet; exports.encodeMetaSet = encodeMetaSet; exports.encodeMetaDelete = encodeMetaDelete; exports.encodeMetaArith = encodeMetaArith; exports.protocolOf = protocolOf; exports.metaRequest = metaRequest; exports.handBackIfWon = handBackIfWon; exports.encodeWriteBatch = encodeWriteBatch; exports.verifyWriteBatch = verifyWriteBatch; exports.writeBatchResult = writeBatchResult; exports.makeSlicer = makeSlicer; exports.goOn = goOn; exports.BatchWriter = BatchWriter; exports.verifyRetrieval = verifyRetrieval; exports.routeAll = routeAll; exports.callTimeout = callTimeout; exports.partialFailure = partialFailure; exports.ClientCore = ClientCore; exports.MAX_RELATIVE_TTL = MAX_RELATIVE_TTL; exports.toExptime = toExptime; exports.retrieveOne = retrieveOne; exports.STORE_OK = STORE_OK; exports.storeBytes = storeBytes; exports.checkCas = checkCas; exports.checkDelta = checkDelta; exports.storeResult = storeResult; exports.statusOf = statusOf; exports.CLIENT_CALLS = CLIENT_CALLS; exports.traceMethods = traceMethods; exports.traceCompat = traceCompat;

//# sourceMappingURL=chunk-QQCFO3IL.cjs.map

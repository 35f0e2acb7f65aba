// @ts-check
/**
 * The floor of the benchmark: a minimal pipelined memcached text-protocol client, written to be
 * about as cheap as a correct client can be, so the other clients can be read as a ratio to it.
 *
 * What it does:
 * - One socket per server, opened by `connect()`.
 * - Everything issued in one tick goes to each socket in ONE write: requests are collected per
 *   socket and flushed from a `process.nextTick` callback (scheduled by the first request of the
 *   tick), as one string `socket.write` (or one `cork`/`uncork`ed writev when a Buffer value is in
 *   the batch). `process.nextTick` runs after the whole microtask cascade of the current
 *   callback, so 64 loops resumed by one reply chunk all land in the same write (measured against
 *   `queueMicrotask` and `setImmediate`: see bench/README.md, "The floor").
 * - Multi-key calls cut each server's keys into `get` lines of at most 100 keys; setMulti and
 *   deleteMulti write every command of the call in that same one write per socket.
 * - Replies are parsed incrementally, byte by byte in JS (no per-line string, no regex), and
 *   matched to requests in write order. A value's data block is copied once when it spans chunks.
 * - Routing is the one `memcached` 2.2.2 uses (`new HashRing(servers, 'md5', { compatibility:
 *   'ketama', 'default port': 11211 })`), looked up without hashring's per-key crypto Hash and LRU
 *   (bench/ketama.mjs; memcluster's ring does the same).
 * - Values are decoded by flags exactly as memcluster's default serializer does: 2 JSON, 4 a
 *   Buffer (copied out of the socket buffer), 8 a number, anything else a UTF-8 string. Strings are
 *   stored with flags 0, Buffers with flags 4.
 *
 * What it does not do: no pool, no borrow validation, no timeouts, no reconnect, no retries, no
 * key validation or encoding (the bench uses safe ASCII keys), no back-pressure (a huge call is
 * buffered in memory at once), no batch caps, no yielding to the event loop inside a large call,
 * no error typing: a socket error or an unexpected reply rejects everything pending on that socket
 * and the client stays broken. It is a floor, not a product.
 */
import net from 'node:net';
import { KetamaRing } from './ketama.mjs';

const BATCH_KEYS = 100;

const GET = 1;
const STORE = 2;
const DELETE = 3;
/** A quiet meta read batch (`mg <key> v f k q` per key, then `mn`): hits are `VA` blocks, `MN` ends it. */
const MGET = 4;

/**
 * What a call waits for: one reply (a single get/set/delete) or many (a multi-key call). Hits
 * and per-key results go straight into `map`; the call settles when `left` reaches 0.
 */
class Call {
  /** @param {Map<string, any> | null} map @param {number} left */
  constructor(map, left) {
    this.map = map;
    this.left = left;
    /** @type {any} */
    this.value = undefined;
    /** @type {(v: any) => void} */
    this.resolve = noop;
    /** @type {(e: Error) => void} */
    this.reject = noop;
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  done() {
    if (--this.left === 0) this.resolve(this.map ?? this.value);
  }

  /** @param {Error} err */
  fail(err) {
    if (this.left <= 0) return;
    this.left = 0;
    this.reject(err);
  }
}
const noop = () => {};

/** One request on the wire, in write order. `key`: the key of a store/delete inside a multi call. */
class Pending {
  /** @param {number} kind @param {Call} call @param {string} key */
  constructor(kind, call, key) {
    this.kind = kind;
    this.call = call;
    this.key = key;
  }
}

/** memcluster's default decoding, by flags. @param {Buffer} chunk @param {number} start @param {number} end @param {number} flags */
function decode(chunk, start, end, flags) {
  switch (flags) {
    case 2: return JSON.parse(chunk.utf8Slice(start, end));
    case 4: return Buffer.from(chunk.subarray(start, end));
    case 8: return Number(chunk.latin1Slice(start, end));
    default: return chunk.utf8Slice(start, end);
  }
}

/**
 * How the tick's requests are scheduled for writing and written. Only the defaults are used by the
 * bench; the others exist so `bench/floor-variants.mjs` can show why the defaults were chosen.
 * `adaptive`: nextTick when the socket has nothing in flight, else setImmediate (so requests
 * issued by every reply callback of one event-loop turn share a write).
 * `wire: 'meta'` (the meta-wire floor, a reference for memcluster's default on meta servers):
 * getMulti sends each server's keys as quiet `mg <key> v f k q` lines ended by `mn`, the bytes
 * memcluster sends there, instead of 100-key `get` lines. Everything else is unchanged.
 * @typedef {{ flush?: 'nextTick' | 'microtask' | 'immediate' | 'adaptive', write?: 'join' | 'cork' | 'concat', wire?: 'text' | 'meta' }} FloorOptions
 */

class BaselineConnection {
  /** @param {string} host @param {number} port @param {FloorOptions} options */
  constructor(host, port, { flush = 'nextTick', write = 'join' } = {}) {
    this.schedule = flush === 'nextTick' ? process.nextTick : flush === 'microtask' ? queueMicrotask : setImmediate;
    this.adaptive = flush === 'adaptive';
    this.joinStrings = write === 'join';
    this.concat = write === 'concat';
    this.server = `${host}:${port}`;
    /** @type {Pending[]} */
    this.pending = [];
    this.head = 0;
    /** Requests of this tick, not yet written. */
    /** @type {Array<string | Buffer>} */
    this.out = [];
    this.outHasBuffer = false;
    this.flushing = false;
    this.flush = () => this.write();
    /** Unparsed bytes: an incomplete line, or a value whose data block has not all arrived. */
    /** @type {Buffer | null} */
    this.rest = null;
    /** When the rest is a value waiting for its data: chunks gathered and the total bytes needed. */
    /** @type {Buffer[]} */
    this.parts = [];
    this.partsLen = 0;
    this.need = 0;
    /** @type {Error | undefined} */
    this.dead = undefined;
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error(`${this.server}: socket closed`)));
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve(undefined));
      this.socket.once('error', reject);
    });
  }

  /** Queues one request for this tick's write. @param {number} kind @param {Call} call @param {string} key @param {string | Buffer} bytes */
  send(kind, call, key, bytes) {
    if (this.dead) return call.fail(this.dead);
    this.pending.push(new Pending(kind, call, key));
    this.out.push(bytes);
    if (typeof bytes !== 'string') this.outHasBuffer = true;
    if (!this.flushing) {
      this.flushing = true;
      if (this.adaptive) {
        if (this.pending.length - this.head > 1) setImmediate(this.flush);
        else process.nextTick(this.flush);
      } else {
        this.schedule(this.flush);
      }
    }
  }

  /** One write for everything queued this tick. */
  write() {
    this.flushing = false;
    const out = this.out;
    if (out.length === 0 || this.dead) return;
    this.out = [];
    if (out.length === 1) {
      this.socket.write(out[0]);
    } else if (this.joinStrings && !this.outHasBuffer) {
      this.socket.write(out.join(''));
    } else if (this.concat) {
      this.socket.write(Buffer.concat(out.map((b) => (typeof b === 'string' ? Buffer.from(b) : b))));
    } else {
      this.socket.cork();
      for (const b of out) this.socket.write(b);
      this.socket.uncork();
    }
    this.outHasBuffer = false;
  }

  /** Removes and returns the oldest pending request. */
  shift() {
    const p = this.pending[this.head];
    this.pending[this.head++] = /** @type {any} */ (undefined);
    if (this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
    } else if (this.head > 4096) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    return p;
  }

  /** @param {Buffer} chunk */
  onData(chunk) {
    if (this.need > 0) {
      // Waiting for the rest of a data block: collect, concatenate once it is all there.
      this.parts.push(chunk);
      this.partsLen += chunk.length;
      if (this.partsLen < this.need) return;
      chunk = Buffer.concat(this.parts, this.partsLen);
      this.parts = [];
      this.partsLen = 0;
      this.need = 0;
    } else if (this.rest !== null) {
      chunk = Buffer.concat([this.rest, chunk]);
    }
    this.rest = null;
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      const req = this.pending[this.head];
      if (req === undefined) return this.fail(new Error(`${this.server}: reply with no request pending`));
      const c0 = chunk[pos];
      if (c0 === 0x56 /* V */ && (req.kind === GET || req.kind === MGET)) {
        let keyStart = pos + 6;
        let keyEnd = 0;
        let flags = 0;
        let size = 0;
        let c = 0;
        let i;
        if (req.kind === GET) {
          // VALUE <key> <flags> <bytes>\r\n<data>\r\n
          i = keyStart;
          while (i < len && chunk[i] !== 0x20) i++;
          keyEnd = i++;
          while (i < len && (c = chunk[i]) !== 0x20) {
            flags = flags * 10 + c - 0x30;
            i++;
          }
          i++;
          while (i < len && (c = chunk[i]) !== 0x0d) {
            size = size * 10 + c - 0x30;
            i++;
          }
        } else {
          // VA <bytes> f<flags> k<key>\r\n<data>\r\n
          i = pos + 3;
          while (i < len && (c = chunk[i]) !== 0x20) {
            size = size * 10 + c - 0x30;
            i++;
          }
          i += 2;
          while (i < len && (c = chunk[i]) !== 0x20) {
            flags = flags * 10 + c - 0x30;
            i++;
          }
          keyStart = i += 2;
          while (i < len && chunk[i] !== 0x0d) i++;
          keyEnd = i;
        }
        if (i + 1 >= len) break; // the header line is not complete yet
        const start = i + 2;
        const end = start + size;
        if (end + 2 > len) {
          // Keep the header; parse it again when the whole block has arrived.
          this.parts = [chunk.subarray(pos)];
          this.partsLen = len - pos;
          this.need = end + 2 - pos;
          return;
        }
        const call = req.call;
        const value = decode(chunk, start, end, flags);
        if (call.map !== null) call.map.set(chunk.latin1Slice(keyStart, keyEnd), value);
        else call.value = value;
        pos = end + 2;
        continue;
      }
      let eol = pos;
      while (eol < len && chunk[eol] !== 0x0d) eol++;
      if (eol + 1 >= len) break; // incomplete line
      const at = pos;
      const n = eol - at;
      const p = this.shift();
      const call = p.call;
      pos = eol + 2;
      if (p.kind === GET) {
        if (n === 3 && c0 === 0x45 /* END */) {
          call.done();
          continue;
        }
      } else if (p.kind === MGET) {
        if (n === 2 && c0 === 0x4d /* MN */) {
          call.done();
          continue;
        }
      } else if (p.kind === STORE) {
        // STORED / NOT_STORED
        if (n === 6 && c0 === 0x53 && chunk[at + 1] === 0x54) {
          if (call.map !== null) call.map.set(p.key, true);
          else call.value = true;
          call.done();
          continue;
        }
        if (n === 10 && c0 === 0x4e && chunk[at + 4] === 0x53) {
          if (call.map !== null) call.map.set(p.key, false);
          else call.value = false;
          call.done();
          continue;
        }
      } else if ((n === 7 && c0 === 0x44) /* DELETED */ || (n === 9 && c0 === 0x4e && chunk[at + 4] === 0x46) /* NOT_FOUND */) {
        const deleted = c0 === 0x44;
        if (call.map !== null) call.map.set(p.key, deleted);
        else call.value = deleted;
        call.done();
        continue;
      }
      call.fail(new Error(`${this.server}: ${chunk.latin1Slice(at, eol)}`));
    }
    if (pos < len) this.rest = chunk.subarray(pos);
  }

  /** @param {Error} err */
  fail(err) {
    if (this.dead) return;
    this.dead = err;
    this.socket.destroy();
    const pending = this.pending.slice(this.head);
    this.pending = [];
    this.head = 0;
    this.out = [];
    for (const p of pending) p.call.fail(err);
  }

  close() {
    this.fail(new Error(`${this.server}: closed`));
  }
}

/** @param {string} key @param {string | Buffer} value @param {number} ttl */
function storeBytes(key, value, ttl) {
  if (typeof value === 'string') return `set ${key} 0 ${ttl} ${Buffer.byteLength(value)}\r\n${value}\r\n`;
  return Buffer.concat([Buffer.from(`set ${key} 4 ${ttl} ${value.length}\r\n`), value, Buffer.from('\r\n')]);
}

export class BaselineClient {
  /** @param {string[]} servers `host:port` strings @param {FloorOptions} [options] */
  constructor(servers, options) {
    this.ring = new KetamaRing(servers);
    this.metaReads = options?.wire === 'meta';
    /** @type {Map<string, BaselineConnection>} */
    this.conns = new Map();
    for (const s of servers) {
      const i = s.lastIndexOf(':');
      this.conns.set(s, new BaselineConnection(s.slice(0, i), Number(s.slice(i + 1)), options));
    }
  }

  /** Resolves once every socket is connected. */
  async connect() {
    await Promise.all([...this.conns.values()].map((c) => c.ready));
    return this;
  }

  /** @param {string} key @returns {BaselineConnection} */
  connFor(key) {
    return /** @type {BaselineConnection} */ (this.conns.get(this.ring.get(key)));
  }

  /** @param {string} key @returns {Promise<unknown>} the value, or undefined on a miss */
  get(key) {
    const call = new Call(null, 1);
    this.connFor(key).send(GET, call, key, `get ${key}\r\n`);
    return call.promise;
  }

  /** @param {string} key @param {string | Buffer} value @param {number} [ttl] @returns {Promise<boolean>} */
  set(key, value, ttl = 0) {
    const call = new Call(null, 1);
    this.connFor(key).send(STORE, call, key, storeBytes(key, value, ttl));
    return call.promise;
  }

  /** @param {string} key @returns {Promise<boolean>} */
  delete(key) {
    const call = new Call(null, 1);
    this.connFor(key).send(DELETE, call, key, `delete ${key}\r\n`);
    return call.promise;
  }

  /** @param {readonly string[]} keys @returns {Promise<Map<string, unknown>>} hits only */
  getMulti(keys) {
    /** @type {Map<BaselineConnection, string[]>} */
    const groups = new Map();
    for (const key of keys) {
      const conn = this.connFor(key);
      const g = groups.get(conn);
      if (g) g.push(key);
      else groups.set(conn, [key]);
    }
    if (this.metaReads) {
      const call = new Call(new Map(), groups.size);
      if (groups.size === 0) return Promise.resolve(call.map);
      for (const [conn, group] of groups) {
        let batch = '';
        for (const key of group) batch += `mg ${key} v f k q\r\n`;
        conn.send(MGET, call, '', batch + 'mn\r\n');
      }
      return call.promise;
    }
    let lines = 0;
    for (const group of groups.values()) lines += Math.ceil(group.length / BATCH_KEYS);
    const call = new Call(new Map(), lines);
    if (lines === 0) return Promise.resolve(call.map);
    for (const [conn, group] of groups) {
      for (let i = 0; i < group.length; i += BATCH_KEYS) {
        const end = Math.min(i + BATCH_KEYS, group.length);
        let line = 'get';
        for (let j = i; j < end; j++) line += ' ' + group[j];
        conn.send(GET, call, '', line + '\r\n');
      }
    }
    return call.promise;
  }

  /** @param {ReadonlyArray<readonly [string, string | Buffer]>} entries @param {number} [ttl] @returns {Promise<Map<string, boolean>>} */
  setMulti(entries, ttl = 0) {
    const call = new Call(new Map(), entries.length);
    if (entries.length === 0) return Promise.resolve(/** @type {Map<string, boolean>} */ (call.map));
    for (const [key, value] of entries) this.connFor(key).send(STORE, call, key, storeBytes(key, value, ttl));
    return call.promise;
  }

  /** @param {readonly string[]} keys @returns {Promise<Map<string, boolean>>} */
  deleteMulti(keys) {
    const call = new Call(new Map(), keys.length);
    if (keys.length === 0) return Promise.resolve(/** @type {Map<string, boolean>} */ (call.map));
    for (const key of keys) this.connFor(key).send(DELETE, call, key, `delete ${key}\r\n`);
    return call.promise;
  }

  close() {
    for (const c of this.conns.values()) c.close();
  }
}

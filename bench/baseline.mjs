// @ts-check
/**
 * The "near the limit" baseline of the benchmark: a minimal pipelined memcached text-protocol
 * client, written to be about as cheap as a correct client can be, so the other clients can be
 * read as a ratio to it.
 *
 * - One socket per server, opened by `connect()`; no pool, no validation, no timeouts, no retries,
 *   no reconnects: a socket error rejects everything pending on it and the client stays broken.
 * - Every request is written to its socket immediately (`socket.write`, no batching of our own).
 * - Replies are parsed incrementally as chunks arrive and matched to requests in write order.
 *   A value's data block is copied once at its final size when it spans chunks.
 * - Routing is the one `memcached` 2.2.2 uses:
 *   `new HashRing(servers, 'md5', { compatibility: 'ketama', 'default port': 11211 })`.
 * - `getMulti` groups keys by server, cuts each group into `get` lines of at most 100 keys,
 *   writes them all at once and merges the hits into one `Map`.
 * - Values are decoded as `memcached` 2.2.2 / memcluster do for what the bench stores: flag 4 is a
 *   Buffer, anything else a UTF-8 string. Keys are not validated (the bench only uses safe keys).
 */
import net from 'node:net';
import HashRing from 'hashring';

const CRLF = Buffer.from('\r\n');
const BATCH_KEYS = 100;

/**
 * @typedef {{ kind: 'get' | 'store', values: Array<[string, string | Buffer]> | undefined,
 *   resolve: (v: any) => void, reject: (e: Error) => void }} Pending
 */

class BaselineConnection {
  /** @param {string} host @param {number} port */
  constructor(host, port) {
    this.server = `${host}:${port}`;
    /** @type {Pending[]} */
    this.pending = [];
    this.head = 0;
    /** Unparsed bytes (an incomplete line, or a value header waiting for its data). */
    /** @type {Buffer | null} */
    this.buf = null;
    /** Chunks gathered for a data block that spans chunks, and how many bytes we need before parsing again. */
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

  /** @param {'get' | 'store'} kind @param {string | Buffer} bytes */
  request(kind, bytes) {
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(this.dead);
      this.pending.push({ kind, values: kind === 'get' ? [] : undefined, resolve, reject });
      this.socket.write(bytes);
    });
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
    } else if (this.buf !== null) {
      chunk = Buffer.concat([this.buf, chunk]);
    }
    this.buf = null;
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      const eol = chunk.indexOf(CRLF, pos);
      if (eol < 0) break;
      const req = this.pending[this.head];
      if (!req) return this.fail(new Error(`${this.server}: reply with no request pending`));
      const c0 = chunk[pos];
      if (req.kind === 'get' && c0 === 0x56 /* V */) {
        // VALUE <key> <flags> <bytes>
        const line = chunk.latin1Slice(pos, eol);
        const s1 = line.indexOf(' ', 6);
        const s2 = line.indexOf(' ', s1 + 1);
        const key = line.slice(6, s1);
        const flags = +line.slice(s1 + 1, s2);
        const size = +line.slice(s2 + 1);
        const start = eol + 2;
        if (start + size + 2 > len) {
          // Keep the header; parse it again when the whole block has arrived.
          this.parts = [chunk.subarray(pos)];
          this.partsLen = len - pos;
          this.need = start - pos + size + 2;
          return;
        }
        const data = chunk.subarray(start, start + size);
        /** @type {Array<[string, string | Buffer]>} */ (req.values).push([key, flags === 4 ? Buffer.from(data) : data.utf8Slice(0, size)]);
        pos = start + size + 2;
        continue;
      }
      const line = chunk.latin1Slice(pos, eol);
      pos = eol + 2;
      this.pending[this.head++] = /** @type {any} */ (undefined);
      if (this.head === this.pending.length) {
        this.pending.length = 0;
        this.head = 0;
      } else if (this.head > 4096) {
        this.pending = this.pending.slice(this.head);
        this.head = 0;
      }
      if (req.kind === 'get' && line === 'END') req.resolve(req.values);
      else if (req.kind === 'store' && line === 'STORED') req.resolve(true);
      else if (req.kind === 'store' && line === 'NOT_STORED') req.resolve(false);
      else req.reject(new Error(`${this.server}: ${line}`));
    }
    if (pos < len) this.buf = chunk.subarray(pos);
  }

  /** @param {Error} err */
  fail(err) {
    if (this.dead) return;
    this.dead = err;
    this.socket.destroy();
    const pending = this.pending.slice(this.head);
    this.pending = [];
    this.head = 0;
    for (const p of pending) p.reject(err);
  }

  close() {
    this.fail(new Error(`${this.server}: closed`));
  }
}

export class BaselineClient {
  /** @param {string[]} servers `host:port` strings */
  constructor(servers) {
    this.ring = new HashRing(servers, 'md5', { compatibility: 'ketama', 'default port': 11211 });
    /** @type {Map<string, BaselineConnection>} */
    this.conns = new Map();
    for (const s of servers) {
      const i = s.lastIndexOf(':');
      this.conns.set(s, new BaselineConnection(s.slice(0, i), Number(s.slice(i + 1))));
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

  /** @param {string} key @returns {Promise<string | Buffer | undefined>} */
  async get(key) {
    const values = await this.connFor(key).request('get', `get ${key}\r\n`);
    return values.length ? values[0][1] : undefined;
  }

  /**
   * Strings are written as UTF-8 with flags 0, Buffers as is with flags 4 (what memcached 2.2.2
   * and memcluster write for values without CR/LF).
   * @param {string} key @param {string | Buffer} value @param {number} [ttl]
   * @returns {Promise<boolean>}
   */
  set(key, value, ttl = 0) {
    const conn = this.connFor(key);
    if (typeof value === 'string') {
      return conn.request('store', `set ${key} 0 ${ttl} ${Buffer.byteLength(value)}\r\n${value}\r\n`);
    }
    return conn.request('store', Buffer.concat([Buffer.from(`set ${key} 4 ${ttl} ${value.length}\r\n`), value, CRLF]));
  }

  /** @param {readonly string[]} keys @returns {Promise<Map<string, string | Buffer>>} */
  async getMulti(keys) {
    /** @type {Map<BaselineConnection, string[]>} */
    const groups = new Map();
    for (const key of keys) {
      const conn = this.connFor(key);
      const g = groups.get(conn);
      if (g) g.push(key);
      else groups.set(conn, [key]);
    }
    /** @type {Promise<Array<[string, string | Buffer]>>[]} */
    const requests = [];
    for (const [conn, group] of groups) {
      for (let i = 0; i < group.length; i += BATCH_KEYS) {
        requests.push(conn.request('get', `get ${group.slice(i, i + BATCH_KEYS).join(' ')}\r\n`));
      }
    }
    const out = new Map();
    for (const values of await Promise.all(requests)) for (const [k, v] of values) out.set(k, v);
    return out;
  }

  close() {
    for (const c of this.conns.values()) c.close();
  }
}

// @ts-check
/**
 * The clients under test, each behind the same small promise adapter so the workloads are
 * identical for all of them:
 *
 *   get(key)        -> value (string | Buffer) or undefined on a miss
 *   set(key, value) -> true when stored
 *   getMulti(keys)  -> a result; `lookup(result, key)` reads one key from it
 *   close()         -> ends the client and its sockets
 *
 * Every client is created fresh for each measured run and closed after it, so a client's leftover
 * callbacks or sockets (memcached 2.2.2 after a getMulti that did not finish) cannot touch the next run.
 * Every client routes keys with the same ring (`hashring`, md5, ketama, default port 11211), so a
 * key lives on the same server for all of them and each can read the keys the bench seeded.
 */
import { createRequire } from 'node:module';
import HashRing from 'hashring';
import { Client } from '../dist/index.js';
import { BaselineClient } from './baseline.mjs';

const require = createRequire(import.meta.url);
const Memcached = require('memcached');
const memjs = require('memjs');

/** Per-request timeout given to every client that has one: memcached 2.2.2's default, 5 s. */
export const TIMEOUT_MS = 5000;

/**
 * @typedef {object} Adapter
 * @property {(key: string) => Promise<string | Buffer | undefined>} get
 * @property {(key: string, value: string) => Promise<boolean>} set
 * @property {(keys: string[]) => Promise<any>} getMulti
 * @property {(result: any, key: string) => string | Buffer | undefined} lookup
 * @property {() => Promise<void> | void} close
 */

/**
 * @typedef {object} ClientSpec
 * @property {string} id short id, used in keys and JSON
 * @property {string} label what the table shows
 * @property {string} [note] printed under the tables
 * @property {'baseline' | 'memcluster' | 'peer'} family
 * @property {(servers: string[]) => Promise<Adapter>} create
 */

const mapLookup = (/** @type {Map<string, any>} */ m, /** @type {string} */ k) => m.get(k);

/** @param {string[]} servers @param {import('../dist/index.js').ClientOptions} options @returns {Promise<Adapter>} */
async function memcluster(servers, options) {
  const mc = new Client(servers, { timeoutMs: TIMEOUT_MS, ...options });
  return {
    get: (key) => /** @type {Promise<string | undefined>} */ (mc.get(key)),
    set: (key, value) => mc.set(key, value),
    getMulti: (keys) => mc.getMulti(keys),
    lookup: mapLookup,
    close: () => mc.close(),
  };
}

/** @type {ClientSpec[]} */
export const CLIENTS = [
  {
    id: 'baseline',
    label: 'baseline (hand-written pipelined)',
    family: 'baseline',
    async create(servers) {
      const b = await new BaselineClient(servers).connect();
      return {
        get: (key) => b.get(key),
        set: (key, value) => b.set(key, value),
        getMulti: (keys) => b.getMulti(keys),
        lookup: mapLookup,
        close: () => b.close(),
      };
    },
  },
  {
    id: 'memcluster',
    label: 'memcluster (default)',
    note: 'memcluster (default): validation on every borrow (trustRecentMs 0), coalescing on',
    family: 'memcluster',
    create: (servers) => memcluster(servers, {}),
  },
  {
    id: 'memcluster-trust',
    label: 'memcluster trustRecentMs:1000',
    family: 'memcluster',
    create: (servers) => memcluster(servers, { trustRecentMs: 1000 }),
  },
  {
    id: 'memcluster-nocoalesce',
    label: 'memcluster coalesce:false',
    family: 'memcluster',
    create: (servers) => memcluster(servers, { coalesce: false }),
  },
  {
    id: 'memcluster-both',
    label: 'memcluster trust+nocoalesce',
    note: 'memcluster trust+nocoalesce: trustRecentMs 1000 and coalesce false',
    family: 'memcluster',
    create: (servers) => memcluster(servers, { trustRecentMs: 1000, coalesce: false }),
  },
  {
    id: 'memcached',
    label: 'memcached 2.2.2',
    note: 'memcached 2.2.2: default options (poolSize 10, timeout 5000, retries 5)',
    family: 'peer',
    async create(servers) {
      const mc = new Memcached(servers);
      return {
        get: (key) => new Promise((resolve, reject) => mc.get(key, (/** @type {any} */ err, /** @type {any} */ v) => (err ? reject(err) : resolve(v)))),
        set: (key, value) => new Promise((resolve, reject) => mc.set(key, value, 0, (/** @type {any} */ err, /** @type {any} */ ok) => (err ? reject(err) : resolve(ok)))),
        // Its err is an array given alongside the partial data: report it as the error.
        getMulti: (keys) => new Promise((resolve, reject) => mc.getMulti(keys, (/** @type {any} */ err, /** @type {any} */ data) => (err ? reject(Array.isArray(err) ? err[0] : err) : resolve(data)))),
        lookup: (obj, key) => (Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined),
        close: () => mc.end(),
      };
    },
  },
  {
    id: 'memjs',
    label: 'memjs 1.3.2 *',
    note: 'memjs 1.3.2 *: binary protocol; has no getMulti, so getMulti is emulated with concurrent get()s; '
      + 'routed with the same ring as the others (getServer overridden); timeout 5 s',
    family: 'peer',
    async create(servers) {
      const mc = memjs.Client.create(servers.join(','), { timeout: TIMEOUT_MS / 1000, logger: { log() {} } });
      const ring = new HashRing(servers, 'md5', { compatibility: 'ketama', 'default port': 11211 });
      const index = new Map(servers.map((s, i) => [s, i]));
      mc.getServer = (/** @type {string} */ key) => index.get(ring.get(key));
      /** @param {string} key @returns {Promise<Buffer | undefined>} */
      const get = (key) => new Promise((resolve, reject) => mc.get(key, (/** @type {any} */ err, /** @type {any} */ v) => (err ? reject(err) : resolve(v ?? undefined))));
      return {
        get,
        set: (key, value) => new Promise((resolve, reject) => mc.set(key, value, { expires: 0 }, (/** @type {any} */ err, /** @type {any} */ ok) => (err ? reject(err) : resolve(ok)))),
        async getMulti(keys) {
          const values = await Promise.all(keys.map(get));
          const out = new Map();
          for (let i = 0; i < keys.length; i++) if (values[i] !== undefined) out.set(keys[i], values[i]);
          return out;
        },
        lookup: mapLookup,
        close: () => mc.close(),
      };
    },
  },
];

/**
 * A deliberately broken client (the baseline, losing data on purpose), added by
 * `node bench/run.mjs --inject-loss` to show that the checks catch silent data loss: every 500th
 * get returns a wrong value, every 500th set is acknowledged but never sent, and every getMulti
 * drops one hit.
 * @type {ClientSpec}
 */
export const LOSSY = {
  id: 'lossy',
  label: 'lossy (self-test, loses data on purpose)',
  family: 'peer',
  async create(servers) {
    const b = await new BaselineClient(servers).connect();
    let n = 0;
    return {
      get: async (key) => (++n % 500 === 0 ? 'not the value' : b.get(key)),
      set: async (key, value) => (++n % 500 === 0 ? true : b.set(key, value)),
      async getMulti(keys) {
        const m = await b.getMulti(keys);
        m.delete(keys[keys.length >> 1]);
        return m;
      },
      lookup: mapLookup,
      close: () => b.close(),
    };
  },
};

// @ts-check
/**
 * The clients under test, each behind the same small promise adapter so the workloads are
 * identical for all of them:
 *
 *   get(key)        -> value (string | Buffer) or undefined on a miss
 *   set(key, value) -> true when stored
 *   getMulti(keys)  -> a result; `lookup(result, key)` reads one key from it
 *   setMulti(entries) / deleteMulti(keys) -> Map key -> boolean (only clients with `multiWrite`)
 *   close()         -> ends the client and its sockets
 *
 * Every client is created fresh for each measured run and closed after it, so a client's leftover
 * callbacks or sockets (memcached 2.2.2 after a getMulti that did not finish) cannot touch the next run.
 * Every client routes keys with the same ring (`hashring`, md5, ketama, default port 11211), so a
 * key lives on the same server for all of them and each can read the keys the bench seeded.
 */
import diagnostics from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import HashRing from 'hashring';
// The built package, resolved through package.json "exports" as a user's import would be
// (a package may import itself by name), so a change of dist/ layout needs no change here.
import { Client } from 'memcluster';
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
 * @property {(entries: Array<[string, string]>) => Promise<Map<string, boolean>>} [setMulti]
 * @property {(keys: string[]) => Promise<Map<string, boolean>>} [deleteMulti]
 * @property {() => Promise<void> | void} close
 */

/**
 * @typedef {object} ClientSpec
 * @property {string} id short id, used in keys and JSON
 * @property {string} label what the table shows
 * @property {string} [note] printed under the tables
 * @property {'baseline' | 'memcluster' | 'peer'} family
 * @property {boolean} [multiWrite] has setMulti and deleteMulti (the peers have neither)
 * @property {(w: import('./workloads.mjs').Workload) => boolean} [only] the workloads it runs (default: all)
 * @property {(servers: string[]) => Promise<Adapter>} create
 */

const mapLookup = (/** @type {Map<string, any>} */ m, /** @type {string} */ k) => m.get(k);

/**
 * @param {string[]} servers @param {import('memcluster').ClientOptions} options
 * @param {() => void} [onClose] @returns {Promise<Adapter>}
 */
async function memcluster(servers, options, onClose) {
  const mc = new Client(servers, { timeoutMs: TIMEOUT_MS, ...options });
  return {
    get: (key) => /** @type {Promise<string | undefined>} */ (mc.get(key)),
    set: (key, value) => mc.set(key, value),
    getMulti: (keys) => mc.getMulti(keys),
    lookup: mapLookup,
    setMulti: (entries) => mc.setMulti(entries),
    deleteMulti: (keys) => mc.deleteMulti(keys),
    close: async () => {
      try {
        await mc.close();
      } finally {
        onClose?.();
      }
    },
  };
}

/** The TracingChannel memcluster publishes each command on (when it does). */
export const TRACING_CHANNEL = 'memcluster:command';
/** Events the traced variant's subscriber saw, over the whole bench run (0: memcluster does not trace yet). */
export const traced = { events: 0, runs: 0 };
/**
 * A subscriber that does nothing but count `start` events: the cheapest subscriber there is, so
 * the traced variant's cost over the default one is the cost of tracing itself.
 */
const noopTracing = {
  start() {
    traced.events++;
  },
  end() {},
  asyncStart() {},
  asyncEnd() {},
  error() {},
};

/** The floor client (bench/baseline.mjs) behind the bench's adapter. @param {string[]} servers @returns {Promise<Adapter>} */
async function floor(servers) {
  const b = await new BaselineClient(servers).connect();
  return {
    get: (key) => b.get(key),
    set: (key, value) => b.set(key, value),
    getMulti: (keys) => b.getMulti(keys),
    lookup: mapLookup,
    setMulti: (entries) => b.setMulti(entries),
    deleteMulti: (keys) => b.deleteMulti(keys),
    close: () => b.close(),
  };
}

/** @type {ClientSpec[]} */
export const CLIENTS = [
  {
    id: 'baseline',
    label: 'floor (bench/baseline.mjs)',
    family: 'baseline',
    multiWrite: true,
    create: floor,
  },
  {
    id: 'baseline-again',
    label: 'floor again (noise check)',
    note: "floor again: the same floor code as a second client, run in its own slot of each round; its ratios to the floor measure the run's own noise (the same client against itself)",
    family: 'baseline',
    multiWrite: true,
    create: floor,
  },
  {
    id: 'baseline-meta',
    label: 'floor, meta wire (reference)',
    note: 'floor, meta wire: the floor with getMulti sent as quiet `mg <key> v f k q` lines and `mn`, the bytes memcluster (default) sends to meta servers; run on getMulti only, as a reference for what that wire costs (memcached answers it in smaller pieces: see bench/README.md)',
    family: 'baseline',
    only: (w) => w.id.startsWith('getmulti-'),
    async create(servers) {
      const b = await new BaselineClient(servers, { wire: 'meta' }).connect();
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
    note: 'memcluster (default): validation on every borrow (trustRecentMs 0), coalescing on, protocol auto (meta on these servers)',
    family: 'memcluster',
    multiWrite: true,
    create: (servers) => memcluster(servers, {}),
  },
  {
    id: 'memcluster-traced',
    label: 'memcluster traced (no-op subscriber)',
    note: `memcluster traced: the default client with a subscriber that does nothing on the \`${TRACING_CHANNEL}\` TracingChannel, subscribed for the run only; its cost over memcluster (default) is the cost of tracing`,
    family: 'memcluster',
    multiWrite: true,
    create(servers) {
      const channel = diagnostics.tracingChannel(TRACING_CHANNEL);
      channel.subscribe(noopTracing);
      traced.runs++;
      return memcluster(servers, {}, () => channel.unsubscribe(noopTracing));
    },
  },
  {
    id: 'memcluster-text',
    label: 'memcluster protocol:text',
    note: 'memcluster protocol:text: the default client on the text protocol (the default, `auto`, speaks meta to these memcached 1.6.18 servers)',
    family: 'memcluster',
    multiWrite: true,
    create: (servers) => memcluster(servers, { protocol: 'text' }),
  },
  {
    id: 'memcluster-trust',
    multiWrite: true,
    label: 'memcluster trustRecentMs:1000',
    family: 'memcluster',
    create: (servers) => memcluster(servers, { trustRecentMs: 1000 }),
  },
  {
    id: 'memcluster-nocoalesce',
    multiWrite: true,
    label: 'memcluster coalesce:false',
    family: 'memcluster',
    create: (servers) => memcluster(servers, { coalesce: false }),
  },
  {
    id: 'memcluster-both',
    multiWrite: true,
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

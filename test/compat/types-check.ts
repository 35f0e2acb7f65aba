/**
 * Type-level test, compiled by `tsc --noEmit -p tsconfig.json` (npm run typecheck): typical code
 * written against `@types/memcached`, unchanged but for the import, must type-check against
 * memcluster/compat's types. Everything below the USAGE marker is also compiled against the BUILT
 * declarations (`import Memcached = require('memcluster/compat')` and the ESM default import) by
 * test/compat/examples.test.ts. Nothing here runs.
 *
 * The import is relative to the sources: `memcluster/compat` itself resolves (through package.json
 * `exports`) to dist/, which only exists after a build.
 */
import Memcached from '../../src/compat/index.js';
import type LegacyMemcached from 'memcached';

// ---- USAGE ----
export function usage(): void {
  Memcached.config.poolSize = 25;
  Memcached.config.timeout = 1000;

  const options: Memcached.options = {
    retries: 10, retry: 10000, remove: true, failOverServers: ['192.168.0.103:11211'], namespace: 'app:', keyCompression: true,
    maxValue: 1048576, maxKeySize: 250, maxExpiration: 2592000, poolSize: 10, algorithm: 'md5', reconnect: 18000000, timeout: 5000,
    failures: 5, idle: 5000,
  };
  const weighted: Memcached.Location = { '192.168.0.102:11211': 1, '192.168.0.103:11211': 2 };
  const memcached = new Memcached(weighted, options);
  const single: Memcached = new Memcached('127.0.0.1:11211');
  const many = new Memcached(['127.0.0.1:11211', '127.0.0.1:11212'], { timeout: 500 });

  memcached.touch('key', 10, function (err) {
    const query: Memcached.CommandData = this;
    console.log(query.key, query.type, err);
  });
  memcached.get('foo', function (err, data) {
    console.log(this.type, this.command, this.execution, this.start, err, data);
  });
  memcached.gets('foo', function (err, data) {
    const cas: string = data.cas;
    memcached.cas('foo', 'bar', cas, 10, function (err2, result) {
      const stored: boolean = result;
      console.log(err, err2, stored, this.cas);
    });
  });
  memcached.getMulti(['foo', 'bar'], function (err, data) {
    console.log(err, data.foo, data['bar']);
  });
  memcached.set('foo', { any: 'json' }, 10, function (err, result) {
    const ok: boolean = result;
    console.log(err, ok, this.lifetime, this.value);
  });
  memcached.replace('foo', 'bar', 10, (err, result) => console.log(err, result));
  memcached.add('foo', Buffer.from('bar'), 10, (err, result) => console.log(err, result));
  memcached.append('foo', 'bar', (err, result) => console.log(err, result));
  memcached.prepend('foo', 'bar', (err, result) => console.log(err, result));
  memcached.incr('counter', 1, function (err, result) {
    if (typeof result === 'number') console.log(result + 1, this.key);
    else console.log(err, result === false);
  });
  memcached.decr('counter', 1, (err, result) => console.log(err, result));
  memcached.del('foo', (err, result) => console.log(err, result));
  memcached.version((err, versions) => {
    for (const v of versions) console.log(err, v.server, v.version, v.major, v.minor, v.bugfix);
  });
  memcached.settings((err, settings) => console.log(err, settings[0]?.server));
  memcached.stats((err, stats) => console.log(err, stats.map((s) => s.server)));
  memcached.slabs((err, slabs) => console.log(err, slabs.length));
  memcached.items((err, items) => {
    const first: Memcached.StatusData | undefined = items[0];
    memcached.cachedump(String(first?.server), 1, 10, (err2, dump) => {
      const list: Memcached.CacheDumpData[] = Array.isArray(dump) ? dump : [dump];
      console.log(err, err2, list.map((d) => [d.key, d.b, d.s]));
    });
  });
  memcached.flush(function (err, results) {
    const all: boolean[] = results;
    console.log(err, all);
  });
  memcached.on('issue', (details: Memcached.IssueData) => console.log(details.server, details.tokens, details.messages, details.failures));
  memcached.on('failure', (details) => console.log(details.server, details.totalReconnectsFailed));
  memcached.on('reconnecting', (details) => console.log(details.totalReconnectsAttempted));
  memcached.on('reconnect', (details) => console.log(details.totalDownTime));
  memcached.on('remove', (details) => console.log(details.server));
  const names: Memcached.EventNames[] = ['issue', 'failure', 'reconnecting', 'reconnect', 'remove'];
  console.log(names);

  // Code (or a library) typed with @types/memcached's class accepts a compat client.
  const takesLegacy = (client: LegacyMemcached): void => client.get('k', () => {});
  takesLegacy(memcached);
  takesLegacy(single);

  // The types are real, not `any`:
  // @ts-expect-error the lifetime must be a number
  memcached.set('foo', 'bar', 'ten', () => {});
  // @ts-expect-error getMulti takes an array of keys
  memcached.getMulti('foo', () => {});
  // @ts-expect-error there is no such event (and no `error` event: it is never emitted)
  memcached.on('error', () => {});
  // @ts-expect-error `this` in a getMulti callback is undefined
  memcached.getMulti(['a'], function () { console.log(this.key); });

  memcached.end();
  single.end();
  many.end();
}

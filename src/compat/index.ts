/**
 * `memcluster/compat`: a drop-in for the `memcached` 2.2.2 npm package.
 *
 * ```js
 * const Memcached = require('memcluster/compat'); // was: require('memcached')
 * const memcached = new Memcached(['10.0.0.1:11211', '10.0.0.2:11211'], { timeout: 500 });
 * memcached.set('foo', 'bar', 10, (err) => { ... });
 * ```
 *
 * Same constructor, options, methods, callbacks, results, events, key-to-server mapping and item
 * bytes; none of 2.2.2's hangs and crashes. See "Migrating from `memcached`" in the README.
 */
import { MemcachedClient } from './memcached.js';
import type {
  CompatCacheDumpData, CompatCommandData, CompatConfig, CompatEventNames, CompatIssueData, CompatLocation, CompatOptions, CompatStatusData,
  CompatVersionData,
} from './types.js';

/** The class, callable with or without `new` (as 2.2.2's constructor function was). */
type MemcachedConstructor = typeof MemcachedClient & ((location?: CompatLocation, options?: CompatOptions) => MemcachedClient);

const Memcached = new Proxy(MemcachedClient, {
  apply(target, _thisArg, args: [CompatLocation?, CompatOptions?]) {
    return new target(...args);
  },
}) as MemcachedConstructor;

// Its own name in stack traces and inspection, whatever the bundler renames the class to.
Object.defineProperty(MemcachedClient, 'name', { value: 'Memcached' });
// Interop for CommonJS consumers whose transpiler reads `.default` without checking `__esModule`.
Object.defineProperty(MemcachedClient, 'default', { value: Memcached, enumerable: false });

type Memcached = MemcachedClient;

/** The types `@types/memcached` declares under `Memcached.*`, so existing annotations keep working. */
declare namespace Memcached {
  type Location = CompatLocation;
  type EventNames = CompatEventNames;
  type IssueData = CompatIssueData;
  type CommandData = CompatCommandData;
  type StatusData = CompatStatusData;
  type VersionData = CompatVersionData;
  type CacheDumpData = CompatCacheDumpData;
  type options = CompatOptions;
  type Config = CompatConfig;
}

export default Memcached;

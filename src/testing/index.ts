/**
 * `memcluster/testing`: start real memcached servers on free loopback ports for tests, benchmarks
 * and demos, freeze, kill and restart them, and talk to them over raw sockets.
 */
export {
  MemcachedServer, startServers, stopAll, allServers, rawCommand, parseStats, freePort, memcachedBinary, RawCommandError, LOOPBACK,
} from './memcached-server.js';
export type { MemcachedServerOptions, RawCommandOptions } from './memcached-server.js';

/**
 * `memcluster/testing`: start real memcached servers on free loopback ports for tests, benchmarks
 * and demos, freeze, kill and restart them, and talk to them over raw sockets.
 */
export { MemcachedServer, startServers, stopAll, allServers, memcachedBinary } from './memcached-server.js';
export type { MemcachedServerOptions } from './memcached-server.js';
export { rawCommand, parseStats, freePort, RawCommandError, LOOPBACK } from './raw.js';
export type { RawCommandOptions } from './raw.js';

// ESM entry: re-exports the CommonJS build, so import and require share one copy of every class.
export { LOOPBACK, MemcachedServer, RawCommandError, allServers, freePort, memcachedBinary, parseStats, rawCommand, startServers, stopAll } from "./testing.cjs";

/**
 * Server locations: `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address, as the cluster
 * names its servers (`host:port`, IPv6 in brackets).
 */
import { isIPv6 } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../text.js';

/** Host names and IPv4 addresses (IPv6 goes in brackets, or bare with no port). */
const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/;

/**
 * A server location split into host and port: `host`, `host:port`, `[v6]`, `[v6]:port` or a bare
 * IPv6 address; port 11211 by default. Anything else throws `InvalidOptionError`, so a malformed
 * location fails when the client is built, not at its first call.
 */
export function parseAddress(location: string): { host: string; port: number; label: string } {
  if (typeof location !== 'string' || location.trim() === '') throw new InvalidOptionError(`server location must be a non-empty string, got ${describeValue(location)}`);
  const bad = (why: string): InvalidOptionError => new InvalidOptionError(`server location ${describeValue(location)} is not host[:port]: ${why}`);
  let host = location;
  let port = '11211';
  const v6 = /^\[([^\]]*)\](?::([^:]*))?$/.exec(location);
  if (v6) {
    host = v6[1]!;
    if (v6[2] !== undefined) port = v6[2];
    if (!isIPv6(host)) throw bad('the part in brackets is not an IPv6 address');
  } else if (location.indexOf(':') !== location.lastIndexOf(':')) {
    // Several colons without brackets: only a bare IPv6 address (default port) makes sense.
    if (!isIPv6(location)) {
      throw bad(location.includes(',') || location.includes('://')
        ? "several servers go in an array or a comma-separated string ('h1:11211,h2:11211'); URLs are memcached://host:port"
        : 'write an IPv6 address with a port as [address]:port');
    }
  } else {
    const i = location.indexOf(':');
    if (i >= 0) {
      host = location.slice(0, i);
      port = location.slice(i + 1);
    }
    if (!HOSTNAME.test(host)) throw bad(`${describeValue(host)} is not a host name or IPv4 address`);
  }
  const n = Number(port);
  if (!/^\d{1,5}$/.test(port) || n < 1 || n > 65535) throw bad(`the port must be a number from 1 to 65535, got ${describeValue(port)}`);
  const label = host.includes(':') ? `[${host}]:${n}` : `${host}:${n}`;
  return { host, port: n, label };
}

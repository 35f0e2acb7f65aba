/**
 * Strict configuration, through the constructor: an unknown option name throws
 * `InvalidOptionError` naming it, with a hint for the names other clients use; every option that
 * has a default (and `tls`, `auth`) is accepted. Server lists in the forms other clients take
 * (`memcached://host:port`, `'h1:11211,h2:11211'`) mean the obvious servers, proven by a real
 * round trip; a malformed location throws when the client is built, not at its first call.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Client, DEFAULTS, InvalidOptionError, type ClientOptions } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

/** The error a constructor throws (fails the test if it does not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

const clients: Client[] = [];
/** A client closed after the file's tests. */
function client(servers: ConstructorParameters<typeof Client>[0], options?: ClientOptions): Client {
  const c = new Client(servers, options);
  clients.push(c);
  return c;
}
afterAll(() => Promise.all(clients.map((c) => c.close())));

describe('unknown option names', () => {
  const hints: Array<[string, RegExp]> = [
    ['timeout', /unknown option "timeout": did you mean timeoutMs\?/],
    ['poolSize', /unknown option "poolSize": did you mean maxConnections\?/],
    ['namespace', /unknown option "namespace": did you mean keyPrefix\?/],
    ['idle', /unknown option "idle": did you mean idleTimeoutMs\?/],
    ['retry', /unknown option "retry": did you mean retryDelayMs\?/],
    ['retries', /unknown option "retries": memcluster does not retry.*failureThreshold/],
    ['failures', /did you mean failureThreshold\?/],
    ['connect_timeout', /did you mean connectTimeoutMs\?/],
    ['maxValue', /did you mean maxValueBytes\?/],
    ['expires', /per call: set\(key, value, \{ ttl \}\)/],
    ['username', /auth: \{ username, password \}/],
    ['redundancy', /a memcached 2\.2\.2 option: memcluster\/compat takes/],
    // Near misses of memcluster's own names: case, separators, typos.
    ['timeoutms', /unknown option "timeoutms": did you mean timeoutMs\?/],
    ['TimeoutMs', /did you mean timeoutMs\?/],
    ['key_prefix', /did you mean keyPrefix\?/],
    ['maxConection', /did you mean maxConnections\?/],
    ['idleTimoutMs', /did you mean idleTimeoutMs\?/],
  ];
  for (const [name, hint] of hints) {
    it(`{ ${name} } -> InvalidOptionError naming it, with the hint`, () => {
      const err = thrown(() => new Client('127.0.0.1:11211', { [name]: 5 } as ClientOptions));
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).code).toBe('MC_ERR_INVALID_OPTION');
      expect(err.message).toMatch(hint);
    });
  }

  it('a name nothing resembles -> the message names it and lists the options', () => {
    const err = thrown(() => new Client('127.0.0.1:11211', { zebra: true } as ClientOptions));
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err.message).toMatch(/^unknown option "zebra" \(options: timeoutMs, /);
    expect(err.message).toContain('tls, auth');
  });

  it('an unknown name set to undefined still throws (a typo is a typo)', () => {
    expect(thrown(() => new Client('127.0.0.1:11211', { timeout: undefined } as ClientOptions))).toBeInstanceOf(InvalidOptionError);
  });

  it('an unknown name among valid ones still throws', () => {
    const err = thrown(() => new Client('127.0.0.1:11211', { timeoutMs: 200, maxConnections: 2, poolSize: 100 } as ClientOptions));
    expect(err.message).toMatch(/"poolSize"/);
  });

  it('every option that has a default, plus tls and auth, is a known name', () => {
    // DEFAULTS is where a new option gets its default, so it is known from then on.
    expect(() => client('127.0.0.1:11211', { ...DEFAULTS })).not.toThrow();
    expect(() => client('127.0.0.1:11211', { tls: false, auth: undefined })).not.toThrow();
    for (const name of Object.keys(DEFAULTS)) {
      expect(() => client('127.0.0.1:11211', { [name]: undefined })).not.toThrow();
    }
  });
});

describe('server locations in the forms other clients take, against real servers', () => {
  const servers = useMemcached(2);

  it("memcached://127.0.0.1:<port> is that server: a set lands on it, serverStats names it as host:port", async () => {
    const s = servers[0]!;
    const mc = client(`memcached://127.0.0.1:${s.port}`);
    expect(mc.serverStats().map((x) => x.server)).toEqual([`127.0.0.1:${s.port}`]);
    expect(await mc.set('url-form', 'yes')).toBe(true);
    const plain = client(s.address);
    expect(await plain.get('url-form')).toBe('yes');
  });

  it("'h1:p1,h2:p2' (memjs / MEMCACHIER_SERVERS) is both servers, routed exactly as the array form", async () => {
    const [a, b] = servers as [typeof servers[0], typeof servers[0]];
    const list = client(`127.0.0.1:${a.port}, 127.0.0.1:${b.port}`);
    const array = client([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    expect(list.serverStats().map((x) => x.server)).toEqual([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    const keys = Array.from({ length: 200 }, (_, i) => `comma-${i}`);
    for (const k of keys) expect(await list.set(k, k)).toBe(true);
    // Same ring: every key written through the comma form is found through the array form...
    const got = await array.getMulti(keys);
    expect(got.size).toBe(keys.length);
    // ...and the keys really are spread over both servers.
    const items = await Promise.all([a, b].map(async (s) => Number((await s.stats()).curr_items)));
    expect(items.every((n) => n > 0)).toBe(true);
  });

  it('URLs work inside arrays, weight maps, addServer and removeServer', async () => {
    const [a, b] = servers as [typeof servers[0], typeof servers[0]];
    const mc = client({ [`memcached://127.0.0.1:${a.port}`]: 1 });
    expect(mc.serverStats().map((x) => x.server)).toEqual([`127.0.0.1:${a.port}`]);
    mc.addServer(`memcached://127.0.0.1:${b.port}/`);
    expect(mc.serverStats().map((x) => x.server)).toEqual([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    await mc.removeServer(`memcached://127.0.0.1:${a.port}`);
    expect(mc.serverStats().map((x) => x.server)).toEqual([`127.0.0.1:${b.port}`]);
    expect(await mc.set('after-remove', 1)).toBe(true);
    const arr = client([`memcached://127.0.0.1:${b.port}`]);
    expect(await arr.get('after-remove')).toBe(1);
  });
});

describe('malformed locations throw at construction', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['a URL with another scheme', 'redis://127.0.0.1:6379', /scheme other than memcached:\/\//],
    ['a URL with credentials', 'memcached://user:secret@127.0.0.1:11211', /credentials: pass them as the auth option/],
    ['a URL with a path', 'memcached://127.0.0.1:11211/db', /path, query or fragment/],
    ['a URL with a query', 'memcached://127.0.0.1:11211?x=1', /path, query or fragment/],
    ['a URL with a bad port', 'memcached://127.0.0.1:99999', /not (a valid|host)/],
    ['an empty entry in a comma list', '127.0.0.1:11211,,127.0.0.2:11211', /empty entry at position 2/],
    ['a trailing comma', '127.0.0.1:11211,', /empty entry at position 2/],
    ['the same server twice in a comma list', '127.0.0.1:11211,memcached://127.0.0.1:11211', /lists a server twice/],
    ['two colons (not IPv6)', '127.0.0.1::11211', /IPv6 address with a port as \[address\]:port/],
    ['an IPv6 address with a port but no brackets', '::1:11211', /\[address\]:port/],
    ['brackets around something that is not IPv6', '[cache-1]:11211', /not an IPv6 address/],
    ['a space in the host', 'cache 1:11211', /not a host name/],
    ['a slash in the host', '/tmp/memcached.sock', /not a host name/],
    ['an empty port', '127.0.0.1:', /port must be a number from 1 to 65535/],
    ['a port in exponent form', '127.0.0.1:1e4', /port must be a number/],
    ['an array entry with two servers glued by a space', ['127.0.0.1:11211 127.0.0.2:11211'], /not host\[:port\]/],
  ];
  for (const [name, servers, message] of bad) {
    it(`${name}: ${JSON.stringify(servers)}`, () => {
      const err = thrown(() => new Client(servers as string));
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect(err.message).toMatch(message);
    });
  }

  it('addServer refuses a malformed location the same way, and the ring is unchanged', () => {
    const mc = client('127.0.0.1:11211');
    expect(thrown(() => mc.addServer('memcached://127.0.0.1:11212/x'))).toBeInstanceOf(InvalidOptionError);
    expect(thrown(() => mc.addServer('127.0.0.1:11212,127.0.0.1:11213'))).toBeInstanceOf(InvalidOptionError);
    expect(mc.serverStats().map((x) => x.server)).toEqual(['127.0.0.1:11211']);
  });

  it('the plain forms stay accepted: host, host:port, [v6]:port, bare IPv6, host names with dots, dashes and underscores', () => {
    const mc = client(['cache-a', 'cache_b.internal:11299', '10.0.0.1:11211', '[::1]:11311', '::1', 'fe80::1']);
    expect(mc.serverStats().map((x) => x.server)).toEqual([
      'cache-a:11211', 'cache_b.internal:11299', '10.0.0.1:11211', '[::1]:11311', '[::1]:11211', '[fe80::1]:11211',
    ]);
  });
});

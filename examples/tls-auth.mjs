#!/usr/bin/env node
// TLS and authentication: every byte over TLS, verified against your CA, with memcached's ASCII
// authentication (a server started with `-Y <authfile>`) sent first on every new socket.
//
//   MEMCLUSTER_SERVERS=127.0.0.1:11211       servers started with -Z (TLS) and -Y (auth file)
//   MEMCLUSTER_TLS_CA=/path/to/ca.pem         the CA that signed the servers' certificates
//   MEMCLUSTER_USER=app MEMCLUSTER_PASSWORD=secret
//   node examples/tls-auth.mjs
//
// A server for it (memcached built with TLS, as Debian's is):
//   printf 'app:secret\n' > authfile
//   memcached -Z -o ssl_chain_cert=server.crt,ssl_key=server.key -Y authfile -l 127.0.0.1 -p 11211
// The server certificate must name the address you connect to (here a SAN of IP:127.0.0.1).
import { readFileSync } from 'node:fs';
import { Client, MemclusterError } from 'memcluster';

const { MEMCLUSTER_SERVERS, MEMCLUSTER_TLS_CA, MEMCLUSTER_USER, MEMCLUSTER_PASSWORD } = process.env;
if (!MEMCLUSTER_SERVERS || !MEMCLUSTER_TLS_CA || !MEMCLUSTER_USER || !MEMCLUSTER_PASSWORD) {
  console.log('tls-auth example: not configured, nothing to do.');
  console.log('Set MEMCLUSTER_SERVERS, MEMCLUSTER_TLS_CA, MEMCLUSTER_USER and MEMCLUSTER_PASSWORD (see the comment at the top');
  console.log('of examples/tls-auth.mjs for a matching memcached command line), then run it again.');
  process.exit(0);
}

const servers = MEMCLUSTER_SERVERS.split(',').map((s) => s.trim()).filter(Boolean);
const tls = {
  ca: readFileSync(MEMCLUSTER_TLS_CA), // trust this CA (instead of, not on top of, the system's)
  // servername: 'cache.internal',     // when the certificate names a host, not the address you dial
  minVersion: 'TLSv1.2',
};
const auth = { username: MEMCLUSTER_USER, password: MEMCLUSTER_PASSWORD };

const client = new Client(servers, { tls, auth, timeoutMs: 1000 });
console.log(`servers: ${servers.join(', ')} (TLS with the CA in ${MEMCLUSTER_TLS_CA}, user ${auth.username})`);

let ok = true;
const key = `tls-auth:${Date.now().toString(36)}`;
const stored = await client.set(key, { secret: 'only over TLS' }, { ttl: 60 });
const value = await client.get(key);
console.log(`set ${key} -> ${stored}; get -> ${JSON.stringify(value)}`);
ok &&= stored === true && value?.secret === 'only over TLS';
for (const [server, version] of await client.version()) console.log(`  ${server} answered VERSION ${version} over TLS`);
await client.delete(key);
await client.close();

// Failures are typed and name the server; none of them prints the password.
async function expectFailure(label, options) {
  const c = new Client(servers, { timeoutMs: 1000, failureThreshold: 100, ...options });
  try {
    await c.get('anything');
    console.log(`${label}: unexpectedly worked`);
    return false;
  } catch (err) {
    if (!(err instanceof MemclusterError)) throw err;
    console.log(`${label}: ${err.constructor.name} code=${err.code} server=${err.server}`);
    console.log(`    ${err.message}`);
    return !err.message.includes(MEMCLUSTER_PASSWORD);
  } finally {
    await c.close();
  }
}
ok &&= await expectFailure('wrong password', { tls, auth: { ...auth, password: `${auth.password}-wrong` } });
ok &&= await expectFailure('CA not trusted (system CAs only)', { tls: true, auth });

console.log(ok ? 'tls-auth example: ok' : 'tls-auth example: FAILED');
process.exit(ok ? 0 : 1);

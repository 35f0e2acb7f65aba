/**
 * memcached ASCII authentication (`-Y <authfile>`, lines `user:password`) against a real server.
 * Credentials go first on every new connection, before the validation request; refused
 * credentials give an `AuthenticationError` (MC_ERR_AUTH) naming the server and no reconnect storm;
 * and the password never reaches a log line, an error message or an inspected error, even with
 * `DEBUG=memcluster:*` (checked in a child process running the built package).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import util from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, Client, MemclusterError, ServerUnavailableError } from '../../src/index.js';
import { rawCommand } from '../support/memcached.js';
import { authPreamble, CountingProxy, hammer, SecureMemcached } from './support.js';
import { builtPackage } from '../support/build.js';
import { expectWithinPromise } from '../support/timing.js';

const USER = 'alice';
const PASSWORD = `pw-${randomBytes(9).toString('hex')}`;
const WRONG = `wrong-${randomBytes(9).toString('hex')}`;
const MAX_ATTEMPTS_PER_SECOND = 20;

/** Every form in which a password could leak into text. */
function leaks(text: string, secret: string): string[] {
  const forms = [secret, Buffer.from(secret).toString('hex'), Buffer.from(secret).toString('base64'), JSON.stringify(secret).slice(1, -1)];
  return forms.filter((f) => text.includes(f));
}

/** The caller's error, or the one a `ServerUnavailableError` wraps. */
function authCause(err: unknown): AuthenticationError {
  let e = err;
  if (e instanceof ServerUnavailableError) e = e.cause;
  expect(e, `expected an AuthenticationError, got ${String(err)}`).toBeInstanceOf(AuthenticationError);
  return e as AuthenticationError;
}

let dir: string;
let server: SecureMemcached;
let buildDir: string;

/** Runs `source` as an ES module in a child node process; resolves with its exit code and output. */
async function runChild(source: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = path.join(dir, `child-${randomBytes(4).toString('hex')}.mjs`);
  await writeFile(script, source);
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, MEMCLUSTER_ENTRY: pathToFileURL(path.join(buildDir, 'index.js')).href, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'memcluster-auth-'));
  const authfile = path.join(dir, 'authfile');
  await writeFile(authfile, `${USER}:${PASSWORD}\nbob:other-password\n`, { mode: 0o600 });
  server = await SecureMemcached.start({ args: ['-Y', authfile], auth: { username: USER, password: PASSWORD } });
});
afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('memcached ASCII auth (-Y), read with a raw socket', () => {
  it('answers STORED to good credentials, "CLIENT_ERROR authentication failure" to bad ones, "CLIENT_ERROR unauthenticated" to anything else first', async () => {
    expect(await rawCommand(server.port, `${authPreamble(USER, PASSWORD)}version\r\n`, { replies: 2 })).toMatch(/^STORED\r\nVERSION \S+\r\n$/);
    expect(await rawCommand(server.port, authPreamble(USER, WRONG))).toBe('CLIENT_ERROR authentication failure\r\n');
    expect(await rawCommand(server.port, authPreamble('mallory', PASSWORD))).toBe('CLIENT_ERROR authentication failure\r\n');
    expect(await rawCommand(server.port, 'version\r\n')).toBe('CLIENT_ERROR unauthenticated\r\n');
    expect(await rawCommand(server.port, 'mn\r\n')).toBe('CLIENT_ERROR unauthenticated\r\n');
  });

  it('drops replies pipelined around the auth set: a client must wait for each auth reply', async () => {
    // Three requests, two replies: the CLIENT_ERROR for the early `version` is lost.
    expect(await rawCommand(server.port, `version\r\n${authPreamble(USER, PASSWORD)}version\r\n`, { replies: 2 })).toMatch(/^STORED\r\nVERSION \S+\r\n$/);
    // Two requests, one reply: a wrong password followed by a command gets only one error line.
    const raw = await rawCommand(server.port, `${authPreamble(USER, WRONG)}version\r\n`, { replies: 2, timeoutMs: 300 }).catch((e: { received?: string }) => e.received ?? '');
    expect(raw.match(/\r\n/g)?.length ?? 0).toBe(1);
  });
});

describe('the client with memcached -Y', () => {
  it('good credentials: commands work, and every new socket sends the credentials first, then the validation request', async () => {
    const proxy = await new CountingProxy(server.port).listen();
    const before = await server.stats();
    const client = new Client([proxy.address], { auth: { username: USER, password: PASSWORD }, maxConnections: 4, maxPipeline: 1 });
    try {
      expect(await client.set('auth:k', 'v')).toBe(true);
      expect(await client.get('auth:k')).toBe('v');
      // Enough concurrent work to open several sockets.
      const many = await Promise.all(Array.from({ length: 40 }, (_, i) => client.set(`auth:${i}`, i)));
      expect(many.every(Boolean)).toBe(true);
      expect(await client.getMulti(['auth:k', 'auth:1'])).toEqual(new Map<string, unknown>([['auth:k', 'v'], ['auth:1', 1]]));
      expect(proxy.accepted).toBeGreaterThan(1);
      // Every socket first asks `version`: a -Y server answers CLIENT_ERROR unauthenticated (and only
      // then are credentials sent, so a server without -Y never receives them), then the credentials,
      // then the validation request.
      const preamble = authPreamble(USER, PASSWORD);
      for (const text of proxy.texts()) {
        expect(text.startsWith(`version\r\n${preamble}`), `socket began with ${JSON.stringify(text.slice(0, 40))}`).toBe(true);
        expect(text.slice(`version\r\n${preamble}`.length), 'validation right after auth').toMatch(/^(version|mn)\r\n/);
      }
      // Nothing is pipelined: the credentials wait for the refusal of `version`, and validation waits
      // for STORED (memcached -Y drops replies pipelined behind an auth set, see the raw-socket test).
      for (const flow of proxy.flows) {
        const replies = flow.filter((e) => e.dir === 's2c').map((e) => e.data.toString('latin1')).join('');
        expect(replies.startsWith('CLIENT_ERROR unauthenticated\r\nSTORED\r\n'), JSON.stringify(replies.slice(0, 60))).toBe(true);
        const firstReply = flow.findIndex((e) => e.dir === 's2c');
        expect(Buffer.concat(flow.slice(0, firstReply).filter((e) => e.dir === 'c2s').map((e) => e.data)).toString('latin1')).toBe('version\r\n');
        const stored = flow.findIndex((e) => e.dir === 's2c' && e.data.toString('latin1').includes('STORED'));
        const beforeStored = Buffer.concat(flow.slice(0, stored).filter((e) => e.dir === 'c2s').map((e) => e.data)).toString('latin1');
        expect(beforeStored).toBe(`version\r\n${preamble}`);
      }
      const after = await server.stats();
      expect(Number(after.auth_errors) - Number(before.auth_errors)).toBe(0);
      // One auth per client socket (+1 for the stats socket that authenticated to read this).
      expect(Number(after.auth_cmds) - Number(before.auth_cmds)).toBe(proxy.accepted + 1);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  for (const [label, username, password] of [['a wrong password', USER, WRONG], ['an unknown user', 'mallory', WRONG]] as const) {
    it(`${label}: AuthenticationError (MC_ERR_AUTH) naming the server, no reconnect storm, no password anywhere`, async () => {
      const client = new Client([server.address], { auth: { username, password }, timeoutMs: 500 });
      try {
        const before = await server.clientConnections();
        const started = Date.now();
        const first = await client.get('k').then(() => expect.fail('resolved'), (e: unknown) => e);
        // The real reason (AuthenticationError, not TimeoutError), within the call's timeout.
        expectWithinPromise(Date.now() - started, 500, 'the first call fails with the real reason within timeoutMs');
        expect(first).toBeInstanceOf(AuthenticationError);
        expect((first as AuthenticationError).code).toBe('MC_ERR_AUTH');
        expect((first as AuthenticationError).server).toBe(server.address);
        expect((first as Error).message).toContain(server.address);
        expect((first as Error).message).toMatch(/refused the credentials/);

        const t0 = Date.now();
        const r = await hammer(1000, () => client.set('k', 1), 2);
        const seconds = (Date.now() - t0) / 1000;
        const attempts = (await server.clientConnections()) - before;
        console.log(`[security/auth] ${label}: ${r.calls} calls in ${seconds.toFixed(1)} s made ${attempts} connection attempts`);
        expect(r.resolved).toBe(0);
        // Failed calls do not each open a connection: attempts are paced by the backoff, not the caller.
        expect(attempts, `${attempts} connection attempts for ${r.calls} calls`).toBeLessThan(r.calls);
        for (const err of [first, ...r.errors]) {
          expect(authCause(err).server).toBe(server.address);
          const shown = `${String(err)}\n${util.inspect(err, { depth: 10, showHidden: true })}\n${JSON.stringify(err)}`;
          expect(leaks(shown, password)).toEqual([]);
        }
        expect(attempts / seconds).toBeLessThan(MAX_ATTEMPTS_PER_SECOND);
      } finally {
        await client.close();
      }
    });
  }

  it('no credentials against a server that requires them: AuthenticationError saying so, attempts paced', async () => {
    const client = new Client([server.address], { timeoutMs: 500 });
    try {
      const before = await server.clientConnections();
      const first = await client.get('k').then(() => expect.fail('resolved'), (e: unknown) => e);
      expect(first).toBeInstanceOf(AuthenticationError);
      expect((first as Error).message).toMatch(/requires authentication/);
      expect((first as MemclusterError).server).toBe(server.address);
      const t0 = Date.now();
      const r = await hammer(1000, () => client.get('k'), 2);
      const seconds = (Date.now() - t0) / 1000;
      for (const err of r.errors) {
        // Once the server is marked down, the cause is the last probe's error: the health probe
        // validates on its own socket, so it reports "CLIENT_ERROR unauthenticated" as it came.
        expect(err).toBeInstanceOf(MemclusterError);
        expect((err as MemclusterError).server).toBe(server.address);
        expect((err as Error).message).toMatch(/requires authentication|CLIENT_ERROR unauthenticated/);
      }
      expect(((await server.clientConnections()) - before) / seconds).toBeLessThan(MAX_ATTEMPTS_PER_SECOND);
    } finally {
      await client.close();
    }
  });
});

describe('credentials and a server that does not ask for them', () => {
  // ASCII auth is a `set` whose data is "<user> <password>". A memcached without -Y (misconfigured,
  // restarted without it, a new node) would take `set _ ...` as an ordinary set and serve the
  // password to anyone who sends `get _`. The client's auth key is over 250 bytes: the -Y handler
  // ignores it, a plain server refuses the line. The client reports that as an AuthenticationError.
  let plain: SecureMemcached;
  beforeAll(async () => {
    plain = await SecureMemcached.start({ args: [] });
  });
  afterAll(async () => {
    await plain?.stop();
  });

  it('the password is not left on a server that does not require auth, and the caller hears why', async () => {
    const client = new Client([plain.address], { auth: { username: USER, password: PASSWORD } });
    let err: unknown;
    try {
      err = await client.set('k', 'v').then(() => undefined, (e: unknown) => e);
    } finally {
      await client.close();
    }
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).message).toMatch(/does not use ASCII authentication/);
    const stats = await plain.stats();
    expect(Number(stats.curr_items)).toBe(0);
    const leaked = await rawCommand(plain.port, 'get _\r\n');
    expect(leaks(leaked, PASSWORD)).toEqual([]);
  });
});

describe('DEBUG=memcluster:* never logs the password (built package, child process)', () => {

  beforeAll(() => {
    // The package as `npm run build` builds it: the run's shared build (test/support/build.ts), a
    // private folder, so concurrent work on dist/ is neither clobbered nor read half-written.
    // Dependencies resolve from ./node_modules.
    buildDir = builtPackage().dist;
  });

  it('refused and accepted credentials both log useful lines naming the server, and never the password', async () => {
    const { code, stdout, stderr } = await runChild(`
      import util from 'node:util';
      const { Client } = await import(process.env.MEMCLUSTER_ENTRY);
      const [server, user, good, bad] = JSON.parse(process.env.CHILD_ARGS);
      const refused = new Client([server], { auth: { username: user, password: bad }, timeoutMs: 500 });
      for (let i = 0; i < 4; i++) {
        try { await refused.get('k'); console.log('UNEXPECTED resolve'); }
        catch (e) { console.log('ERR', e.name, e.code, e.message); console.log(util.inspect(e, { depth: 10 })); }
      }
      const guard = new Promise((r) => setTimeout(r, 3000));
      await Promise.race([refused.close(), guard]);
      const ok = new Client([server], { auth: { username: user, password: good } });
      console.log('SET', await ok.set('debug:k', 'v'));
      console.log('GET', await ok.get('debug:k'));
      await ok.close();
      process.exit(0);
    `, { DEBUG: 'memcluster:*', DEBUG_COLORS: 'no', CHILD_ARGS: JSON.stringify([server.address, USER, PASSWORD, WRONG]) });
    expect(code, `child failed:\n${stderr.slice(-2000)}`).toBe(0);

    expect(stdout).toContain('ERR AuthenticationError MC_ERR_AUTH');
    expect(stdout).toContain('SET true');
    expect(stdout).toContain('GET v');
    // Useful debug output: the server, the connection, and why it failed.
    const lines = stderr.split('\n').filter((l) => l.includes('memcluster:'));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.some((l) => l.includes(server.address) && /authentication failed/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes(server.address) && /connected/.test(l))).toBe(true);
    // ... and no password, in any encoding, on either stream.
    expect(leaks(stderr, PASSWORD)).toEqual([]);
    expect(leaks(stderr, WRONG)).toEqual([]);
    expect(leaks(stdout, PASSWORD)).toEqual([]);
    expect(leaks(stdout, WRONG)).toEqual([]);
  });

  // close() with a create() still in flight (refused credentials leave one while a borrow waits)
  // must still return in a process with nothing else to do (a CLI, a script, a job that ends).
  it('`await client.close()` returns after refused credentials, in a process with nothing else to do', async () => {
    // Three children at once: the hang depends on a create being in flight at close(), which is
    // near certain but timing-dependent on a loaded machine; every child must print CLOSED.
    const runs = await Promise.all([0, 1, 2].map(() => runChild(`
      const { Client } = await import(process.env.MEMCLUSTER_ENTRY);
      const [server, user, bad] = JSON.parse(process.env.CHILD_ARGS);
      const client = new Client([server], { auth: { username: user, password: bad }, timeoutMs: 2000 });
      await client.get('k').catch(() => {});
      await client.close();
      console.log('CLOSED');
    `, { CHILD_ARGS: JSON.stringify([server.address, USER, WRONG]) })));
    for (const { code, stdout } of runs) {
      expect(stdout).toContain('CLOSED');
      expect(code).toBe(0);
    }
  });
});

/**
 * Shared tools of the failure-mode suite: bounded settling of every request (a hang fails the
 * test), event recording, key-to-server maps read from the servers themselves, and raw reads that
 * do not go through the client under test.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect } from 'vitest';
import { Client, MemclusterError, type ClientOptions } from '../../src/index.js';
import type { ClientEvents } from '../../src/index.js';
import { LOOPBACK } from '../support/memcached.js';
import { expectWithinPromise, SLACK_MS } from '../support/timing.js';

export { sleep };

/** Monotonic ms. */
export const now = (): number => performance.now();

/**
 * Short bounds for every failure test: requests settle within `timeoutMs`, a down server is
 * probed again within ~0.5 s, and three consecutive failures mark it down.
 */
export const FAST: ClientOptions = {
  timeoutMs: 400,
  connectTimeoutMs: 300,
  validateTimeoutMs: 250,
  failureThreshold: 3,
  retryDelayMs: 50,
  maxRetryDelayMs: 500,
};

/** How a request settled, and how long it took. */
export interface Outcome<T> {
  ok: boolean;
  value?: T;
  error?: unknown;
  ms: number;
  /**
   * Settled before the event loop reached I/O or timers (a `setImmediate` queued at the call had
   * not run yet): the request was answered without a socket, a timer or a wait, i.e. "at once".
   * Load cannot change it, unlike a measured duration.
   */
  atOnce: boolean;
}

/** A request that did not settle within its bound: the guarantee under test is broken. */
export class HangError extends Error {
  override name = 'HangError';
}

/**
 * Awaits `p`, but never longer than `boundMs` plus the shared `SLACK_MS` of test/support/timing.ts:
 * a request still pending then is a hang, and the returned promise rejects with `HangError`
 * (failing the test that awaits it). To assert a promised duration, pass `o.ms` to
 * `expectWithinPromise`.
 */
export async function settle<T>(p: Promise<T>, boundMs: number, label = 'request'): Promise<Outcome<T>> {
  const start = now();
  const bound = boundMs + SLACK_MS;
  let turned = false;
  const immediate = setImmediate(() => { turned = true; });
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HangError(`${label} did not settle within ${boundMs} ms (+${SLACK_MS} ms slack)`)), bound);
  });
  try {
    return await Promise.race([
      p.then(
        (value) => ({ ok: true, value, ms: now() - start, atOnce: !turned }),
        (error: unknown) => ({ ok: false, error, ms: now() - start, atOnce: !turned }),
      ),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
    clearImmediate(immediate);
    p.catch(() => {}); // a late rejection must not become an unhandled one
  }
}

/** Asserts that a request settled within `timeoutMs` (its promise), through the shared slack helper. */
export function expectWithin(o: Outcome<unknown>, timeoutMs: number, what = 'request'): void {
  expectWithinPromise(o.ms, timeoutMs, `${what} settles within ${timeoutMs} ms (${o.ok ? 'ok' : describeError(o.error)})`);
}

/** Asserts that every outcome settled at once (see `Outcome.atOnce`), listing the ones that did not. */
export function expectAllAtOnce(outcomes: ReadonlyArray<Outcome<unknown>>, what: string): void {
  const late = outcomes.filter((o) => !o.atOnce).map((o) => `${o.ms.toFixed(1)} ms ${o.ok ? 'ok' : describeError(o.error)}`);
  expect(late, `${what}: ${late.length} of ${outcomes.length} waited for I/O or a timer`).toEqual([]);
}

/** Asserts a typed, server-naming memcluster error. */
export function expectMcError(err: unknown, cls: abstract new (...a: never[]) => MemclusterError, code: string, server: string | undefined): void {
  expect(err, `expected ${cls.name}, got ${String(err)}`).toBeInstanceOf(cls);
  const e = err as MemclusterError;
  expect(e.code).toBe(code);
  expect(e.server).toBe(server);
}

/** Describes an error for assertion messages. */
export function describeError(err: unknown): string {
  if (err instanceof MemclusterError) return `${err.name}(${err.code}) server=${err.server}: ${err.message}`;
  return String(err);
}

type EventName = 'serverDown' | 'serverUp' | 'connectionEvicted';
/** One recorded client event, with the time it arrived. */
export interface Recorded {
  name: EventName;
  at: number;
  server: string;
  payload: ClientEvents[EventName][0];
}

/** Records `serverDown`, `serverUp` and `connectionEvicted` from the moment it is called. */
export function recordEvents(client: Client): Recorded[] {
  const events: Recorded[] = [];
  for (const name of ['serverDown', 'serverUp', 'connectionEvicted'] as const) {
    client.on(name, (payload: ClientEvents[typeof name][0]) => events.push({ name, at: now(), server: payload.server, payload }));
  }
  return events;
}

/**
 * Polls `cond` every 10 ms; rejects (failing the test) when it is still falsy after `timeoutMs`
 * plus the shared `SLACK_MS` (like `eventually` of test/support/timing.ts, but returns the value).
 */
export async function waitFor<T>(cond: () => T | undefined | false | null, timeoutMs: number, what: string): Promise<T> {
  const deadline = now() + timeoutMs + SLACK_MS;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms (+${SLACK_MS} ms slack) waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * `get` for many keys on one fresh raw socket, bypassing the client under test: the data bytes of
 * each key the server holds (as latin1 text).
 */
export function rawGetMulti(port: number, keys: readonly string[], host = LOOPBACK, timeoutMs = 3000): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const out = new Map<string, string>();
    let batches = 0;
    const timer = setTimeout(() => done(new Error(`raw get on ${host}:${port} timed out`)), timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(out);
    };
    sock.on('error', (e) => done(e));
    sock.on('connect', () => {
      for (let i = 0; i < keys.length; i += 200) {
        batches++;
        sock.write(`get ${keys.slice(i, i + 200).join(' ')}\r\n`);
      }
      if (batches === 0) done();
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.toString('latin1', 0, eol);
        if (line === 'END') {
          buf = buf.subarray(eol + 2);
          if (--batches === 0) return done();
          continue;
        }
        const m = /^VALUE (\S+) \d+ (\d+)/.exec(line);
        if (!m) return done(new Error(`unexpected raw reply line ${JSON.stringify(line)}`));
        const len = Number(m[2]);
        if (buf.length < eol + 2 + len + 2) return;
        out.set(m[1]!, buf.toString('latin1', eol + 2, eol + 2 + len));
        buf = buf.subarray(eol + 2 + len + 2);
      }
    });
  });
}

/** Something with a loopback port and a `host:port` address (a MemcachedServer fits). */
export interface Addressed {
  readonly address: string;
  readonly port: number;
  readonly host?: string;
}

/**
 * Writes `keys` through the client, then asks every server directly which keys it holds. Each key
 * must be on exactly one server. The map is server address -> its keys.
 */
export async function ownersOf(client: Client, servers: readonly Addressed[], keys: readonly string[]): Promise<Map<string, string[]>> {
  // A precondition, not the behaviour under test: its own time on a cold client on a busy machine.
  const written = await client.setMulti(keys.map((k) => [k, `v-${k}`] as const), { timeoutMs: 5000 });
  expect([...written.values()].every(Boolean)).toBe(true);
  const byServer = new Map<string, string[]>(servers.map((s) => [s.address, []]));
  const seen = new Map<string, string>();
  for (const s of servers) {
    const held = await rawGetMulti(s.port, keys, s.host ?? LOOPBACK);
    for (const k of held.keys()) {
      expect(seen.get(k), `key ${k} held by two servers`).toBeUndefined();
      seen.set(k, s.address);
      byServer.get(s.address)!.push(k);
    }
  }
  expect(seen.size, 'every key written is held by exactly one server').toBe(keys.length);
  return byServer;
}

/** `n` keys with a prefix unique to the calling test. */
export function keys(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}:${i}`);
}

/** `node:timers/promises` setImmediate: lets I/O and timers run between loop iterations. */
export function yieldToLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * Closes a client, failing the test when `close()` does not settle within `boundMs` (it must:
 * in-flight requests and pending borrows are bounded by `timeoutMs`, and nothing else may keep it
 * waiting). Pass `timeoutMs + 2000` for clients with a longer timeout than {@link FAST}.
 */
export async function closeWithin(client: Client | undefined, boundMs = FAST.timeoutMs! + 2000): Promise<void> {
  if (!client) return;
  const o = await settle(client.close(), boundMs, 'Client#close()');
  if (!o.ok) throw o.error;
}

/** Cleanup around the clients of {@link useClients}. */
export interface ClientsCleanup {
  /** Runs before the clients are closed, e.g. SIGCONT to stopped servers. */
  before?: () => void;
  /** Runs after they are closed, even when closing failed, e.g. stopping a fake server. */
  after?: () => Promise<void> | void;
}

/**
 * The clients under test in the calling `describe`: the returned function makes one (options
 * default to {@link FAST}), and an `afterEach` registered here closes every client the test made,
 * each with {@link closeWithin} bounded by its own `timeoutMs` + 2000, so no test leaks one.
 */
export function useClients(cleanup: ClientsCleanup = {}): (addresses: readonly string[], opts?: ClientOptions) => Client {
  const open: Array<{ client: Client; boundMs: number }> = [];
  afterEach(async () => {
    cleanup.before?.();
    try {
      await Promise.all(open.splice(0).map(({ client, boundMs }) => closeWithin(client, boundMs)));
    } finally {
      await cleanup.after?.();
    }
  });
  return (addresses, opts = FAST) => {
    const client = new Client([...addresses], opts);
    open.push({ client, boundMs: (opts.timeoutMs ?? FAST.timeoutMs!) + 2000 });
    return client;
  };
}

/** Opens one raw socket and resolves with it and the first reply line to `version` (a server at its connection limit answers an error line and closes). */
export function openRaw(port: number): Promise<{ sock: net.Socket; line: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: LOOPBACK, port });
    let buf = '';
    const timer = setTimeout(() => reject(new Error('raw socket got no reply')), 2000);
    sock.on('error', () => {});
    sock.on('connect', () => sock.write('version\r\n'));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const eol = buf.indexOf('\r\n');
      if (eol >= 0) {
        clearTimeout(timer);
        resolve({ sock, line: buf.slice(0, eol) });
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ sock, line: buf });
    });
  });
}

/** Opens raw sockets to a server started with a small `-c` until it refuses one; the open ones go into `held`. */
export async function fillConnections(port: number, held: net.Socket[], max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    const { sock, line } = await openRaw(port);
    if (!line.startsWith('VERSION ')) {
      sock.destroy();
      return;
    }
    held.push(sock);
  }
}

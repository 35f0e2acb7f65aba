/**
 * Raw-socket tools of the multi-get suite: they talk to memcached directly, never through the
 * client under test, so what they report about the servers can be trusted.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { MemclusterError, type Client } from '../../src/index.js';
import { LOOPBACK, type MemcachedServer } from '../support/memcached.js';
import { SLACK_MS } from '../support/timing.js';

/** Monotonic ms. */
export const now = (): number => performance.now();

/**
 * Awaits `p` but never longer than `ms` plus the shared `SLACK_MS` (test/support/timing.ts): a hang
 * becomes an error that fails the test. A hang guard, not a speed check.
 */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (+${SLACK_MS} ms slack)`)), ms + SLACK_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    p.catch(() => {});
  }
}

/** The rejection of `p` (fails when `p` resolves). */
export function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => { throw new Error(`expected a rejection, got a value (${v instanceof Map ? `Map of ${v.size}` : typeof v})`); },
    (err: unknown) => err,
  );
}

/** Describes an error for assertion messages. */
export function describeError(err: unknown): string {
  if (err instanceof MemclusterError) return `${err.name}(${err.code}) server=${err.server}: ${err.message}`;
  return String(err);
}

function connect(port: number, host = LOOPBACK): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
    s.setNoDelay(true);
  });
}

/**
 * Reads retrieval replies (VALUE ... END) from `sock`, skipping data blocks by their byte count,
 * until `ends` END lines were seen. Every value's data is handed to `onValue` (as latin1 text).
 * Rejects on any other line, on close, or after `timeoutMs`.
 */
function readRetrievals(sock: net.Socket, ends: number, onValue: (key: string, data: string, rest: string) => void, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let seen = 0;
    const timer = setTimeout(() => finish(new Error(`raw retrieval timed out after ${timeoutMs} ms (${seen}/${ends} END)`)), timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onClose = (): void => finish(new Error(`connection closed after ${seen}/${ends} END`));
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      let pos = 0;
      for (;;) {
        const eol = buf.indexOf('\r\n', pos);
        if (eol < 0) break;
        const line = buf.toString('latin1', pos, eol);
        if (line === 'END') {
          pos = eol + 2;
          if (++seen === ends) {
            buf = buf.subarray(pos);
            return finish();
          }
          continue;
        }
        const m = /^VALUE (\S+) \d+ (\d+)(.*)$/.exec(line);
        if (!m) return finish(new Error(`unexpected raw reply line ${JSON.stringify(line.slice(0, 200))}`));
        const len = Number(m[2]);
        if (buf.length < eol + 2 + len + 2) break;
        onValue(m[1]!, buf.toString('latin1', eol + 2, eol + 2 + len), m[3]!);
        pos = eol + 2 + len + 2;
      }
      buf = buf.subarray(pos);
    };
    sock.on('data', onData);
    sock.on('close', onClose);
  });
}

/** `get` of many keys over one fresh raw socket, in lines of `perLine` keys: key -> data. */
export async function rawGetMulti(server: { port: number }, keys: readonly string[], perLine = 100, timeoutMs = 10_000): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (keys.length === 0) return out;
  const sock = await connect(server.port);
  try {
    const lines = Math.ceil(keys.length / perLine);
    const done = readRetrievals(sock, lines, (k, d) => out.set(k, d), timeoutMs);
    for (let i = 0; i < keys.length; i += perLine) sock.write(`get ${keys.slice(i, i + perLine).join(' ')}\r\n`);
    await done;
    return out;
  } finally {
    sock.destroy();
  }
}

/**
 * ONE unbounded `get k1 k2 ... kN` line over a fresh raw socket, streamed in 64 KB writes that
 * respect back-pressure, read until its END. This is what a client without batch caps sends.
 * Resolves with the number of VALUEs received.
 */
export async function unboundedGet(server: { port: number }, keys: readonly string[], timeoutMs = 20_000): Promise<number> {
  const sock = await connect(server.port);
  try {
    let values = 0;
    const done = readRetrievals(sock, 1, () => void values++, timeoutMs);
    const line = Buffer.from(`get ${keys.join(' ')}\r\n`, 'latin1');
    for (let i = 0; i < line.length; i += 65536) {
      if (!sock.write(line.subarray(i, i + 65536))) await new Promise<void>((r) => sock.once('drain', () => r()));
    }
    await done;
    return values;
  } finally {
    sock.destroy();
  }
}

/**
 * Pipelined raw `set`s over one fresh socket (string values, flags 0, the given exptime), written
 * in slices while replies are read, so neither side blocks. Every reply must be `STORED`.
 */
export async function rawSetMany(server: { port: number }, entries: ReadonlyArray<readonly [string, string]>, exptime = 0, timeoutMs = 20_000): Promise<void> {
  if (entries.length === 0) return;
  const sock = await connect(server.port);
  try {
    const stored = new Promise<void>((resolve, reject) => {
      let count = 0;
      let tail = '';
      const timer = setTimeout(() => reject(new Error(`raw sets timed out (${count}/${entries.length} STORED)`)), timeoutMs);
      sock.on('data', (chunk: Buffer) => {
        const text = tail + chunk.toString('latin1');
        const lines = text.split('\r\n');
        tail = lines.pop()!;
        for (const l of lines) {
          if (l !== 'STORED') {
            clearTimeout(timer);
            return reject(new Error(`raw set answered ${JSON.stringify(l)}`));
          }
          count++;
        }
        if (count === entries.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      sock.on('close', () => reject(new Error(`closed after ${count}/${entries.length} STORED`)));
    });
    for (let i = 0; i < entries.length; i += 1000) {
      let out = '';
      for (const [k, v] of entries.slice(i, i + 1000)) out += `set ${k} 0 ${exptime} ${Buffer.byteLength(v, 'latin1')}\r\n${v}\r\n`;
      if (!sock.write(Buffer.from(out, 'latin1'))) await new Promise<void>((r) => sock.once('drain', () => r()));
    }
    await stored;
  } finally {
    sock.destroy();
  }
}

/** Meta `mg <key> t` over one raw socket for each key: remaining TTL in seconds (-1: never expires), or undefined on a miss. */
export async function rawTtls(server: { port: number }, keys: readonly string[], timeoutMs = 5000): Promise<Map<string, number | undefined>> {
  const sock = await connect(server.port);
  try {
    const out = new Map<string, number | undefined>();
    const done = new Promise<void>((resolve, reject) => {
      let tail = '';
      let i = 0;
      const timer = setTimeout(() => reject(new Error(`mg timed out (${i}/${keys.length})`)), timeoutMs);
      sock.on('data', (chunk: Buffer) => {
        const lines = (tail + chunk.toString('latin1')).split('\r\n');
        tail = lines.pop()!;
        for (const l of lines) {
          const k = keys[i++]!;
          if (l === 'EN') out.set(k, undefined);
          else {
            const m = /^HD t(-?\d+)$/.exec(l);
            if (!m) {
              clearTimeout(timer);
              return reject(new Error(`mg ${k} answered ${JSON.stringify(l)}`));
            }
            out.set(k, Number(m[1]));
          }
        }
        if (i === keys.length) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    sock.write(keys.map((k) => `mg ${k} t\r\n`).join(''));
    await done;
    return out;
  } finally {
    sock.destroy();
  }
}

/** Numeric `stats` fields of a server. */
export async function numStats(server: MemcachedServer, fields: readonly string[]): Promise<Record<string, number>> {
  const s = await server.stats();
  const out: Record<string, number> = {};
  for (const f of fields) {
    if (!(f in s)) throw new Error(`stats of ${server.address} has no field ${f}`);
    out[f] = Number(s[f]);
  }
  return out;
}

/** memcached 1.6.18's figures for connection read buffers and reply objects (see `stats`). */
export const BUFFER_FIELDS = ['read_buf_count', 'read_buf_bytes', 'read_buf_bytes_free', 'response_obj_count', 'response_obj_bytes'] as const;

/**
 * Which of `servers` holds each key, asked of the servers themselves with raw gets (the keys must
 * have been written). Every key must be held by exactly one server.
 */
export async function ownersOf(servers: readonly MemcachedServer[], keys: readonly string[]): Promise<Map<string, string[]>> {
  const byServer = new Map<string, string[]>(servers.map((s) => [s.address, []]));
  const seen = new Set<string>();
  for (const s of servers) {
    for (const k of (await rawGetMulti(s, keys)).keys()) {
      if (seen.has(k)) throw new Error(`key ${k} is held by two servers`);
      seen.add(k);
      byServer.get(s.address)!.push(k);
    }
  }
  if (seen.size !== keys.length) throw new Error(`only ${seen.size} of ${keys.length} keys are held by any server`);
  return byServer;
}

/** Closes a client, failing the test if `close()` hangs. */
export async function closeWithin(client: Client | undefined, ms = 5000): Promise<void> {
  if (client) await within(client.close(), ms, 'Client#close()');
}

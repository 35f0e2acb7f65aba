/**
 * Talking to a memcached with raw bytes, independently of the client under test: free loopback
 * ports, and one request on a fresh socket read until its replies are complete (`memcluster/testing`).
 */
import net from 'node:net';

/** The only interface test servers listen on. */
export const LOOPBACK = '127.0.0.1';

/** Options for {@link rawCommand}. */
export interface RawCommandOptions {
  /** Give up after this long (default 2000 ms). */
  timeoutMs?: number;
  /** Resolve after this many complete replies (default 1), for pipelined raw requests. */
  replies?: number;
  /** Custom completion test on everything received so far, replacing `replies`. */
  until?: (received: string) => boolean;
}

/** A raw request that did not get a complete reply: `received` holds what did arrive. */
export class RawCommandError extends Error {
  override name = 'RawCommandError';
  /** The socket error code (e.g. `ECONNREFUSED`, `ECONNRESET`) when `reason` is `'error'`. */
  readonly code: string | undefined;
  constructor(readonly reason: 'timeout' | 'closed' | 'error', readonly received: string, message: string, cause?: Error) {
    super(message, cause && { cause });
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** A loopback port that was free a moment ago; callers must tolerate losing the race for it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Counts complete replies in `buf`. Data blocks are skipped by their byte count, so a value that
 * happens to read `END` or `STORED` cannot end the reply early.
 */
function completeReplies(buf: Buffer): number {
  let pos = 0;
  let done = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return done;
    const line = buf.toString('latin1', pos, eol);
    pos = eol + 2;
    const words = line.split(' ');
    const dataBytes = words[0] === 'VALUE' ? Number(words[3]) : words[0] === 'VA' ? Number(words[1]) : -1;
    if (dataBytes >= 0) {
      if (buf.length < pos + dataBytes + 2) return done;
      pos += dataBytes + 2;
      if (words[0] === 'VA') done++;
      continue;
    }
    if (words[0] === 'STAT' || words[0] === 'ITEM') continue;
    done++;
  }
}

/**
 * Sends `raw` verbatim on a fresh socket and resolves with the reply text. Rejects with a
 * {@link RawCommandError} on timeout, on a close before the reply is complete, or on a socket error.
 */
export function rawCommand(port: number, raw: string, opts: RawCommandOptions = {}, host = LOOPBACK): Promise<string> {
  const { timeoutMs = 2000, replies = 1, until } = opts;
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const sock = net.connect({ host, port });
    const finish = (err?: RawCommandError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(received.toString('utf8'));
    };
    const text = (): string => received.toString('utf8');
    const where = `${host}:${port}`;
    const timer = setTimeout(() => finish(new RawCommandError('timeout', text(), `${where}: no complete reply in ${timeoutMs} ms`)), timeoutMs);
    sock.setNoDelay(true);
    sock.on('connect', () => sock.write(raw));
    sock.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (until ? until(text()) : completeReplies(received) >= replies) finish();
    });
    sock.on('error', (e) => finish(new RawCommandError('error', text(), `${where}: ${e.message}`, e)));
    sock.on('close', () => finish(new RawCommandError('closed', text(), `${where}: closed before a complete reply`)));
  });
}

/** Parses `STAT name value` lines. */
export function parseStats(reply: string): Record<string, string> {
  return Object.fromEntries([...reply.matchAll(/^STAT (\S+) ([^\r\n]*)/gm)].map((m) => [m[1]!, m[2]!]));
}

import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import createDebug from 'debug';
import {
  AuthenticationError, ClientErrorReply, ConnectionError, ConnectTimeoutError, MemclusterError, ReplyTooLargeError, ServerErrorReply,
  TimeoutError, TooManyConnectionsError, ValidationFailedError,
} from '../errors.js';
import { serverText } from '../text.js';
import { encodeAuth, encodeMn, encodeVersion } from '../protocol/encoder.js';
import { ReplyParser } from '../protocol/parser.js';
import type { Reply, ReplyKind, Wire } from '../protocol/types.js';
import { Deque } from './deque.js';
import { connectTrace, isTraced, targetOf, traceAsync } from '../tracing.js';

const log = createDebug('memcluster:conn');

/** How a connection reaches its server and what it tolerates. */
export interface ConnectionOptions {
  host: string;
  port: number;
  /** `host:port` label used on every error and log line. */
  server: string;
  connectTimeoutMs: number;
  /** Largest value a reply may claim; a larger `VALUE` length is treated as forged. */
  maxValueBytes: number;
  /** TLS options; when set, every byte goes over TLS. */
  tls?: tls.ConnectionOptions | undefined;
  /** ASCII-protocol credentials (memcached `-Y`), sent before anything else. */
  auth?: { username: string; password: string } | undefined;
  /**
   * The server is failing when a socket with requests outstanding has received no byte for this
   * long, measured from when the oldest outstanding request was written (or the last byte arrived,
   * if later). Only then is the socket destroyed and the failure counted against the server; a call
   * whose own deadline passes sooner is abandoned, not its socket. Default: 1000.
   */
  stallTimeoutMs?: number | undefined;
}

/**
 * Node's codes for a server certificate that failed verification (OpenSSL X509 errors, plus the
 * host name check). Retrying cannot fix these: the configuration (CA, servername) must change.
 */
const TLS_CERT_ERRORS: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True when `err` (or its cause) says the server's TLS certificate was not accepted. */
export function isTlsCertificateError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && TLS_CERT_ERRORS.has(code)) return true;
  }
  return false;
}

/** The error for a socket that failed before it was connected; TLS failures say what was refused. */
function connectError(err: NodeJS.ErrnoException, opts: ConnectionOptions): ConnectionError {
  const why = `${err.code ?? 'error'}: ${err.message}`;
  if (opts.tls && err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new ConnectionError(`TLS handshake failed: the server certificate does not match the expected host name (${why})`, { server: opts.server, cause: err });
  }
  if (opts.tls && isTlsCertificateError(err)) {
    return new ConnectionError(`TLS handshake failed: the server certificate could not be verified (${why})`, { server: opts.server, cause: err });
  }
  if (opts.tls && (err.code?.startsWith('ERR_SSL') || err.code === 'ECONNRESET')) {
    return new ConnectionError(`TLS handshake failed (${why})`, { server: opts.server, cause: err });
  }
  return new ConnectionError(`connect failed: ${err.code ?? err.message}`, { server: opts.server, cause: err });
}

/** The light real request that proves a socket is answered by a live memcached. */
export type ValidationCommand = 'mn' | 'version';

/** Checks a reply against its request (e.g. that VALUE keys were asked for); an error means the stream is out of step. */
export type Verify = (reply: Reply) => MemclusterError | undefined;

/** One request to write: its bytes, what its reply must be, its deadline, and who hears the outcome. */
export interface Outgoing {
  /** The request (a string goes out as UTF-8). */
  bytes: Wire;
  kind: ReplyKind;
  /** The call's deadline (monotonic ms): past it the call is rejected and the request abandoned. */
  deadline: number;
  /** For retrievals: the number of keys asked for (a reply with more VALUE blocks is a protocol error). */
  maxValues?: number | undefined;
  /**
   * The keys (as written) the reply's hits must name, in request order: the parser matches them
   * byte for byte and the hits carry these strings (see `ReplyParser#expect`).
   */
  replyKeys?: readonly string[] | undefined;
  /** Runs on the reply, in order, before delivery; an error ends the socket. */
  verify?: Verify | undefined;
  /** The routed key (single-key requests) or keys (coalesced gets) whose call order must hold. */
  key?: string | undefined;
  keys?: readonly string[] | undefined;
  /** A pure read (get, gets, mg): it need not keep call order with other reads, only with writes. */
  read?: boolean | undefined;
  /** Exactly one of these is called, once. */
  resolve(reply: Reply): void;
  reject(err: MemclusterError): void;
}

/** A request written on this socket and not answered yet. */
export interface Pending {
  readonly out: Outgoing;
  /** When the request's bytes left (monotonic ms): the base of the stall check. */
  writtenAt: number;
  /** The call gave up (timed out or was cancelled): its reply is read and discarded in order. */
  abandoned: boolean;
  /** The request carried a data block (see `hasDataBlock`). */
  dataBlock: boolean;
}

/**
 * Reply kinds whose request carries a data block (`set ... <bytes>\r\n<data>`). An error line to one
 * of these may be followed by a second reply for the data block run as a command (memcached answers
 * `CLIENT_ERROR bad data chunk` then `ERROR`), so it leaves the stream out of step.
 */
const hasDataBlock = (kind: ReplyKind, bytes: Wire): boolean => kind === 'store' || kind === 'auth' || (kind === 'meta' && isMetaSet(bytes));

/** A handle on one written request, to give up on it (the reply is then read and discarded). */
export interface RequestHandle {
  /** Rejects the call with `err` now; the socket stays in service. No-op once settled. */
  abandon(err: MemclusterError): void;
}

const UNAUTHENTICATED = 'unauthenticated';
const DEFAULT_STALL_MS = 1000;
/** A tick's Buffer requests up to this size are joined into one buffer before the write; larger ones go as a writev. */
const MAX_JOIN_BYTES = 64 * 1024;

/** Whether a request is a meta set (`ms ...`), which carries a data block like the text stores. */
function isMetaSet(bytes: Wire): boolean {
  return typeof bytes === 'string'
    ? bytes.charCodeAt(0) === 0x6d && bytes.charCodeAt(1) === 0x73 && bytes.charCodeAt(2) === 0x20
    : bytes[0] === 0x6d && bytes[1] === 0x73 && bytes[2] === 0x20;
}
const KEY_BUCKETS = 8192;

/** A cheap hash of a key into KEY_BUCKETS (its length and last 12 characters: keys differ at the end). */
function bucketOf(key: string): number {
  let h = key.length;
  for (let i = Math.max(0, key.length - 12); i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return (h ^ (h >>> 10)) & (KEY_BUCKETS - 1);
}
/**
 * A timer that fires this much later than planned means our own event loop was busy: replies may sit
 * unread in the socket. No server is judged late on such a check; it is repeated after a poll phase.
 */
const LATE_MS = 25;
const noop = (): void => {};

let nextId = 1;

/** The deadline a pending request still waits on (abandoned ones wait on nothing). */
const liveDeadline = (p: Pending): number => (p.abandoned ? Infinity : p.out.deadline);

/** `mn` answered `ERROR`: the server does not speak the meta protocol; the socket is aligned and usable. */
export class MetaUnsupportedError extends ValidationFailedError {
  constructor(server: string, cause: unknown) {
    super('the server answered ERROR to mn (no meta protocol)', { server, cause });
  }
}

/** Monotonic milliseconds; immune to wall-clock jumps. */
export const now = (): number => performance.now();

/**
 * One socket to one server. Requests are pipelined and replies matched in order, each checked
 * (parser grammar, then the request's own `verify`) synchronously as it arrives, so a reply that
 * does not fit stops delivery at that point.
 *
 * What ends a socket: EOF, a socket error, a reply the parser cannot match or that fails `verify`,
 * an error line to a request with a data block (the stream may be out of step), and a stall (no
 * byte for `stallTimeoutMs` with requests outstanding). Every pending request then rejects with an
 * error naming the server, and the owner hears about it once through `onDeath`.
 *
 * What does not: a call that passes its own deadline (rejected with `TimeoutError`, its request
 * abandoned and its reply discarded in order when it comes), and an error line that the server
 * gave as the whole reply to a request without a data block (`CLIENT_ERROR`, `ERROR`,
 * `SERVER_ERROR`): that request alone rejects.
 */
export class Connection {
  /** Small per-process number so log lines can tell sockets apart. */
  readonly id = nextId++;
  readonly server: string;
  /**
   * Set by the owner; called after each reply was read and delivered (or discarded, for an abandoned
   * request) while the socket stays in service: the server answered, and the socket has room again.
   */
  onReplied: ((conn: Connection) => void) | undefined;
  /** Set by the owner; called exactly once when the connection dies, whatever the reason. */
  onDeath: ((conn: Connection, reason: MemclusterError, pendingAtDeath: number) => void) | undefined;
  /** When the last reply arrived (monotonic ms), for "trust recently proven sockets". */
  lastReplyAt = 0;
  /** The request that proves this socket when it is borrowed (learned when it was opened). */
  validation: ValidationCommand = 'version';
  /** When the last byte arrived (monotonic ms): progress, for the stall check. */
  private lastDataAt = 0;
  private readonly stallMs: number;
  private readonly socket: net.Socket;
  private readonly parser: ReplyParser;
  private readonly pending = new Deque<Pending>();
  private timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for. */
  private timerAt = Infinity;
  /**
   * Counts of the keys in flight here, by a cheap hash (all requests, and writes only): `carries`
   * scans the pending requests only when a bucket says the key may be among them, so deep pipelines
   * on several sockets do not cost a scan per request.
   */
  private readonly keyCounts = new Uint16Array(KEY_BUCKETS);
  private readonly writeKeyCounts = new Uint16Array(KEY_BUCKETS);
  /** The counts are kept only while the owner has other sockets to choose from (see `trackKeys`). */
  private trackingKeys = false;
  /** A flush is scheduled for the end of this tick. */
  private flushing = false;
  /** Requests written since the last flush: their bytes leave (and their stall clock starts) at the flush. */
  private readonly unsent: Pending[] = [];
  /**
   * Their bytes, for one write at the flush: the string requests joined as one string (`outText`);
   * when a Buffer request comes, the text so far and the Buffer go to `outParts`, in order.
   */
  private outText = '';
  private readonly outParts: Wire[] = [];
  private outBufferBytes = 0;
  private dead: MemclusterError | undefined;
  /** While true, a missed deadline is a failed validation rather than a command timeout. */
  private validatingNow = false;
  private drainWaiters: Array<() => void> = [];

  private constructor(socket: net.Socket, private readonly opts: ConnectionOptions) {
    this.server = opts.server;
    this.socket = socket;
    this.stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_MS;
    this.parser = new ReplyParser(
      { server: opts.server, maxValueBytes: opts.maxValueBytes },
      (reply) => this.onReply(reply),
      (err) => this.destroy(err),
    );
    socket.on('data', (chunk: Buffer) => {
      this.lastDataAt = now();
      this.parser.feed(chunk);
    });
    socket.on('error', (err) => this.destroy(new ConnectionError(`socket error: ${err.message}`, { server: this.server, cause: err })));
    socket.on('end', () => this.destroy(new ConnectionError('server closed the connection (EOF)', { server: this.server })));
    socket.on('close', () => this.destroy(new ConnectionError('socket closed', { server: this.server })));
    socket.on('drain', () => this.flushDrainWaiters());
  }

  /**
   * Opens a socket (TCP, or TLS when configured) within `connectTimeoutMs`, then authenticates when
   * credentials are set. The result has carried no command yet: the pool validates it before use.
   * Aborting `signal` abandons the attempt at once (socket and timer gone).
   */
  static open(opts: ConnectionOptions, signal?: AbortSignal): Promise<Connection> {
    if (!isTraced(connectTrace)) return Connection.connect(opts, signal);
    return traceAsync(connectTrace, { ...targetOf(opts.server), tls: !!opts.tls }, () => Connection.connect(opts, signal));
  }

  /** `open` itself, outside its `memcluster:connect` trace. */
  private static connect(opts: ConnectionOptions, signal?: AbortSignal): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      const aborted = () => new ConnectionError('connection attempt abandoned: the client is closing', { server: opts.server });
      if (signal?.aborted) return reject(aborted());
      const socket = opts.tls
        ? tls.connect({ ...opts.tls, host: opts.host, port: opts.port, servername: opts.tls.servername ?? (net.isIP(opts.host) ? undefined : opts.host) })
        : net.connect({ host: opts.host, port: opts.port });
      socket.setNoDelay(true);
      const onAbort = () => fail(aborted());
      const fail = (err: MemclusterError) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners();
        socket.on('error', () => {});
        socket.destroy();
        log('connect %s failed: %s', opts.server, err.message);
        reject(err);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // When the timer fires, a connection completed meanwhile may not have been read yet (our loop was
      // busy): give it one poll phase before calling the connect late.
      let connected = false;
      const timer = setTimeout(() => setImmediate(() => {
        if (!connected) fail(new ConnectTimeoutError(`connect timed out after ${opts.connectTimeoutMs} ms`, { server: opts.server }));
      }), opts.connectTimeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => fail(connectError(err, opts)));
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
        connected = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners();
        const conn = new Connection(socket, opts);
        log('conn#%d %s connected%s', conn.id, opts.server, opts.tls ? ' (tls)' : '');
        if (!opts.auth) return resolve(conn);
        const abortAuth = () => conn.destroy(aborted());
        signal?.addEventListener('abort', abortAuth, { once: true });
        conn.authenticate(opts.auth, now() + opts.connectTimeoutMs).then(
          () => { signal?.removeEventListener('abort', abortAuth); resolve(conn); },
          (err) => { signal?.removeEventListener('abort', abortAuth); conn.destroy(err); reject(err); },
        );
      });
    });
  }

  /** False once the connection is dead; a dead connection rejects every request. */
  get alive(): boolean {
    return this.dead === undefined;
  }

  /** True while the validation request is in flight (its failure is counted by whoever validates). */
  get validating(): boolean {
    return this.validatingNow;
  }

  /** Requests written and not yet answered. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** True while the socket's write buffer is over its high-water mark; wait with `drained()`. */
  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Whether this socket alone keeps the process alive (`false` for idle sockets with `allowExitOnIdle`). */
  keepAlive(on: boolean): void {
    if (on) this.socket.ref();
    else this.socket.unref();
  }

  /** Resolves when the socket can take more bytes (or is dead). */
  drained(): Promise<void> {
    if (!this.congested || this.dead) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Writes one request and resolves with its reply (or rejects with a typed error). `deadline` is
   * the call's (monotonic ms, see `now()`): if the reply has not come by then, the call rejects with
   * `TimeoutError` and the request is abandoned; the socket stays (see the class notes). `verify`
   * runs synchronously on the reply before it is delivered; an error from it ends the socket.
   * `maxValues` caps the VALUE blocks of a retrieval reply (the number of keys asked for).
   */
  send(bytes: Wire, kind: ReplyKind, deadline: number, maxValues?: number, verify?: Verify): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<Reply>((resolve, reject) => {
      this.write({ bytes, kind, deadline, maxValues, verify, resolve, reject });
    });
  }

  /**
   * `send` for an owner that brings its own request object (no promise, no closure per request):
   * `out.resolve` or `out.reject` is called once. The returned token abandons the request
   * (`abandon`). On a dead connection `out.reject` is called at once and undefined returned.
   */
  request(out: Outgoing): Pending | undefined {
    if (this.dead) {
      out.reject(this.dead);
      return undefined;
    }
    return this.write(out);
  }

  /** Gives up on a request written here: its call rejects with `err` now; the socket stays in service. */
  abandon(p: Pending, err: MemclusterError): void {
    if (p.abandoned || this.dead) return;
    if (this.pending.indexOf(p) < 0) return; // already answered
    p.abandoned = true;
    p.out.reject(err);
  }

  /**
   * Whether a request for `key` (or any of `keys`) is in flight here, so the next one for it must
   * come here too; with `writesOnly`, only requests that change items count (reads may pass reads).
   */
  carries(key: string | undefined, keys: readonly string[] | undefined, writesOnly: boolean): boolean {
    // Without counts (one socket: the owner has no choice to make), the scan alone answers.
    if (this.trackingKeys) {
      const counts = writesOnly ? this.writeKeyCounts : this.keyCounts;
      if (key !== undefined) {
        if (counts[bucketOf(key)] === 0) return false;
      } else if (keys !== undefined) {
        let maybe = false;
        for (const k of keys) if (counts[bucketOf(k)] !== 0) { maybe = true; break; }
        if (!maybe) return false;
      }
    }
    for (const p of this.pending.items()) {
      const o = p.out;
      if (writesOnly && o.read) continue;
      if (key !== undefined) {
        if (o.key === key || o.keys?.includes(key)) return true;
      } else if (keys !== undefined) {
        for (const k of keys) if (o.key === k || o.keys?.includes(k)) return true;
      }
    }
    return false;
  }

  /**
   * Keeps (or stops keeping) the in-flight key counts `carries` reads. An owner with one socket has
   * no choice to make, so it keeps them off and requests pay nothing for them; turning them on
   * counts what is in flight now.
   */
  trackKeys(on: boolean): void {
    if (on === this.trackingKeys) return;
    this.trackingKeys = on;
    this.keyCounts.fill(0);
    this.writeKeyCounts.fill(0);
    if (on) for (const p of this.pending.items()) if (p.out.key !== undefined || p.out.keys !== undefined) this.countKeys(p.out, 1);
  }

  private write(out: Outgoing): Pending {
    const bytes = out.bytes;
    // `ms` (meta set) carries a data block like the text stores; mg/md/ma do not.
    const dataBlock = hasDataBlock(out.kind, bytes);
    // writtenAt is stamped when the bytes leave (flush, at the end of this tick).
    const p: Pending = { out, writtenAt: Infinity, abandoned: false, dataBlock };
    this.pending.push(p);
    if (this.trackingKeys && (out.key !== undefined || out.keys !== undefined)) this.countKeys(out, 1);
    this.unsent.push(p);
    this.parser.expect(out.kind, out.maxValues, out.replyKeys);
    if (!this.flushing) {
      // Every request issued in this tick goes out in one write. When requests are already in flight
      // on this socket, the write waits for the end of this turn of the event loop instead: the
      // replies read in the same poll phase release more requests, and they join the same write
      // (fewer, fuller writes under load; an idle socket still writes at once).
      this.flushing = true;
      if (this.pending.length > 1) setImmediate(this.flush);
      else process.nextTick(this.flush);
    }
    if (typeof bytes === 'string') this.outText += bytes;
    else {
      if (this.outText.length > 0) this.outParts.push(this.outText);
      this.outText = '';
      this.outParts.push(bytes);
      this.outBufferBytes += bytes.length;
    }
    // The timer may still be armed for a later time (it stays armed when the queue empties).
    if (out.deadline < this.timerAt) this.armTimer(out.deadline);
    return p;
  }

  private readonly flush = (): void => {
    this.flushing = false;
    const parts = this.outParts;
    const text = this.outText;
    if (!this.dead) {
      if (parts.length === 0) this.socket.write(text);
      else {
        if (text.length > 0) parts.push(text);
        if (parts.length === 1) this.socket.write(parts[0]!);
        else if (this.outBufferBytes + text.length * 3 <= MAX_JOIN_BYTES) {
          this.socket.write(Buffer.concat(parts.map((w) => (typeof w === 'string' ? Buffer.from(w, 'utf8') : w))));
        } else {
          // Large values are not copied again: one writev of the pieces.
          this.socket.cork();
          for (const w of parts) this.socket.write(w);
          this.socket.uncork();
        }
      }
    }
    parts.length = 0;
    this.outText = '';
    this.outBufferBytes = 0;
    // The stall clock starts when the bytes leave, not when the request was queued: a caller's long
    // synchronous burst must not count against the server.
    const t = now();
    for (const p of this.unsent) p.writtenAt = t;
    this.unsent.length = 0;
    if (t + this.stallMs < this.timerAt) this.armTimer(t + this.stallMs);
  };

  /**
   * Sends the light real request and checks the reply byte for byte (`MN`, or `VERSION <x>`),
   * resolving with the version for `version`. Any other outcome rejects with
   * `ValidationFailedError` (or `TooManyConnectionsError` / `AuthenticationError` when that is what
   * the server said) and destroys the connection, except an `ERROR` line answering `mn` when
   * `keepOnError` is set: the server does not know `mn` (memcached < 1.6 and some proxies), the
   * stream is still aligned, and the caller may ask `version` on the same socket instead.
   */
  async validate(command: ValidationCommand, timeoutMs: number, keepOnError = false): Promise<string | undefined> {
    const started = now();
    this.validatingNow = true;
    try {
      const reply = await this.send(command === 'mn' ? encodeMn() : encodeVersion(), command, started + timeoutMs);
      if (command === 'mn' && reply.kind === 'status' && reply.status === 'MN') return undefined;
      if (command === 'version' && reply.kind === 'version') return reply.version;
      throw new ValidationFailedError(`unexpected reply to ${command}: ${reply.kind}`, { server: this.server });
    } catch (err) {
      if (keepOnError && command === 'mn' && this.alive && err instanceof ClientErrorReply && err.detail === 'server answered ERROR') {
        throw new MetaUnsupportedError(this.server, err);
      }
      const wrapped = err instanceof TooManyConnectionsError || err instanceof ValidationFailedError
        ? err
        : err instanceof ClientErrorReply && err.detail.startsWith('CLIENT_ERROR unauthenticated')
          ? new AuthenticationError('the server requires authentication (memcached -Y) and no credentials are configured (option auth)', { server: this.server, cause: err })
          : new ValidationFailedError(`${command} validation failed after ${Math.round(now() - started)} ms: ${(err as MemclusterError).detail ?? (err as Error).message}`, { server: this.server, cause: err });
      this.destroy(wrapped);
      throw wrapped;
    } finally {
      this.validatingNow = false;
    }
  }

  /** Destroys the socket and rejects every pending request. Idempotent. */
  destroy(reason: MemclusterError): void {
    if (this.dead) return;
    this.dead = reason;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.socket.destroy();
    const pending = this.pending.drain();
    log('conn#%d %s destroyed (%s), %d pending rejected', this.id, this.server, reason.message, pending.length);
    // The owner hears first: the callers' rejections below may run its code synchronously (and,
    // through the pool, clear onDeath), and it must already know why the socket went.
    this.onDeath?.(this, reason, pending.length);
    for (const p of pending) if (!p.abandoned) p.out.reject(reason);
    this.flushDrainWaiters();
  }

  /**
   * memcached's ASCII authentication is a `set` whose data is "<user> <password>". A server
   * without `-Y` would run that data line as a command, so the credentials go only to a server
   * that asked for them: first `version`, which a `-Y` server answers with `CLIENT_ERROR
   * unauthenticated` (keeping the connection), then the credentials.
   */
  private async authenticate(auth: { username: string; password: string }, deadline: number): Promise<void> {
    // `version` has no data block, so its `CLIENT_ERROR unauthenticated` leaves the stream aligned.
    const required = await this.send(encodeVersion(), 'version', deadline).then(() => false, (err: unknown) => {
      if (err instanceof ClientErrorReply && err.detail === `CLIENT_ERROR ${UNAUTHENTICATED}`) return true;
      throw err;
    });
    if (!required) {
      throw new AuthenticationError('authentication failed: the server does not use ASCII authentication (-Y); the credentials were not sent', { server: this.server });
    }
    try {
      await this.send(encodeAuth(auth.username, auth.password), 'auth', deadline);
    } catch (err) {
      // Only an error line answering the credentials is a refusal (memcached 1.6 answers
      // `CLIENT_ERROR authentication failure`); a timeout or EOF during auth stays what it is.
      if (!(err instanceof ClientErrorReply)) throw err;
      // Never include the credentials: only the server's reason.
      throw new AuthenticationError(`authentication failed: the server refused the credentials of user ${JSON.stringify(auth.username)} (${err.detail})`, { server: this.server, cause: err });
    }
  }

  private onReply(reply: Reply): void {
    if (this.dead) return; // the rest of a chunk after the socket was condemned: never delivered
    const req = this.pending.shift();
    if (!req) return; // the parser tracks expectations, so this cannot happen; never throw from a socket handler
    if (this.trackingKeys && (req.out.key !== undefined || req.out.keys !== undefined)) this.countKeys(req.out, -1);
    this.lastReplyAt = this.lastDataAt;
    switch (reply.kind) {
      case 'server_error':
        // SERVER_ERROR (object too large, out of memory) swallows a data block: the stream stays aligned.
        if (!req.abandoned) req.out.reject(new ServerErrorReply(`SERVER_ERROR ${serverText(reply.message)}`, { server: this.server }));
        break;
      case 'oversize':
        // Read to its end without being kept: the call fails, the stream is aligned.
        if (!req.abandoned) req.out.reject(new ReplyTooLargeError(reply.message, { server: this.server }));
        break;
      case 'error':
      case 'client_error': {
        if (reply.kind === 'error' && reply.message === 'Too many open connections') {
          const err = new TooManyConnectionsError({ server: this.server });
          if (!req.abandoned) req.out.reject(err);
          this.destroy(err); // the server closes the socket after this line
          return;
        }
        const err = new ClientErrorReply(reply.kind === 'error' ? `server answered ERROR${reply.message ? ' ' + serverText(reply.message) : ''}` : `CLIENT_ERROR ${serverText(reply.message)}`, { server: this.server });
        if (!req.abandoned) req.out.reject(err);
        // Without a data block the error line is the whole reply: the next reply is the next request's.
        if (req.dataBlock) {
          this.destroy(new ConnectionError(`connection dropped after an error reply to a request with a data block: ${err.detail}`, { server: this.server, cause: err }));
        }
        break;
      }
      default: {
        // Checked here, in order, before anything later on this socket is delivered.
        const bad = req.out.verify?.(reply);
        if (bad) {
          if (!req.abandoned) req.out.reject(bad);
          this.destroy(bad);
          return;
        }
        if (!req.abandoned) req.out.resolve(reply);
      }
    }
    if (!this.dead) this.onReplied?.(this);
    // The deadline timer stays armed when the queue empties: it finds nothing and stops, which is
    // cheaper than clearing and re-arming a timer per reply.
  }

  private armTimer(deadline: number): void {
    // Nothing to wait for yet (e.g. only requests whose bytes have not left: the flush arms the stall check).
    if (!Number.isFinite(deadline)) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(() => this.checkDeadline(), Math.max(1, Math.ceil(deadline - now())));
    this.timer.unref();
  }

  /**
   * Two clocks, checked together: each call's own deadline (past it, the call rejects with
   * `TimeoutError` and its request is abandoned; the socket stays), and the socket's progress (no
   * byte for `stallMs` since the oldest outstanding request was written: the server is not
   * answering, so the socket goes and every pending request rejects).
   */
  private checkDeadline(graced = false): void {
    const planned = this.timerAt;
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.dead || this.pending.length === 0) return;
    const t = now();
    const head = this.pending.peek()!;
    const stallAt = Math.max(head.writtenAt, this.lastDataAt) + this.stallMs;
    const earliest = Math.min(stallAt, this.pending.min(liveDeadline));
    if (t < earliest) return this.armTimer(earliest);
    if (!graced || t - planned > LATE_MS) {
      // Timers run before the poll phase: after a busy turn of our own event loop the reply may
      // already sit in the socket. Let a poll phase read it before calling anything late, and judge
      // only on a check that ran on time (a loop still too busy to read is not the server's fault).
      this.timerAt = t;
      this.timer = setTimeout(() => this.checkDeadline(true), 0);
      this.timer.unref();
      return;
    }
    if (t >= Math.max(head.writtenAt, this.lastDataAt) + this.stallMs) {
      const what = `no reply for ${this.stallMs} ms with ${this.pending.length} request(s) outstanding (${head.out.kind} first) on conn#${this.id}`;
      this.destroy(this.validatingNow
        ? new ValidationFailedError(`no reply to the ${head.out.kind} validation request in time (conn#${this.id})`, { server: this.server })
        : new TimeoutError(what, { server: this.server }));
      return;
    }
    for (const p of this.pending.items()) {
      if (p.abandoned || p.out.deadline > t) continue;
      p.abandoned = true;
      p.out.reject(this.validatingNow && (p.out.kind === 'mn' || p.out.kind === 'version')
        ? new ValidationFailedError(`no reply to the ${p.out.kind} validation request in time (conn#${this.id})`, { server: this.server })
        : new TimeoutError(`no reply within the call's timeout (${p.out.kind}, request abandoned; conn#${this.id} kept)`, { server: this.server }));
    }
    this.checkDeadline(true);
  }

  /** Adds (or removes, `by` -1) a request's keys to the in-flight key counts. */
  private countKeys(out: Outgoing, by: 1 | -1): void {
    const write = !out.read;
    if (out.key !== undefined) {
      const b = bucketOf(out.key);
      this.keyCounts[b]! += by;
      if (write) this.writeKeyCounts[b]! += by;
      return;
    }
    for (const k of out.keys!) {
      const b = bucketOf(k);
      this.keyCounts[b]! += by;
      if (write) this.writeKeyCounts[b]! += by;
    }
  }

  private flushDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

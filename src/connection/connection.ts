import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import createDebug from 'debug';
import {
  AuthenticationError, ClientErrorReply, ConnectionError, ConnectTimeoutError, MemclusterError, ServerErrorReply,
  TimeoutError, TooManyConnectionsError, ValidationFailedError,
} from '../errors.js';
import { serverText } from '../text.js';
import { encodeAuth, encodeMn, encodeVersion } from '../protocol/encoder.js';
import { ReplyParser } from '../protocol/parser.js';
import type { Reply, ReplyKind } from '../protocol/types.js';
import { Deque } from './deque.js';

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

interface Pending {
  kind: ReplyKind;
  deadline: number;
  resolve: (reply: Reply) => void;
  reject: (err: MemclusterError) => void;
  /** The one request whose `CLIENT_ERROR unauthenticated` leaves the stream in a known state (see authenticate). */
  authProbe?: boolean;
}

const UNAUTHENTICATED = 'unauthenticated';

let nextId = 1;

/** Monotonic milliseconds; immune to wall-clock jumps. */
export const now = (): number => performance.now();

/**
 * One socket to one server. Requests are pipelined and replies matched in order. Any doubt about
 * the socket's state (timeout, EOF, socket error, ERROR/CLIENT_ERROR, a reply the parser cannot
 * match) destroys it and rejects every pending request with an error naming the server; the owner
 * hears about it through `onDeath` so the socket is never reused.
 */
export class Connection {
  /** Small per-process number so log lines can tell sockets apart. */
  readonly id = nextId++;
  readonly server: string;
  /** Set by the owner; called exactly once when the connection dies, whatever the reason. */
  onDeath: ((conn: Connection, reason: MemclusterError, pendingAtDeath: number) => void) | undefined;
  /** When the last reply arrived (monotonic ms), for "trust recently proven sockets". */
  lastReplyAt = 0;
  private readonly socket: net.Socket;
  private readonly parser: ReplyParser;
  private readonly pending = new Deque<Pending>();
  private timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for. */
  private timerAt = Infinity;
  private corked = false;
  private dead: MemclusterError | undefined;
  /** While true, a missed deadline is a failed validation rather than a command timeout. */
  private validatingNow = false;
  private drainWaiters: Array<() => void> = [];

  private constructor(socket: net.Socket, private readonly opts: ConnectionOptions) {
    this.server = opts.server;
    this.socket = socket;
    this.parser = new ReplyParser(
      { server: opts.server, maxValueBytes: opts.maxValueBytes },
      (reply) => this.onReply(reply),
      (err) => this.destroy(err),
    );
    socket.on('data', (chunk: Buffer) => this.parser.feed(chunk));
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
      const timer = setTimeout(() => fail(new ConnectTimeoutError(`connect timed out after ${opts.connectTimeoutMs} ms`, { server: opts.server })), opts.connectTimeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => fail(connectError(err, opts)));
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
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

  /** Resolves when the socket can take more bytes (or is dead). */
  drained(): Promise<void> {
    if (!this.congested || this.dead) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Writes one request and resolves with its reply. `deadline` is monotonic ms (see `now()`); if the
   * reply has not arrived by then, the connection is destroyed (later replies can no longer be
   * matched) and every pending request rejects. `SERVER_ERROR` rejects only this request.
   * `maxValues` caps the VALUE blocks of a retrieval reply (the number of keys asked for).
   */
  send(bytes: Buffer, kind: ReplyKind, deadline: number, maxValues?: number): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<Reply>((resolve, reject) => {
      this.pending.push({ kind, deadline, resolve, reject });
      this.parser.expect(kind, maxValues);
      if (!this.corked) {
        // Batch every request issued in this tick into one write syscall.
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => { this.corked = false; this.socket.uncork(); });
      }
      this.socket.write(bytes);
      // The timer may still be armed for a later deadline (it stays armed when the queue empties).
      if (deadline < this.timerAt) this.armTimer(deadline);
    });
  }

  /**
   * Sends the light real request and checks the reply byte for byte (`MN`, or `VERSION <x>`).
   * Any other outcome destroys the connection and rejects with `ValidationFailedError`
   * (or `TooManyConnectionsError` when that is what the server said).
   */
  async validate(command: ValidationCommand, timeoutMs: number): Promise<string | undefined> {
    const started = now();
    this.validatingNow = true;
    try {
      const reply = await this.send(command === 'mn' ? encodeMn() : encodeVersion(), command, started + timeoutMs);
      if (command === 'mn' && reply.kind === 'status' && reply.status === 'MN') return undefined;
      if (command === 'version' && reply.kind === 'version') return reply.version;
      throw new ValidationFailedError(`unexpected reply to ${command}: ${reply.kind}`, { server: this.server });
    } catch (err) {
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
    for (const p of pending) p.reject(reason);
    this.flushDrainWaiters();
    this.onDeath?.(this, reason, pending.length);
  }

  /**
   * memcached's ASCII authentication is a `set` whose data is "<user> <password>". A server
   * without `-Y` would run that data line as a command, so the credentials go only to a server
   * that asked for them: first `version`, which a `-Y` server answers with `CLIENT_ERROR
   * unauthenticated` (keeping the connection), then the credentials.
   */
  private async authenticate(auth: { username: string; password: string }, deadline: number): Promise<void> {
    const required = await new Promise<boolean>((resolve, reject) => {
      this.pending.push({ kind: 'version', deadline, resolve: () => resolve(false), reject, authProbe: true });
      this.parser.expect('version');
      this.socket.write(encodeVersion());
      if (deadline < this.timerAt) this.armTimer(deadline);
    }).catch((err: unknown) => {
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
    const req = this.pending.shift();
    if (!req) return; // the parser tracks expectations, so this cannot happen; never throw from a socket handler
    this.lastReplyAt = now();
    switch (reply.kind) {
      case 'server_error':
        req.reject(new ServerErrorReply(`SERVER_ERROR ${serverText(reply.message)}`, { server: this.server }));
        break;
      case 'error':
      case 'client_error': {
        const err = reply.kind === 'error' && reply.message === 'Too many open connections'
          ? new TooManyConnectionsError({ server: this.server })
          : new ClientErrorReply(reply.kind === 'error' ? `server answered ERROR${reply.message ? ' ' + serverText(reply.message) : ''}` : `CLIENT_ERROR ${serverText(reply.message)}`, { server: this.server });
        req.reject(err);
        // memcached -Y answers a command before authentication with this one line and keeps going.
        if (req.authProbe && reply.kind === 'client_error' && reply.message === UNAUTHENTICATED) break;
        // After an error line the stream may hold replies we cannot match (a bad store gets two).
        this.destroy(new ConnectionError(`connection dropped after an error reply: ${err.detail}`, { server: this.server, cause: err }));
        break;
      }
      default:
        req.resolve(reply);
    }
    // The deadline timer stays armed when the queue empties: it finds nothing and stops, which is
    // cheaper than clearing and re-arming a timer per reply.
  }

  private armTimer(deadline: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(() => this.checkDeadline(), Math.max(1, Math.ceil(deadline - now())));
    this.timer.unref();
  }

  /**
   * Deadlines are nearly always in request order, but not quite (a validation's is shorter than a
   * command's), so the check looks at the earliest one pending. Replies come in order: once any
   * pending request is overdue, none behind it can be matched in time, and the socket goes.
   */
  private checkDeadline(graced = false): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.dead || this.pending.length === 0) return;
    const earliest = this.pending.min((p) => p.deadline);
    const t = now();
    if (t < earliest) return this.armTimer(earliest);
    if (!graced) {
      // Timers run before the poll phase: after a busy turn of our own event loop the reply may
      // already sit in the socket. Let one poll phase read it before calling the server late.
      this.timerAt = earliest;
      this.timer = setTimeout(() => this.checkDeadline(true), 0);
      this.timer.unref();
      return;
    }
    const head = this.pending.peek()!;
    if (this.validatingNow) {
      this.destroy(new ValidationFailedError(`no reply to the ${head.kind} validation request in time (conn#${this.id})`, { server: this.server }));
      return;
    }
    this.destroy(new TimeoutError(`no reply within the request timeout (${head.kind}, ${this.pending.length} pending on conn#${this.id})`, { server: this.server }));
  }

  private flushDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

import type net from 'node:net';
import createDebug from 'debug';
import { ConnectionError, MemclusterError, TimeoutError, ValidationFailedError } from '../errors.js';
import { ReplyParser } from '../protocol/parser.js';
import type { Reply, ReplyKind, Wire } from '../protocol/types.js';
import { Deque } from './deque.js';
import { anyCarries, KeysInFlight } from './keys-in-flight.js';
import { OutBuffer } from './out-buffer.js';
import { beginRead, endRead } from './read-slice.js';
import { hasDataBlock, now, replyError, type Outgoing, type Pending, type ValidationCommand, type Verify } from './request.js';
import { authenticateOpened } from './auth.js';
import { openSocket, type ConnectionOptions } from './socket.js';
import { connectTrace, isTraced, targetOf, traceAsync } from '../tracing.js';

export { now, type Outgoing, type Pending, type RequestHandle, type ValidationCommand, type Verify } from './request.js';
export { isTlsCertificateError, type ConnectionOptions } from './socket.js';

const log = createDebug('memcluster:conn');

const DEFAULT_STALL_MS = 1000;

/**
 * A timer that fires this much later than planned means our own event loop was busy: replies may sit
 * unread in the socket. No server is judged late on such a check; it is repeated after a poll phase.
 */
const LATE_MS = 25;
/** Checks that may each find the loop late before one judges anyway (a loop busy turn after turn). */
const MAX_LATE_CHECKS = 3;

let nextId = 1;

/** The deadline a pending request still waits on (abandoned ones wait on nothing). */
const liveDeadline = (p: Pending): number => (p.abandoned ? Infinity : p.out.deadline);

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
  /** Which keys are in flight here (only while the owner has several sockets; see `trackKeys`). */
  private readonly keys = new KeysInFlight();
  /** A flush is scheduled for the end of this tick. */
  private flushing = false;
  /** Requests written since the last flush: their bytes leave (and their stall clock starts) at the flush. */
  private readonly unsent: Pending[] = [];
  /** Their bytes, for one write at the flush. */
  private readonly out = new OutBuffer();
  private dead: MemclusterError | undefined;
  private drainWaiters: Array<() => void> = [];

  private constructor(socket: net.Socket, opts: ConnectionOptions) {
    this.server = opts.server;
    this.socket = socket;
    this.stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_MS;
    this.parser = new ReplyParser(
      { server: opts.server, maxValueBytes: opts.maxValueBytes, dropValuesUpTo: opts.dropValuesUpTo },
      (reply) => this.onReply(reply),
      (err) => this.destroy(err),
    );
    socket.on('data', (chunk: Buffer) => {
      this.lastDataAt = now(); // bytes arrived: the server is answering, even if they wait a turn
      if (!beginRead(socket, chunk)) return;
      this.parser.feed(chunk);
      endRead(socket);
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
  private static async connect(opts: ConnectionOptions, signal?: AbortSignal): Promise<Connection> {
    const aborted = () => new ConnectionError('connection attempt abandoned: the client is closing', { server: opts.server });
    const conn = new Connection(await openSocket(opts, signal, aborted), opts);
    log('conn#%d %s connected%s', conn.id, opts.server, opts.tls ? ' (tls)' : '');
    await authenticateOpened(conn, opts.auth, now() + opts.connectTimeoutMs, signal, aborted);
    return conn;
  }

  /** False once the connection is dead; a dead connection rejects every request. */
  get alive(): boolean {
    return this.dead === undefined;
  }

  /**
   * True while the validation request is in flight (set by `validateSocket`): a missed deadline is
   * then a failed validation rather than a command timeout, counted by whoever validates.
   */
  validating = false;

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
    out.prepare?.();
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
    return this.keys.mayCarry(key, keys, writesOnly) && anyCarries(this.pending.items(), key, keys, writesOnly);
  }

  /**
   * Keeps (or stops keeping) the in-flight key counts `carries` reads. An owner with one socket has
   * no choice to make, so it keeps them off and requests pay nothing for them; turning them on
   * counts what is in flight now.
   */
  trackKeys(on: boolean): void {
    this.keys.track(on, [...this.pending.items()].map((p) => p.out));
  }

  private write(out: Outgoing): Pending {
    const bytes = out.bytes;
    // First, so nothing below is recorded for bytes that could not be queued.
    this.out.add(bytes);
    // `ms` (meta set) carries a data block like the text stores; mg/md/ma do not.
    const dataBlock = hasDataBlock(out.kind, bytes);
    // writtenAt is stamped when the bytes leave (flush, at the end of this tick).
    const p: Pending = { out, writtenAt: Infinity, abandoned: false, dataBlock };
    this.pending.push(p);
    this.keys.count(out, 1);
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
    // The timer may still be armed for a later time (it stays armed when the queue empties).
    if (out.deadline < this.timerAt) this.armTimer(out.deadline);
    return p;
  }

  private readonly flush = (): void => {
    this.flushing = false;
    this.out.writeTo(this.dead ? undefined : this.socket);
    // The stall clock starts when the bytes leave, not when the request was queued: a caller's long
    // synchronous burst must not count against the server.
    const t = now();
    for (const p of this.unsent) p.writtenAt = t;
    this.unsent.length = 0;
    if (t + this.stallMs < this.timerAt) this.armTimer(t + this.stallMs);
  };

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

  private onReply(reply: Reply): void {
    if (this.dead) return; // the rest of a chunk after the socket was condemned: never delivered
    const req = this.pending.shift();
    if (!req) return; // the parser tracks expectations, so this cannot happen; never throw from a socket handler
    this.keys.count(req.out, -1);
    this.lastReplyAt = this.lastDataAt;
    const failed = replyError(reply, req.dataBlock, this.server);
    if (failed) {
      if (!req.abandoned) req.out.reject(failed.err);
      // The server closes the socket after it (too many connections), or the stream may be out of step.
      if (failed.end) this.destroy(failed.end);
    } else {
      // Checked here, in order, before anything later on this socket is delivered.
      const bad = req.out.verify?.(reply);
      if (bad) {
        if (!req.abandoned) req.out.reject(bad);
        this.destroy(bad);
        return;
      }
      if (!req.abandoned) req.out.resolve(reply);
      else req.out.late?.(reply);
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
  private checkDeadline(graced = 0): void {
    const planned = this.timerAt;
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.dead || this.pending.length === 0) return;
    const t = now();
    const head = this.pending.peek()!;
    const stallAt = this.stallAt();
    const earliest = Math.min(stallAt, this.pending.min(liveDeadline));
    if (t < earliest) return this.armTimer(earliest);
    const paused = this.socket.isPaused();
    if (graced === 0 || paused || (t - planned > LATE_MS && graced < MAX_LATE_CHECKS)) {
      // Timers run before the poll phase: after a busy turn of our own event loop the reply may
      // already sit in the socket. Let a poll phase read it before calling anything late, and judge
      // on a check that ran on time (a loop too busy to read is not the server's fault). A loop
      // that stays busy, turn after turn, is judged anyway on the MAX_LATE_CHECKS-th late check:
      // polls have run in between, and a call must settle by its deadline plus a few turns.
      // A socket paused by read-slice holds bytes that arrived: judge after it resumes (next turn).
      this.timerAt = t;
      const next = paused ? Math.max(graced, 1) : graced + 1;
      this.timer = setTimeout(() => this.checkDeadline(next), 0);
      this.timer.unref();
      return;
    }
    if (t >= this.stallAt()) {
      // The silence measured, not the bound: a request given more time may have stretched it.
      const what = `no reply for ${Math.round(t - Math.max(head.writtenAt, this.lastDataAt))} ms with ${this.pending.length} request(s) outstanding (${head.out.kind} first) on conn#${this.id}`;
      this.destroy(this.validating
        ? new ValidationFailedError(`no reply to the ${head.out.kind} validation request in time (conn#${this.id})`, { server: this.server })
        : new TimeoutError(what, { server: this.server, stalled: true }));
      return;
    }
    for (const p of this.pending.items()) {
      if (p.abandoned || p.out.deadline > t) continue;
      p.abandoned = true;
      p.out.reject(this.validating && (p.out.kind === 'mn' || p.out.kind === 'version')
        ? new ValidationFailedError(`no reply to the ${p.out.kind} validation request in time (conn#${this.id})`, { server: this.server })
        : new TimeoutError(`no reply within the call's timeout (${p.out.kind}, request abandoned; conn#${this.id} kept)`, { server: this.server }));
    }
    this.checkDeadline(1);
  }

  /**
   * When the socket counts as stalled: the earliest point at which an outstanding request has had
   * no byte for its allowance since it was written (or since the last byte, if later). The
   * allowance is `stallMs`, or longer for a request given more time (a call's own `timeoutMs`, a
   * validation's `validateTimeoutMs`): a server slower than the client's bound is not judged dead
   * while only such a call waits on it. A request with the usual bound written behind it (or one
   * abandoned) still has `stallMs`, so a frozen server is judged as soon as ordinary calls meet it.
   */
  private stallAt(): number {
    return this.pending.min(this.stallPoint);
  }

  private readonly stallPoint = (p: Pending): number => {
    const own = p.abandoned ? 0 : p.out.deadline - p.writtenAt;
    return Math.max(p.writtenAt, this.lastDataAt) + (own > this.stallMs ? own : this.stallMs);
  };

  private flushDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * Every `code` a `MemclusterError` can carry: a union of literals, so `err.code === 'MC_ERR_TIMEUOT'`
 * is a type error and a `switch` on it can be checked for exhaustiveness.
 */
export type ErrorCode =
  | 'MC_ERR_INVALID_KEY' | 'MC_ERR_INVALID_VALUE' | 'MC_ERR_INVALID_ARGUMENT' | 'MC_ERR_INVALID_OPTION'
  | 'MC_ERR_CONNECTION' | 'MC_ERR_CONNECT_TIMEOUT' | 'MC_ERR_TIMEOUT' | 'MC_ERR_VALIDATION' | 'MC_ERR_PROTOCOL'
  | 'MC_ERR_CLIENT_ERROR' | 'MC_ERR_SERVER_ERROR' | 'MC_ERR_TOO_MANY_CONNECTIONS' | 'MC_ERR_SERVER_UNAVAILABLE'
  | 'MC_ERR_POOL_FULL' | 'MC_ERR_AUTH' | 'MC_ERR_CLOSED' | 'MC_ERR_NO_SERVERS' | 'MC_ERR_PARTIAL' | 'MC_ERR_DECODE'
  /** A client event listener threw (emitted as `error` on the client). */
  | 'MC_ERR_LISTENER'
  /** Internal: ends a health probe's socket; never reaches a caller. */
  | 'MC_ERR_PROBE_DONE'
  /** memcluster/compat: 2.2.2's NOT_STORED error. */
  | 'MC_ERR_NOT_STORED'
  /** The caller aborted the call through its `signal`. */
  | 'MC_ERR_ABORTED'
  /** A reply (e.g. `stats conns` on a busy server) was larger than the client keeps; the socket stays. */
  | 'MC_ERR_REPLY_TOO_LARGE'
  /** `fetch`: another caller held the lease and its value did not arrive within `waitMs`. */
  | 'MC_ERR_LEASE_WAIT_TIMEOUT';

/**
 * Every error memcluster produces. One base class with a stable machine `code`, the `server` it
 * concerns (`host:port`, or undefined when no server is involved) and an ES2022 `cause`.
 *
 * Rule of thumb: errors thrown before a byte is written (`Invalid*`) leave every connection
 * untouched. A call that times out or is aborted is abandoned, not its socket (its reply is read and
 * discarded). An error line that is the whole reply to its request (`ClientError`, `ServerError`)
 * fails that call alone. A socket is destroyed only when it is closed, stalls, or is out of step
 * (`Connection*`, a stall `Timeout`, `Protocol`, an error line to a store's data block).
 */
export class MemclusterError extends Error {
  /** Stable machine-readable code, e.g. `MC_ERR_TIMEOUT`. */
  readonly code: ErrorCode;
  /** The server (`host:port`) this error concerns, when there is one. */
  readonly server: string | undefined;
  /** The message without the ` [host:port]` suffix, for nesting in another error's message. */
  readonly detail: string;

  constructor(code: ErrorCode, message: string, options: { server?: string | undefined; cause?: unknown } = {}) {
    super(options.server ? `${message} [${options.server}]` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.server = options.server;
    this.detail = message;
  }
}

type Opts = { server?: string | undefined; cause?: unknown };

/** A key is empty, longer than 250 UTF-8 bytes, or holds a byte <= 0x20 or 0x7f. Nothing was written. */
export class InvalidKeyError extends MemclusterError {
  constructor(message: string, readonly key: string) { super('MC_ERR_INVALID_KEY', message); }
}

/** A value cannot be stored: unsupported type, serializer failure, or larger than `maxValueBytes`. Nothing was written. */
export class InvalidValueError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_INVALID_VALUE', message, opts); }
}

/** A TTL, delta, cas token or other argument is out of range or of the wrong type. Nothing was written. */
export class InvalidArgumentError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_INVALID_ARGUMENT', message, opts); }
}

/** An option passed to a constructor is invalid; the message names the option and the bad value. */
export class InvalidOptionError extends MemclusterError {
  constructor(message: string) { super('MC_ERR_INVALID_OPTION', message); }
}

/** The TCP (or TLS) connection could not be opened, was reset, or closed (EOF) with requests pending. */
export class ConnectionError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_CONNECTION', message, opts); }
}

/** The TCP (or TLS) connection was not established within `connectTimeoutMs`. */
export class ConnectTimeoutError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_CONNECT_TIMEOUT', message, opts); }
}

/** A request did not settle within `timeoutMs` (queued, acquiring, validating or waiting for the reply). */
export class TimeoutError extends MemclusterError {
  /**
   * True when the socket was destroyed because it stalled (no byte from the server for the stall
   * bound with requests outstanding: the server stopped answering); false when only the call's
   * own deadline passed (the socket, if any, stays in service).
   */
  readonly stalled: boolean;
  constructor(message: string, opts: Opts & { stalled?: boolean } = {}) {
    super('MC_ERR_TIMEOUT', message, opts);
    this.stalled = opts.stalled === true;
  }
}

/** A new or borrowed socket did not answer the validation request (`mn` or `version`) exactly and in time. */
export class ValidationFailedError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_VALIDATION', message, opts); }
}

/** The server sent bytes that are not a valid reply to the request (garbage, unsolicited data, forged length). */
export class ProtocolError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_PROTOCOL', message, opts); }
}

/**
 * The server answered `ERROR` or `CLIENT_ERROR <msg>` (e.g. `incr` on a non-numeric value). It fails
 * this call; the connection stays in service unless the request carried a data block (a store),
 * after which the stream may be out of step and the connection is destroyed.
 */
export class ClientErrorReply extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_CLIENT_ERROR', message, opts); }
}

/** The server answered `SERVER_ERROR <msg>` (e.g. object too large, out of memory). The connection stays usable. */
export class ServerErrorReply extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_SERVER_ERROR', message, opts); }
}

/** The server refused the connection with `ERROR Too many open connections` (its `-c` limit). */
export class TooManyConnectionsError extends MemclusterError {
  constructor(opts: Opts = {}) { super('MC_ERR_TOO_MANY_CONNECTIONS', 'server refused the connection: Too many open connections', opts); }
}

/** The server is marked down after consecutive failures; requests for its keys fail at once until a probe succeeds. */
export class ServerUnavailableError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_SERVER_UNAVAILABLE', message, opts); }
}

/** Too many requests are already waiting for this server (`maxQueue`); rejected instead of queueing without bound. */
export class PoolFullError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_POOL_FULL', message, opts); }
}

/** Credentials were rejected by the server (ASCII auth, `-Y`). */
export class AuthenticationError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_AUTH', message, opts); }
}

/** The client was closed; no further requests are accepted. */
export class ClientClosedError extends MemclusterError {
  constructor(opts: Opts = {}) { super('MC_ERR_CLOSED', 'client is closed', opts); }
}

/** The client has no servers to route to. */
export class NoServersError extends MemclusterError {
  constructor() { super('MC_ERR_NO_SERVERS', 'no servers configured'); }
}

/** A multi-key read or write failed for some keys; carries the hits it did get and each failed key's error. */
export class PartialFailureError<V = unknown> extends MemclusterError {
  constructor(
    message: string,
    /** The values that were read (or per-key results that were written) despite the failure. */
    readonly values: Map<string, V>,
    /** Per failed key, the error (which names its server). */
    readonly errors: Map<string, MemclusterError>,
  ) {
    super('MC_ERR_PARTIAL', message, { cause: errors.values().next().value });
  }
}


/** A stored item could not be decoded (e.g. flag 2 with bytes that are not JSON). The connection is fine. */
export class DecodeError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_DECODE', message, opts); }
}

/**
 * The call was aborted through its `signal` (per-call options). Nothing of it stays queued; a request
 * already written is abandoned (its reply is read and discarded), and its socket stays in service.
 */
export class AbortError extends MemclusterError {
  constructor(message = 'the call was aborted', opts: Opts = {}) { super('MC_ERR_ABORTED', message, opts); }
}

/** A reply was larger than the client keeps (e.g. `stats conns` on a server with thousands of connections). The socket stays. */
export class ReplyTooLargeError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_REPLY_TOO_LARGE', message, opts); }
}

/**
 * `fetch` lost the race for a missing key (another caller, in this process or another, holds the
 * lease or the lock and is loading it), and the winner's value did not arrive within `waitMs`.
 * Nothing was loaded or stored by this call. Pass `onWaitTimeout: 'load'` to load anyway instead.
 */
export class LeaseWaitTimeoutError extends MemclusterError {
  constructor(message: string, opts: Opts = {}) { super('MC_ERR_LEASE_WAIT_TIMEOUT', message, opts); }
}

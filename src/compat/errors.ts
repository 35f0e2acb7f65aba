import {
  ClientErrorReply, ConnectTimeoutError, ConnectionError, InvalidArgumentError, InvalidKeyError, InvalidValueError, MemclusterError,
  NoServersError, PoolFullError, ProtocolError, ServerErrorReply, ServerUnavailableError, TimeoutError, ValidationFailedError,
} from '../errors.js';

/**
 * memcached 2.2.2's texts, for the situations where it had one (lib/memcached.js, lib/utils.js,
 * and jackpot, its socket pool). Compat errors carry these as their `message`, exactly.
 */
export const TEXT = {
  whitespace: 'The key should not contain any whitespace or new lines',
  keyTooLong: (max: number, name = 'key') => `Argument "${name}" is longer than the maximum allowed length of ${max}`,
  notA: (name: string, type: 'String' | 'Number' | 'Array' | 'Function') => `Argument "${name}" is not a valid ${type}.`,
  valueTooLarge: (max: number) => `The length of the value is greater than ${max}`,
  notStored: 'Item is not stored',
  notAvailable: (server: string | undefined) => `Server at ${server} not available`,
  connectTimeout: 'Timed out while trying to establish connection',
  errorReply: 'Received an ERROR response',
  overQueue: 'over queue limit',
  /** memcached's own CLIENT_ERROR text for a negative or fractional incr/decr amount (2.2.2 sent it). */
  badDelta: 'invalid numeric delta argument',
} as const;

/** Errors as the compat layer delivers them: memcluster's class and `code`, 2.2.2's `message` and `name`. */
export type CompatError = MemclusterError & {
  /** The message memcluster gave, with its detail (server, reason), when `message` was replaced by 2.2.2's text. */
  memclusterMessage?: string;
  notStored?: true;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
};

/** A Node system error (`connect ECONNREFUSED 127.0.0.1:1234`) in the cause chain, as 2.2.2 passed it on. */
function systemCause(err: unknown): NodeJS.ErrnoException | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (!(e instanceof MemclusterError) && typeof (e as NodeJS.ErrnoException).syscall === 'string') return e as NodeJS.ErrnoException;
  }
  return undefined;
}

/** True when the chain says a socket never became usable in time (connect or its first request). */
function connectTimedOut(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ConnectTimeoutError) return true;
    if (e instanceof ValidationFailedError && /in time|timed out|timeout/i.test(e.message)) return true;
  }
  return false;
}

/**
 * 2.2.2's text for a memcluster error, or undefined where 2.2.2 had none (it hung, or gave no
 * error at all): those keep memcluster's message.
 */
export function legacyText(err: MemclusterError, server?: string): string | undefined {
  if (err instanceof ServerUnavailableError || err instanceof NoServersError) return TEXT.notAvailable(server ?? err.server);
  if (err instanceof PoolFullError) return TEXT.overQueue;
  if (err instanceof ClientErrorReply) {
    const m = /^CLIENT_ERROR (.*)$/s.exec(err.detail);
    return m ? m[1] : TEXT.errorReply;
  }
  if (err instanceof ConnectionError || err instanceof TimeoutError || err instanceof ConnectTimeoutError || err instanceof ValidationFailedError) {
    const sys = systemCause(err);
    if (sys) return sys.message;
    if (connectTimedOut(err)) return TEXT.connectTimeout;
  }
  return undefined;
}

/**
 * Gives an error 2.2.2's face without losing memcluster's: `message` becomes 2.2.2's text for the
 * situation (memcluster's stays in `memclusterMessage`), `name` becomes `'Error'` so
 * `String(err)` prints as 2.2.2's `Error: <text>`, the stack's first line follows, and a Node
 * connect error's `errno`, `syscall`, `address` and `port` are copied on. The class (instanceof),
 * `code`, `server` and `cause` stay. Idempotent.
 */
export function shapeError(err: unknown, server?: string): unknown {
  if (!(err instanceof MemclusterError)) return err;
  const e = err as CompatError;
  if (Object.prototype.hasOwnProperty.call(e, 'memclusterMessage')) return e;
  const text = legacyText(e, server);
  const original = e.message;
  if (text !== undefined && text !== original) {
    e.message = text;
  }
  Object.defineProperty(e, 'memclusterMessage', { value: original, enumerable: true, writable: true, configurable: true });
  const sys = systemCause(e);
  if (sys && text === sys.message) {
    for (const k of ['errno', 'syscall', 'address', 'port'] as const) {
      if (sys[k as keyof typeof sys] !== undefined) (e as unknown as Record<string, unknown>)[k] = sys[k as keyof typeof sys];
    }
  }
  const oldHead = `${e.name}: ${original}`;
  e.name = 'Error';
  if (typeof e.stack === 'string' && e.stack.startsWith(oldHead)) e.stack = `Error: ${e.message}${e.stack.slice(oldHead.length)}`;
  return e;
}

/** 2.2.2's NOT_STORED error (`notStored: true`), as a memcluster error of its own class. */
export class NotStoredError extends MemclusterError {
  readonly notStored = true as const;
  constructor(opts: { server?: string | undefined } = {}) {
    super('MC_ERR_NOT_STORED', TEXT.notStored, opts);
    // 2.2.2's message has no server suffix; code matches it with ===.
    this.message = TEXT.notStored;
  }
}

/**
 * The `data` 2.2.2 passed beside an error of this kind: `false` for a refused store (value too
 * large, NOT_STORED), a CLIENT_ERROR reply and SERVER_ERROR (2.2.2: `(undefined, false)`);
 * `undefined` for argument errors (its validateArg called back with the error alone) and for
 * connection errors and unavailable servers (it called back with the error alone there too).
 */
export function errorData(err: unknown): false | undefined {
  if (err instanceof InvalidValueError || err instanceof NotStoredError || err instanceof ClientErrorReply
    || err instanceof ServerErrorReply || err instanceof ProtocolError) return false;
  if (err instanceof InvalidArgumentError && err.message === TEXT.badDelta) return false; // 2.2.2 got memcached's CLIENT_ERROR
  if (err instanceof InvalidKeyError || err instanceof InvalidArgumentError) return undefined;
  return undefined;
}

/**
 * Whether a call's error says the server itself failed, and counts as one failure in its
 * IssueLog (2.2.2 logged a connection issue for these; replies like NOT_STORED or CLIENT_ERROR
 * and refused arguments are the call's own business).
 */
export function isServerFailure(err: unknown): boolean {
  // A call's own deadline passing proves nothing about the server (the app's loop may have been
  // busy, the call large): only a socket that stalled does.
  return err instanceof ConnectionError || err instanceof ConnectTimeoutError || (err instanceof TimeoutError && err.stalled) || err instanceof ValidationFailedError;
}

import { now, type RequestHandle } from '../connection/connection.js';
import type { Cancel, ServerNode } from '../cluster/server-node.js';
import { AbortError, InvalidArgumentError, type MemclusterError } from '../errors.js';
import { describeValue } from '../text.js';

/** Options every call takes as its last argument. */
export interface CallOptions {
  /**
   * Aborts the call: it rejects at once with `AbortError` (code `MC_ERR_ABORTED`), nothing of it
   * stays queued, and a request already written is abandoned (its reply is read and discarded; the
   * socket stays in service).
   */
  signal?: AbortSignal | undefined;
  /** This call's bound instead of the client's `timeoutMs` (multi-key calls: the whole call). */
  timeoutMs?: number | undefined;
}

/** What one call's requests share: its deadline, and its cancellation when it has a signal. */
export interface Scope {
  /** Monotonic ms by which the whole call settles. */
  deadline: number;
  cancel: CallCancel | undefined;
}

const MAX_MS = 2 ** 31 - 1;

/**
 * The scope of one call, or throws `InvalidArgumentError` for bad options (before anything is
 * written) and `AbortError` for a signal that is already aborted.
 */
export function scopeOf(options: CallOptions | undefined, defaultTimeoutMs: number): Scope {
  if (options === undefined) return { deadline: now() + defaultTimeoutMs, cancel: undefined };
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`call options must be an object, got ${describeValue(options)}`);
  const t = options.timeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 1 || t > MAX_MS)) {
    throw new InvalidArgumentError(`timeoutMs must be an integer from 1 to ${MAX_MS}, got ${describeValue(t)}`);
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError(`signal must be an AbortSignal, got ${describeValue(signal)}`);
  if (signal?.aborted) throw abortError(signal);
  return { deadline: now() + (t ?? defaultTimeoutMs), cancel: signal ? new CallCancel(signal) : undefined };
}

function abortError(signal: AbortSignal): AbortError {
  const r: unknown = signal.reason;
  const why = r instanceof Error ? `: ${r.message}` : typeof r === 'string' ? `: ${r}` : '';
  return new AbortError(`the call was aborted${why}`, { cause: r });
}

/**
 * A call's cancellation: one abort listener per call (not per request), removed when the call
 * settles. On abort, every request of the call still queued is dropped from its server's queue and
 * every request written is abandoned, each rejecting with the same `AbortError`.
 */
export class CallCancel implements Cancel {
  aborted = false;
  reason: MemclusterError | undefined;
  private readonly handles: RequestHandle[] = [];
  private readonly nodes = new Set<ServerNode>();

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  track(handle: RequestHandle): void {
    this.handles.push(handle);
  }

  queuedOn(node: ServerNode): void {
    this.nodes.add(node);
  }

  /** The call settled: stop listening (the signal may outlive it by far). */
  done(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }

  /** Throws the abort error if the call was aborted (for multi-key calls, between their steps). */
  check(): void {
    if (this.aborted) throw this.reason!;
  }

  private readonly onAbort = (): void => {
    this.aborted = true;
    const reason = (this.reason = abortError(this.signal));
    for (const node of this.nodes) node.purge(this);
    for (const h of this.handles.splice(0)) h.abandon(reason);
  };
}

/** Runs `fn` in the call's scope and releases the scope's listener when it settles. */
export async function inScope<T>(scope: Scope, fn: (scope: Scope) => Promise<T>): Promise<T> {
  if (!scope.cancel) return fn(scope);
  try {
    const out = await fn(scope);
    scope.cancel.check(); // aborted while the last step was settling: the call is aborted
    return out;
  } catch (err) {
    if (scope.cancel.aborted) throw scope.cancel.reason!;
    throw err;
  } finally {
    scope.cancel.done();
  }
}

/** Whether a call's options set its own signal or timeout (else the client's defaults apply as they are). */
export function hasCallOptions(options: CallOptions | undefined): options is CallOptions {
  // Anything but undefined or an object goes to scopeOf, which rejects it with InvalidArgumentError.
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object') return true;
  return options.signal !== undefined || options.timeoutMs !== undefined;
}

/**
 * Runs a call in the scope its options make (deadline, signal); with no options of its own, with
 * the client's defaults and no scope at all. Bad options reject, never throw.
 */
export function scoped<T>(options: CallOptions | undefined, defaultTimeoutMs: number, fn: (scope: Scope | undefined) => Promise<T>): Promise<T> {
  if (!hasCallOptions(options)) return fn(undefined);
  let scope: Scope;
  try {
    scope = scopeOf(options, defaultTimeoutMs);
  } catch (err) {
    return Promise.reject(err);
  }
  return inScope(scope, fn);
}

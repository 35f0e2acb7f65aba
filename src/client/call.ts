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

/** Option names a call takes besides `signal` and `timeoutMs` (e.g. `ttl` for stores). */
export type OptionNames = ReadonlySet<string> | undefined;

export const STORE_OPTIONS: OptionNames = new Set(['ttl']);
export const COUNTER_OPTIONS: OptionNames = new Set(['ttl', 'initial']);
export const INVALIDATE_OPTIONS: OptionNames = new Set(['staleTtl']);

/** What other clients call these (a name memcluster does not take is refused, with this hint). */
const HINTS: Readonly<Record<string, string>> = {
  expires: 'ttl', expire: 'ttl', expiry: 'ttl', exptime: 'ttl', lifetime: 'ttl', timeout: 'timeoutMs', abortSignal: 'signal',
};

/** The first own option name the call does not take, if any. */
function unknownName(options: object, names: OptionNames): string | undefined {
  for (const k in options) {
    if (k !== 'signal' && k !== 'timeoutMs' && !names?.has(k) && Object.hasOwn(options, k)) return k;
  }
  return undefined;
}

/**
 * The scope of one call, or throws `InvalidArgumentError` for bad options (before anything is
 * written: a value out of range, or a name the call does not take, `names` besides `signal` and
 * `timeoutMs`) and `AbortError` for a signal that is already aborted.
 */
export function scopeOf(options: CallOptions | undefined, defaultTimeoutMs: number, names?: OptionNames): Scope {
  if (options === undefined) return { deadline: now() + defaultTimeoutMs, cancel: undefined };
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`call options must be an object, got ${describeValue(options)}`);
  const unknown = unknownName(options, names);
  if (unknown !== undefined) {
    const hint = HINTS[unknown] !== undefined && (HINTS[unknown] === 'signal' || HINTS[unknown] === 'timeoutMs' || names?.has(HINTS[unknown]!)) ? ` (did you mean ${HINTS[unknown]}?)` : '';
    const takes = ['signal', 'timeoutMs', ...(names ?? [])].join(', ');
    throw new InvalidArgumentError(`unknown option ${describeValue(unknown, 60)}${hint}: this call takes ${takes}`);
  }
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

/**
 * Whether a call's options set its own signal or timeout (else the client's defaults apply as they
 * are). Options that are not an object, or that hold a name the call does not take (`names`), go
 * to `scopeOf` too, which rejects them with `InvalidArgumentError`.
 */
export function hasCallOptions(options: CallOptions | undefined, names?: OptionNames): options is CallOptions {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object') return true;
  return options.signal !== undefined || options.timeoutMs !== undefined || unknownName(options, names) !== undefined;
}

/**
 * Runs a call in the scope its options make (deadline, signal); with no options of its own, with
 * the client's defaults and no scope at all. Bad options reject, never throw.
 */
export function scoped<T>(options: CallOptions | undefined, defaultTimeoutMs: number, fn: (scope: Scope | undefined) => Promise<T>, names?: OptionNames): Promise<T> {
  if (!hasCallOptions(options, names)) return fn(undefined);
  let scope: Scope;
  try {
    scope = scopeOf(options, defaultTimeoutMs, names);
  } catch (err) {
    return Promise.reject(err);
  }
  return inScope(scope, fn);
}

/**
 * `memcluster:command` traces around the public calls of `Client` and of the compat client.
 * The methods are wrapped once, at class definition, from the tables below: a wrapper's whole cost
 * with no subscriber is one `hasSubscribers` check, and the methods' own code knows nothing of it.
 * See src/tracing.ts for the channels and what their contexts hold.
 */
import { commandTrace, isTraced, targetOf, traceAsync, type CommandTraceContext } from '../tracing.js';

/** How a method's arguments carry keys: one key, an array of keys, `[key, value]` entries, or none (every server). */
type Shape = 'key' | 'keys' | 'entries' | 'servers';
/** How a result is summarized: a single read (`undefined` = miss), a Map of hits, a `{ values, errors }` pair. */
type Read = 'one' | 'map' | 'settled';

/** What a traced method sends, and how to count its keys and hits. */
export interface TracedCall {
  command: string;
  shape: Shape;
  read?: Read;
}

/** The traced methods of `Client`. */
export const CLIENT_CALLS: Readonly<Record<string, TracedCall>> = {
  get: { command: 'get', shape: 'key', read: 'one' },
  gets: { command: 'gets', shape: 'key', read: 'one' },
  gat: { command: 'gat', shape: 'key', read: 'one' },
  gats: { command: 'gats', shape: 'key', read: 'one' },
  set: { command: 'set', shape: 'key' },
  add: { command: 'add', shape: 'key' },
  replace: { command: 'replace', shape: 'key' },
  append: { command: 'append', shape: 'key' },
  prepend: { command: 'prepend', shape: 'key' },
  cas: { command: 'cas', shape: 'key' },
  incr: { command: 'incr', shape: 'key' },
  decr: { command: 'decr', shape: 'key' },
  delete: { command: 'delete', shape: 'key' },
  touch: { command: 'touch', shape: 'key' },
  fetch: { command: 'fetch', shape: 'key', read: 'one' },
  invalidate: { command: 'invalidate', shape: 'key' },
  getMulti: { command: 'get', shape: 'keys', read: 'map' },
  getMultiSettled: { command: 'get', shape: 'keys', read: 'settled' },
  getsMulti: { command: 'gets', shape: 'keys', read: 'map' },
  gatMulti: { command: 'gat', shape: 'keys', read: 'map' },
  gatsMulti: { command: 'gats', shape: 'keys', read: 'map' },
  setMulti: { command: 'set', shape: 'entries' },
  deleteMulti: { command: 'delete', shape: 'keys' },
  flush: { command: 'flush_all', shape: 'servers' },
  version: { command: 'version', shape: 'servers' },
  stats: { command: 'stats', shape: 'servers' },
};

/** What the wrapper asks of the instance, only while someone subscribes. */
export interface TraceHooks<T> {
  /** The server (`host:port`) a key goes to right now; may throw for a bad key (the call then rejects on its own). */
  route(target: T, key: unknown): string;
  /** Whether keys may go in the context (the `traceKeys` option). */
  traceKeys(target: T): boolean;
}

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * Replaces each method named in `calls` on `proto` by a wrapper that runs it inside a
 * `memcluster:command` trace when anyone subscribes, and calls it straight through otherwise.
 * Throws at load time if a named method does not exist, so a renamed method cannot go untraced.
 */
export function traceMethods<T extends object>(proto: T, calls: Readonly<Record<string, TracedCall>>, hooks: TraceHooks<T>): void {
  for (const [method, call] of Object.entries(calls)) {
    const original = (proto as Record<string, unknown>)[method];
    if (typeof original !== 'function') throw new TypeError(`traceMethods: ${method} is not a method`);
    const run = original as Method;
    // Fixed parameters and a switch on the count: no rest array, no `apply`, on the untraced path.
    const traced = function (this: T, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): Promise<unknown> {
      if (!isTraced(commandTrace)) {
        switch (arguments.length) {
          case 0: return run.call(this);
          case 1: return run.call(this, a);
          case 2: return run.call(this, a, b);
          case 3: return run.call(this, a, b, c);
          case 4: return run.call(this, a, b, c, d);
          case 5: return run.call(this, a, b, c, d, e);
          default: return run.apply(this, arguments as unknown as unknown[]);
        }
      }
      const args = Array.prototype.slice.call(arguments) as unknown[];
      const ctx = commandContext(this, method, call, a, hooks);
      return traceAsync(commandTrace, ctx, () => run.apply(this, args), call.read || call.shape === 'entries' ? summarize(call, a) : undefined);
    };
    Object.defineProperty(traced, 'name', { value: method });
    Object.defineProperty(proto, method, { value: traced, writable: true, configurable: true, enumerable: false });
  }
}

function commandContext<T>(target: T, method: string, call: TracedCall, first: unknown, hooks: TraceHooks<T>): CommandTraceContext {
  const withKeys = hooks.traceKeys(target);
  const ctx: CommandTraceContext = { command: call.command, method, api: 'client', keys: 0 };
  if (call.shape === 'key') {
    ctx.keys = 1;
    Object.assign(ctx, routeOf(target, first, hooks));
    if (withKeys && typeof first === 'string') ctx.key = first;
  } else if (call.shape !== 'servers') {
    const keys = keysOf(call.shape, first);
    ctx.keys = keys?.length ?? 0;
    ctx.batchSize = ctx.keys;
    if (withKeys && keys) ctx.keyList = keys;
  }
  return ctx;
}

function routeOf<T>(target: T, key: unknown, hooks: TraceHooks<T>): ReturnType<typeof targetOf> {
  try {
    return targetOf(hooks.route(target, key));
  } catch {
    return {}; // a bad key or no server: the call rejects with the reason, and the trace records it
  }
}

/**
 * The keys of a multi-key call's first argument. An iterable of entries that is not an array or a
 * Map is not read here (it may be a one-shot generator): its count is filled in when it settles.
 */
function keysOf(shape: Shape, first: unknown): string[] | undefined {
  if (shape === 'keys') return Array.isArray(first) ? first.map(String) : undefined;
  if (first instanceof Map) return [...first.keys()].map(String);
  if (Array.isArray(first)) return first.map((e) => String(Array.isArray(e) ? e[0] : e));
  return undefined;
}

/** The outcome as counts: hits and misses for reads; for `setMulti` of a generator, the key count. */
function summarize(call: TracedCall, first: unknown): (result: unknown, ctx: CommandTraceContext) => void {
  return (result, ctx) => {
    if (call.read === 'one') {
      ctx.hits = result === undefined ? 0 : 1;
      ctx.misses = 1 - ctx.hits;
    } else if (call.read === 'map' || call.read === 'settled') {
      const settled = result as { values: Map<unknown, unknown>; errors: Map<unknown, unknown> };
      const values = call.read === 'map' ? (result as Map<unknown, unknown>) : settled.values;
      // Duplicate keys are asked for once and answered once.
      const unique = Array.isArray(first) ? new Set(first).size : values.size;
      ctx.hits = values.size;
      if (call.read === 'settled') ctx.failures = settled.errors.size;
      ctx.misses = Math.max(0, unique - ctx.hits - (ctx.failures ?? 0));
    } else if (call.shape === 'entries' && ctx.batchSize === 0 && result instanceof Map) {
      ctx.keys = ctx.batchSize = result.size;
    }
  };
}

/** The parts of a compat query and fleet the compat trace reads (see src/compat/memcached.ts `run`). */
export interface CompatQuery {
  /** 2.2.2's command type: `get`, `set`, `delete`, `incr`, `stats cachedump`, ... */
  type: string;
  /** The namespaced key (what compat routes by), when the call has one. */
  key?: string | undefined;
}
export interface CompatFleet {
  nodeFor(full: string): { server: string };
  readonly core: { readonly opts: { readonly traceKeys: boolean } };
}

/**
 * Runs one compat request (`work(fleet)`) inside a `memcluster:command` trace when anyone
 * subscribes. 2.2.2 reports a refused add/replace as an error (`notStored`); the trace counts it as
 * an outcome, as `Client` does (`false`), not as a failure.
 */
export function traceCompat<F extends CompatFleet>(q: CompatQuery, fleet: F, work: (fleet: F) => Promise<unknown>): Promise<unknown> {
  if (!isTraced(commandTrace)) return work(fleet);
  const ctx: CommandTraceContext = { command: q.type, method: q.type, api: 'compat', keys: q.key === undefined ? 0 : 1 };
  if (q.key !== undefined) {
    try {
      Object.assign(ctx, targetOf(fleet.nodeFor(q.key).server));
    } catch {
      // no server for it: the call fails on its own and the trace records that
    }
    if (fleet.core.opts.traceKeys) ctx.key = q.key;
  }
  const read = q.type === 'get' || q.type === 'gets';
  let refused: { error: unknown } | undefined;
  const outcome = (): Promise<unknown> => work(fleet).catch((err: unknown) => {
    if ((err as { notStored?: unknown } | null)?.notStored !== true) throw err;
    refused = { error: err };
    return false;
  });
  const summary = read ? (result: unknown) => { ctx.hits = result === undefined ? 0 : 1; ctx.misses = 1 - ctx.hits; } : undefined;
  return traceAsync(commandTrace, ctx, outcome, summary).then((result) => {
    if (refused) throw refused.error;
    return result;
  });
}

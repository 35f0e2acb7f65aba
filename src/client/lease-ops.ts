/**
 * The calls beside `fetch` that use the meta protocol where the server speaks it and a classic
 * equivalent elsewhere: `invalidate` (mark stale, for `fetch` to serve while one caller reloads) and
 * `incr`/`decr` that create a missing counter. Each is sent in call order, before any await.
 */
import { InvalidArgumentError } from '../errors.js';
import { encodeArith, encodeDelete } from '../protocol/encoder.js';
import { describeValue } from '../text.js';
import type { CallOptions, Scope } from './call.js';
import type { ClientCore, PreparedKey } from './core.js';
import { counterBytes, counterMeta, countedOf, invalidateBytes, invalidatedOf, invalidateMeta } from './fetch-meta.js';
import { counterText, deletedOf, invalidateText } from './fetch-text.js';
import { toExptime } from './ttl.js';

/** Options of `invalidate` (plus the per-call `signal` and `timeoutMs`). */
export interface InvalidateOptions extends CallOptions {
  /** Seconds the stale item is kept for (meta servers), for `fetch` to serve while one caller reloads. @default its remaining TTL */
  staleTtl?: number;
}

/** See `Client.invalidate`. */
export async function invalidate(core: ClientCore, p: PreparedKey, staleTtl: number | undefined, scope: Scope | undefined): Promise<boolean> {
  const node = core.cluster.nodeFor(p.routed);
  // Sent now, in call order (no await first): a later call for the key must not overtake it.
  const meta = node.meta;
  if (meta !== undefined) return meta ? invalidateMeta(core, node, p, staleTtl, scope) : invalidateText(core, node, p, scope);
  const reply = await core.sendEither(node, { bytes: encodeDelete(p.routed), kind: 'delete' }, { bytes: invalidateBytes(p, staleTtl), kind: 'meta' }, p.routed, scope);
  return reply.kind === 'meta' ? invalidatedOf(reply, node.server) : deletedOf(reply, node.server);
}

/** Options of `incr`/`decr` (plus the per-call `signal` and `timeoutMs`). */
export interface CounterOptions extends CallOptions {
  /** Create a missing counter holding this value (returned as is; the delta is not applied). Giving `ttl` alone creates it at 0. */
  initial?: number | bigint;
  /** Seconds a counter created on a miss lives (0: no expiry); an existing counter's TTL is not changed. */
  ttl?: number;
}

const MAX_UINT64 = 2n ** 64n - 1n;

/** What a counter is created with on a miss, or undefined when neither `initial` nor `ttl` was given (plain incr/decr). */
export function createOf(options: CounterOptions | undefined): { initial: string; exptime: number } | undefined {
  if (options === undefined || options === null || (options.initial === undefined && options.ttl === undefined)) return undefined;
  const initial = options.initial ?? 0;
  const ok = (typeof initial === 'number' && Number.isSafeInteger(initial) && initial >= 0) || (typeof initial === 'bigint' && initial >= 0n && initial <= MAX_UINT64);
  if (!ok) throw new InvalidArgumentError(`initial must be an integer from 0 to 2^64-1, got ${describeValue(initial)}`);
  return { initial: String(initial), exptime: toExptime(options.ttl) };
}

/** `incr`/`decr` that create a missing counter: one `ma` round trip on meta servers, `incr` + `add` (+ `incr`) on text. */
export async function counter(core: ClientCore, cmd: 'incr' | 'decr', p: PreparedKey, delta: string, create: { initial: string; exptime: number }, scope: Scope | undefined): Promise<number | false> {
  const node = core.cluster.nodeFor(p.routed);
  // Sent now, in call order (no await first), as `invalidate`.
  const meta = node.meta;
  if (meta !== undefined) return meta ? counterMeta(core, node, p, cmd, delta, create, scope) : counterText(core, node, p, cmd, delta, create, scope);
  const first = await core.sendEither(node, { bytes: encodeArith(cmd, p.routed, delta), kind: 'arith' }, { bytes: counterBytes(p, cmd, delta, create), kind: 'meta' }, p.routed, scope);
  return first.kind === 'meta' ? countedOf(first, node.server) : counterText(core, node, p, cmd, delta, create, scope, first);
}

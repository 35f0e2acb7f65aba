import { now } from '../connection/connection.js';
import { ClientClosedError, InvalidArgumentError, MemclusterError, ProtocolError } from '../errors.js';
import { BatchWriter, goOn, makeSlicer, partialFailure, routeAll, type RetrievalCommand } from './batch.js';
import type { ClientCore } from './core.js';
import type { Scope } from './call.js';
import { validateKey } from '../protocol/keys.js';

export type { RetrievalCommand };

/** Hits by caller key, and per failed key the error (which names its server). */
export interface MultiResult<T> {
  values: Map<string, T>;
  errors: Map<string, MemclusterError>;
}

/** Multi-key retrieval that rejects with `PartialFailureError` (carrying the hits) when any key failed. */
export async function getMulti<T>(core: ClientCore, keys: readonly string[], cmd: RetrievalCommand, exptime: number, scope?: Scope): Promise<Map<string, T>> {
  const { values, errors } = await getMultiSettled<T>(core, keys, cmd, exptime, scope);
  if (errors.size > 0) throw partialFailure(cmd, new Set(keys).size, values, errors);
  return values;
}


/**
 * Validates every key first (bad input rejects before a byte is written), then routes keys to
 * servers in capped batches that go out as they fill, and maps replies back to the caller's keys.
 * Duplicate keys are asked for once. Results are a `Map`, so keys like `__proto__` are plain keys.
 */
export async function getMultiSettled<T>(core: ClientCore, keys: readonly string[], cmd: RetrievalCommand, exptime: number, scope?: Scope): Promise<MultiResult<T>> {
  if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array of strings');
  if (core.closed) throw new ClientClosedError();
  const deadline = scope?.deadline ?? now() + core.opts.timeoutMs;
  const values = new Map<string, T>();
  const errors = new Map<string, MemclusterError>();
  if (keys.length === 0) return { values, errors };
  // With a key prefix, routed key -> caller key (a Map makes duplicates collapse). Without one the
  // routed key is the caller's key: a Set drops duplicates, and hits (which carry the request's own
  // key string, see BatchWriter) map back with no lookup at all.
  const prefixed = core.opts.keyPrefix !== '';
  const callerOf = prefixed ? new Map<string, string>() : undefined;
  const seen = prefixed ? undefined : new Set<string>();
  const routed: string[] = [];
  const bytes: number[] = [];
  // Every key is checked before any batch is sent (bad input writes nothing), in slices.
  const slice = makeSlicer();
  for (let i = 0; i < keys.length; i++) {
    const pause = slice(i);
    if (pause) {
      await pause;
      goOn(scope?.cancel, core.closed, deadline);
    }
    const key = keys[i]!;
    if (seen) {
      // core.prepare without a prefix, minus its per-key object.
      const n = validateKey(key);
      // One hash operation per key: the Set grew only for a key not seen before.
      const before = seen.size;
      seen.add(key);
      if (seen.size === before) continue;
      routed.push(key);
      bytes.push(n);
    } else {
      const p = core.prepare(key);
      if (callerOf!.has(p.routed)) continue;
      callerOf!.set(p.routed, key);
      routed.push(p.routed);
      bytes.push(p.bytes);
    }
  }
  const withCas = cmd === 'gets' || cmd === 'gats';
  const writer = new BatchWriter(cmd, exptime, core.opts, (server, batch, hits, err) => {
    if (!hits) {
      for (const k of batch) errors.set(callerOf ? callerOf.get(k)! : k, err!);
      return;
    }
    for (let j = 0; j < hits.length; j++) {
      const v = hits[j]!;
      const key = callerOf ? callerOf.get(v.key)! : v.key;
      try {
        const value = core.decode(v, key, server);
        if (!withCas) values.set(key, value as T);
        else if (v.cas === undefined) throw new ProtocolError(`${cmd} reply carried no cas`, { server });
        else values.set(key, { value, cas: v.cas } as T);
      } catch (e) {
        errors.set(key, e as MemclusterError);
      }
    }
  }, deadline, scope?.cancel);
  // Routed at once (the usual case), the last batches go out in this same tick: a call made after
  // this one must not be written before it (a getMulti then a delete of one of its keys).
  // Batches fill as keys are routed and the last go out at finish(): a server removed meanwhile stays open for them.
  const hold = core.cluster.hold(writer.deadline);
  try {
    const routing = routeAll(core.cluster, writer, routed, bytes, (k, err) => errors.set(callerOf ? callerOf.get(k)! : k, err));
    if (routing) await routing;
    await writer.finish();
  } finally {
    hold.release();
  }
  scope?.cancel?.check(); // aborted: the call rejects with AbortError, not with per-key failures
  return { values, errors };
}

/** Stores many items pipelined per server. Every item is serialized and checked before any is written. */
export { setMulti, deleteMulti } from './multi-write.js';

/**
 * `fetch` on classic-text servers (old memcached, twemproxy, mcrouter, or `protocol: 'text'`): the
 * same API over a lock taken with `add` on a lock key next to the item. And the text forms of
 * `invalidate` (a plain delete) and of counters created on a miss (`incr`, then `add`).
 *
 * What the lock guarantees, and what it does not (README, "Stampede protection"):
 * - one loader per key in the fleet per `leaseTtl` while the lock item lives (it can be evicted
 *   like any item, or expire under a loader slower than `leaseTtl`; then a second caller loads);
 * - the fill is a plain `set`: a delete or a newer set during the load is not detected and the
 *   loaded value overwrites it;
 * - no early recache and no serve-stale: `recacheWithin` is ignored, an item simply expires and the
 *   next miss takes the lock (callers wait for that one load).
 */
import { createHash } from 'node:crypto';
import createDebug from 'debug';
import { ProtocolError } from '../errors.js';
import { encodeArith, encodeDelete, encodeGet, encodeStore } from '../protocol/encoder.js';
import type { Reply } from '../protocol/types.js';
import type { ServerNode } from '../cluster/server-node.js';
import type { Scope } from './call.js';
import type { ClientCore, PreparedKey } from './core.js';
import { CacheFailure, LeaseWait, type Flight, type Outcome } from './fetch.js';

const log = createDebug('memcluster:fetch');

const LOCK_SUFFIX = '~lease';
const LOCK_VALUE = Buffer.from('1');

/**
 * The lock key of a (routed) key: `<key>~lease`, or `memcluster~lease:<sha1 of key>` when that would
 * pass memcached's 250-byte limit. It is sent to the item's own server, whatever the ring says of it.
 */
export function lockKeyOf(routed: string): string {
  if (Buffer.byteLength(routed) + LOCK_SUFFIX.length <= 250) return routed + LOCK_SUFFIX;
  return `memcluster${LOCK_SUFFIX}:${createHash('sha1').update(routed).digest('hex')}`;
}

/**
 * `get`; on a miss `add <lock> leaseTtl`: the caller whose add stored it loads (after reading the
 * item once more: a winner may have filled and released the lock in between), `set`s the value and
 * deletes the lock. Everyone else re-reads with backoff and retries the add, so a dead winner's lock
 * is taken over once it expires, up to `waitMs`. A loader that throws keeps the lock until `leaseTtl`.
 */
export async function fetchText(f: Flight): Promise<Outcome> {
  const { p, node } = f;
  const lock = lockKeyOf(p.routed);
  const wait = new LeaseWait(f);
  for (;;) {
    const hit = await read(f);
    if (hit) {
      f.stats.hits++;
      return hit;
    }
    const add = encodeStore('add', lock, 0, f.o.leaseTtl, LOCK_VALUE);
    // A lock won by an add whose call already gave up (its STORED read late) is released at once,
    // or every other caller in the fleet would wait on it until leaseTtl.
    const late = (r: Reply): void => {
      if (r.kind === 'status' && r.status === 'STORED') release(f, lock);
    };
    const won = storedOf(await f.ask(() => f.core.send(node, add, 'store', undefined, lock, f.scope(), undefined, late)), node.server);
    if (won) {
      const again = await read(f);
      if (again) {
        release(f, lock);
        f.stats.hits++;
        return again;
      }
      f.stats.leaseWins++;
      log('%s: lock %s won: loading', node.server, lock);
      const { value, item } = await f.load();
      try {
        const set = encodeStore('set', p.routed, item.flags, f.exptime(), item.data);
        storedOf(await f.core.send(node, set, 'store', undefined, p.routed, f.scope()), node.server);
      } catch (err) {
        f.stats.fillFailures++;
        log('%s: fill of %s failed: %s', node.server, p.key, (err as Error)?.message ?? err);
      }
      release(f, lock);
      return { value };
    }
    if (!(await wait.next())) return { timedOut: true };
  }
}

/** A classic `get` of the item: `{ value }` on a hit (any value, even a falsy one), undefined on a miss. */
async function read(f: Flight): Promise<{ value: unknown } | undefined> {
  const { p, node } = f;
  const reply = await f.ask(() => f.core.send(node, encodeGet('get', [p.routed]), 'retrieval', undefined, p.routed, f.scope()));
  if (reply.kind !== 'values' || reply.values.length > 1 || (reply.values[0] && reply.values[0].key !== p.routed)) {
    throw new CacheFailure(new ProtocolError(`unexpected reply to get: ${reply.kind}`, { server: node.server }));
  }
  const v = reply.values[0];
  return v && { value: f.core.decode(v, p.key, node.server) };
}

/** Deletes the lock so the next miss need not wait for it to expire; best effort (it expires anyway). */
function release(f: Flight, lock: string): void {
  f.core.send(f.node, encodeDelete(lock), 'delete', undefined, lock, f.scope()).catch((err: unknown) => {
    log('%s: releasing lock %s failed (it expires after leaseTtl): %s', f.node.server, lock, (err as Error)?.message ?? err);
  });
}

function storedOf(reply: Reply, server: string): boolean {
  if (reply.kind === 'status' && reply.status === 'STORED') return true;
  if (reply.kind === 'status' && reply.status === 'NOT_STORED') return false;
  throw new CacheFailure(new ProtocolError(`unexpected reply to a store: ${reply.kind === 'status' ? reply.status : reply.kind}`, { server }));
}

/**
 * Counters created on a miss without meta: `incr`; on NOT_FOUND `add` the initial value with the
 * TTL (returned as is, the delta not applied, as `ma` does); if another caller's `add` won that race,
 * `incr` again. Three round trips at worst, and not atomic: the counter may be deleted in between,
 * in which case this tries again (at most 3 times) and then answers `false`.
 */
export async function counterText(
  core: ClientCore, node: ServerNode, p: PreparedKey, cmd: 'incr' | 'decr', delta: string, create: { initial: string; exptime: number } | undefined, scope: Scope | undefined,
  /** The reply to the first `incr`, when the caller sent it (see `counter` in fetch.ts). */
  first?: Reply,
): Promise<number | false> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const reply = attempt === 0 && first ? first : await core.send(node, encodeArith(cmd, p.routed, delta), 'arith', undefined, p.routed, scope);
    if (reply.kind === 'number') return Number(reply.value);
    if (reply.kind !== 'status' || reply.status !== 'NOT_FOUND') throw new ProtocolError(`unexpected reply to ${cmd}: ${reply.kind}`, { server: node.server });
    if (!create) return false;
    // Flags 0 and the bare digits: the item `ma N J` would have created.
    const add = encodeStore('add', p.routed, 0, create.exptime, Buffer.from(create.initial, 'latin1'));
    const stored = await core.send(node, add, 'store', undefined, p.routed, scope);
    if (stored.kind === 'status' && stored.status === 'STORED') return Number(create.initial);
    if (stored.kind !== 'status' || stored.status !== 'NOT_STORED') throw new ProtocolError(`unexpected reply to add: ${stored.kind}`, { server: node.server });
  }
  return false;
}

/** `invalidate` without meta: a plain `delete` (`true` when deleted, `false` when absent); nothing stale is served. */
export async function invalidateText(core: ClientCore, node: ServerNode, p: PreparedKey, scope: Scope | undefined): Promise<boolean> {
  return deletedOf(await core.send(node, encodeDelete(p.routed), 'delete', undefined, p.routed, scope), node.server);
}

/** `invalidateText`'s answer from the `delete` reply. */
export function deletedOf(reply: Reply, server: string): boolean {
  if (reply.kind === 'status' && reply.status === 'DELETED') return true;
  if (reply.kind === 'status' && reply.status === 'NOT_FOUND') return false;
  throw new ProtocolError(`unexpected reply to delete: ${reply.kind}`, { server });
}

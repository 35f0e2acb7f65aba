/**
 * `fetch` on servers that speak meta: leases (`mg ... N`), early recache (`R`) and serve-stale
 * (`X` after `md ... I`), fills conditional on the cas the lease came with. Plus the meta forms of
 * `invalidate` (`md I T`) and of counters created on a miss (`ma N J D`).
 * See shared/meta-protocol.md for the replies these rely on (checked on memcached 1.6.18).
 */
import createDebug from 'debug';
import { ProtocolError } from '../errors.js';
import { encodeMetaArith, encodeMetaDelete, encodeMetaGet, encodeMetaSet } from '../protocol/meta-encoder.js';
import type { Scope } from './call.js';
import type { ClientCore, PreparedKey } from './core.js';
import { CacheFailure, LeaseWait, type Flight, type Outcome } from './fetch.js';
import { handBackIfWon, metaRequest } from './meta.js';
import type { MetaReply, Reply } from '../protocol/types.js';
import { now } from '../connection/connection.js';
import type { ServerNode } from '../cluster/server-node.js';

const log = createDebug('memcluster:fetch');

/**
 * `mg <key> v f c t k N<leaseTtl> [R<recacheWithin>]`, and what its reply says:
 * - a value (no `W`): a hit, returned (with `Z` or `X` too: someone else refreshes it);
 * - a value with `W` (stale `X`, or remaining TTL under `R`): returned at once, and this client
 *   reloads it in the background, exactly once in the fleet;
 * - an empty placeholder with `W`: this caller won the lease: load, fill with `C<cas>`, return;
 * - an empty placeholder with `Z`: someone else is loading: ask again with backoff (with `N`, so a
 *   dead winner's placeholder that expired after `leaseTtl` is won by one of the waiters).
 * A zero-byte item carrying `W` or `Z` is read as a placeholder (the protocol cannot tell them apart).
 */
export async function fetchMeta(f: Flight): Promise<Outcome> {
  const { p, node } = f;
  const get = encodeMetaGet(p.routed, { value: true, clientFlags: true, cas: true, ttl: true, returnKey: true, vivify: f.o.leaseTtl, recache: f.o.recacheWithin });
  const wait = new LeaseWait(f);
  const late = (r: Reply): void => giveBackLate(node, r, p.routed, f.o.timeoutMs);
  for (;;) {
    const reply = await f.ask(() => metaRequest(f.core, node, get, p.routed, f.scope(), false, late));
    if (reply.code !== 'VA' || reply.data === undefined) {
      throw new CacheFailure(new ProtocolError(`mg with a lease answered ${reply.code}, not a value or a placeholder`, { server: node.server }));
    }
    const flags = reply.flags;
    const placeholder = reply.data.length === 0 && (flags.win || flags.otherWon);
    if (!placeholder) {
      let value: unknown;
      try {
        value = f.core.decode({ key: p.routed, flags: flags.clientFlags ?? 0, data: reply.data, cas: flags.cas }, p.key, node.server);
      } catch (err) {
        // This read holds the item's only refresh right (stale, or near expiry): an item it cannot
        // serve (over maxValueBytes, undecodable) is still reloaded, or no one in the fleet would.
        if (flags.win) refresh(f, flags.cas, flags.stale ? 'stale' : 'near expiry');
        throw err;
      }
      f.stats.hits++;
      if (flags.win) refresh(f, flags.cas, flags.stale ? 'stale' : 'near expiry');
      return { value };
    }
    if (flags.win) {
      f.stats.leaseWins++;
      log('%s: lease won for %s: loading', node.server, p.key);
      const { value, item } = await f.load(); // a throw leaves the placeholder: it heals after leaseTtl
      await fill(f, item, flags.cas);
      return { value };
    }
    if (!(await wait.next())) return { timedOut: true };
  }
}

/**
 * The reply to a lease `mg` that came after the call gave up (it timed out: the flight fell back to
 * the loader, and stores nothing). A lease it won would leave a placeholder nobody fills, and every
 * other caller in the fleet would wait for it until `leaseTtl`: it is deleted (`md <key> C<cas>`,
 * only if still that placeholder), so the next caller wins at once. A stale item's refresh right
 * goes back as a plain read gives it back (`handBackIfWon`).
 */
function giveBackLate(node: ServerNode, r: Reply, routed: string, timeoutMs: number): void {
  if (r.kind !== 'meta' || r.code !== 'VA' || r.data === undefined || !r.flags.win) return;
  if (r.data.length > 0) {
    void handBackIfWon(node, r, routed, timeoutMs);
    return;
  }
  const cas = r.flags.cas;
  if (cas === undefined) return;
  log('%s: lease for %s won after its call timed out: releasing the placeholder', node.server, routed);
  node.submit({
    bytes: encodeMetaDelete(routed, { compareCas: cas }), kind: 'meta', deadline: now() + timeoutMs, key: routed,
    resolve: noop, reject: noop,
  });
}

const noop = (): void => {};

/**
 * `ms <key> T<ttl> F<flags> C<cas>`: stores only over the placeholder (or stale item) the lease came
 * with. A delete, an invalidation or a newer set during the load makes it `NF`/`EX`: the value is
 * still returned to the caller, just not stored. A cache-side failure here is logged and counted.
 */
async function fill(f: Flight, item: { data: Buffer; flags: number }, cas: string | undefined): Promise<void> {
  const { p, node } = f;
  if (cas === undefined) {
    f.stats.fillFailures++;
    log('%s: lease reply for %s carried no cas: not filling', node.server, p.key);
    return;
  }
  try {
    const bytes = encodeMetaSet(p.routed, item.data, { ttl: f.exptime(), clientFlags: item.flags, compareCas: cas });
    const reply = await metaRequest(f.core, node, bytes, p.routed, f.scope());
    if (reply.code === 'HD') return;
    f.stats.fillsVoided++;
    log('%s: fill of %s not stored (%s: deleted, invalidated or replaced during the load)', node.server, p.key, reply.code);
  } catch (err) {
    f.stats.fillFailures++;
    log('%s: fill of %s failed: %s', node.server, p.key, (err as Error)?.message ?? err);
  }
}

/** This client won the refresh of a stale or nearly expired item: reload and fill in the background, never rejecting. */
function refresh(f: Flight, cas: string | undefined, why: string): void {
  f.stats.refreshes++;
  log('%s: %s item %s: reloading in the background', f.node.server, why, f.p.key);
  void (async () => {
    const { item } = await f.load();
    await fill(f, item, cas);
  })().catch((err: unknown) => f.refreshFailed(err));
}

/** `md <key> I [T<staleTtl>]`: `true` when the item was marked stale, `false` when it was absent. */
export async function invalidateMeta(core: ClientCore, node: ServerNode, p: PreparedKey, staleTtl: number | undefined, scope: Scope | undefined): Promise<boolean> {
  return invalidatedOf(await metaRequest(core, node, invalidateBytes(p, staleTtl), p.routed, scope), node.server);
}

/** The `md <key> I [T<staleTtl>]` request of `invalidateMeta`. */
export const invalidateBytes = (p: PreparedKey, staleTtl: number | undefined): string => encodeMetaDelete(p.routed, { invalidate: true, ttl: staleTtl });

/** `invalidateMeta`'s answer from the `md` reply. */
export function invalidatedOf(reply: MetaReply, server: string): boolean {
  if (reply.code === 'HD') return true;
  if (reply.code === 'NF') return false;
  throw new ProtocolError(`unexpected reply to md: ${reply.code}`, { server });
}

/**
 * `ma <key> M<I|D> D<delta> [N<ttl> J<initial>] v`: the new value; on a miss with `create`, the
 * counter is created holding `initial` (the delta is not applied) with `ttl`, in the same round trip.
 * `false` when absent and not created.
 */
export async function counterMeta(
  core: ClientCore, node: ServerNode, p: PreparedKey, cmd: 'incr' | 'decr', delta: string, create: { initial: string; exptime: number } | undefined, scope: Scope | undefined,
): Promise<number | false> {
  return countedOf(await metaRequest(core, node, counterBytes(p, cmd, delta, create), p.routed, scope), node.server);
}

/** The `ma` request of `counterMeta`. */
export function counterBytes(p: PreparedKey, cmd: 'incr' | 'decr', delta: string, create: { initial: string; exptime: number } | undefined): string {
  return encodeMetaArith(p.routed, { mode: cmd === 'incr' ? 'I' : 'D', delta, vivify: create?.exptime, initial: create?.initial, value: true });
}

/** `counterMeta`'s answer from the `ma` reply. */
export function countedOf(reply: MetaReply, server: string): number | false {
  if (reply.code === 'VA' && reply.data !== undefined) return Number(reply.data.toString('latin1'));
  if (reply.code === 'NF') return false;
  throw new ProtocolError(`unexpected reply to ma: ${reply.code}`, { server });
}

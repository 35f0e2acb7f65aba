/**
 * Counts of the keys a socket has in flight, by a cheap hash, for all requests and for writes
 * only: `Connection#carries` scans its pending requests only when a count says a key may be among
 * them, so deep pipelines on several sockets do not cost a scan per request. Kept only while the
 * socket's server has several sockets to choose from (see `Connection#trackKeys`): with one there
 * is no choice to make, and requests pay nothing for it.
 */
import type { Connection } from './connection.js';
import type { Outgoing } from './request.js';

const KEY_BUCKETS = 8192;
const EMPTY = new Uint32Array(0);

/** A cheap hash of a key into KEY_BUCKETS (its length and last 12 characters: keys differ at the end). */
function bucketOf(key: string): number {
  let h = key.length;
  for (let i = Math.max(0, key.length - 12); i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return (h ^ (h >>> 10)) & (KEY_BUCKETS - 1);
}

/**
 * The buckets of a multi-key request's keys, computed once per request (its keys array), not per
 * socket asked and per count: a 100-key batch checked against 8 busy sockets would hash 800 keys.
 */
const bucketCache = new WeakMap<readonly string[], Uint16Array>();

function bucketsOf(keys: readonly string[]): Uint16Array {
  let b = bucketCache.get(keys);
  if (b === undefined) {
    b = new Uint16Array(keys.length);
    for (let i = 0; i < keys.length; i++) b[i] = bucketOf(keys[i]!);
    bucketCache.set(keys, b);
  }
  return b;
}

export class KeysInFlight {
  /** False: nothing is counted, and `mayCarry` answers "maybe" for every key. */
  on = false;
  // 32-bit counts (a deep pipeline can hold over 65,535 keys of one bucket), allocated the first
  // time counting starts: a socket that is its server's only one never needs them.
  private all = EMPTY;
  private writes = EMPTY;
  /** Keys counted in `all` / `writes`: none in flight answers "no" without looking at a bucket. */
  private allTotal = 0;
  private writeTotal = 0;

  /** Starts (counting `inFlight`, what is pending now) or stops counting. */
  track(on: boolean, inFlight: Iterable<Outgoing>): void {
    if (on === this.on) return;
    this.on = on;
    if (on && this.all === EMPTY) {
      this.all = new Uint32Array(KEY_BUCKETS);
      this.writes = new Uint32Array(KEY_BUCKETS);
    } else {
      this.all.fill(0);
      this.writes.fill(0);
    }
    this.allTotal = 0;
    this.writeTotal = 0;
    if (on) for (const out of inFlight) this.count(out, 1);
  }

  /** Adds (`by` 1) or removes (-1) a request's keys, while counting. */
  count(out: Outgoing, by: 1 | -1): void {
    if (!this.on || (out.key === undefined && out.keys === undefined)) return;
    const write = !out.read;
    if (out.key !== undefined) {
      const b = bucketOf(out.key);
      this.all[b]! += by;
      this.allTotal += by;
      if (write) {
        this.writes[b]! += by;
        this.writeTotal += by;
      }
      return;
    }
    const buckets = bucketsOf(out.keys!);
    const all = this.all;
    for (let i = 0; i < buckets.length; i++) all[buckets[i]!]! += by;
    this.allTotal += by * buckets.length;
    if (write) {
      const writes = this.writes;
      for (let i = 0; i < buckets.length; i++) writes[buckets[i]!]! += by;
      this.writeTotal += by * buckets.length;
    }
  }

  /** False only when no request for `key` (or any of `keys`) can be in flight; true means "scan to know". */
  mayCarry(key: string | undefined, keys: readonly string[] | undefined, writesOnly: boolean): boolean {
    if (!this.on) return true;
    if ((writesOnly ? this.writeTotal : this.allTotal) === 0) return false;
    const counts = writesOnly ? this.writes : this.all;
    if (key !== undefined) return counts[bucketOf(key)] !== 0;
    if (keys !== undefined) {
      const buckets = bucketsOf(keys);
      for (let i = 0; i < buckets.length; i++) if (counts[buckets[i]!] !== 0) return true;
      return false;
    }
    return true;
  }
}

/** Whether a pending request is for `key` (or one of `keys`); with `writesOnly`, only requests that change items count. */
export function anyCarries(pending: Iterable<{ out: Outgoing }>, key: string | undefined, keys: readonly string[] | undefined, writesOnly: boolean): boolean {
  for (const p of pending) {
    const o = p.out;
    if (writesOnly && o.read) continue;
    if (key !== undefined) {
      if (o.key === key || o.keys?.includes(key)) return true;
    } else if (keys !== undefined) {
      for (const k of keys) if (o.key === k || o.keys?.includes(k)) return true;
    }
  }
  return false;
}

/**
 * The socket for the next request: the first with room, in borrow order (a quiet moment uses one
 * socket, and requests stay in order on it). When several sockets are busy, a request whose key
 * (or one of whose keys) is still in flight on another socket goes on that one, so one key's
 * requests run in call order, and waits while that one is full (a hot key must not pile up past
 * `maxPipeline` on one socket); that scan costs nothing while one socket suffices.
 * `undefined`: no socket can take it now (none has room, its keys are in flight on two sockets, or
 * the socket carrying them is full).
 */
export function pickSocket(conns: readonly Connection[], req: Outgoing, maxPipeline: number): Connection | undefined {
  let first: Connection | undefined;
  for (const c of conns) {
    if (c.alive && !c.congested && c.inFlight < maxPipeline) {
      first = c;
      break;
    }
  }
  if (conns.length < 2 || (req.key === undefined && req.keys === undefined)) return first;
  // Reads need only follow writes of their keys; writes follow everything for their key.
  const writesOnly = req.read === true;
  let carrier: Connection | undefined;
  for (const c of conns) {
    if (!c.alive || c.inFlight === 0 || !c.carries(req.key, req.keys, writesOnly)) continue;
    // Its keys are in flight on two sockets: no socket keeps call order for all; wait for a reply.
    if (carrier !== undefined && carrier !== c) return undefined;
    carrier = c;
  }
  if (carrier === undefined) return first;
  return carrier.congested || carrier.inFlight >= maxPipeline ? undefined : carrier;
}

/**
 * Whether a request that changes `key` is in flight while several sockets are busy: a read of it
 * must then go alone, on that socket (see `pickSocket`), rather than in a shared line that may go elsewhere.
 */
export function writingKey(conns: readonly Connection[], key: string): boolean {
  if (conns.length < 2) return false;
  for (const c of conns) if (c.alive && c.inFlight > 0 && c.carries(key, undefined, true)) return true;
  return false;
}

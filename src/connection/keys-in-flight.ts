/**
 * Counts of the keys a socket has in flight, by a cheap hash, for all requests and for writes
 * only: `Connection#carries` scans its pending requests only when a count says a key may be among
 * them, so deep pipelines on several sockets do not cost a scan per request. Kept only while the
 * socket's server has several sockets to choose from (see `Connection#trackKeys`): with one there
 * is no choice to make, and requests pay nothing for it.
 */
import type { Outgoing } from './request.js';

const KEY_BUCKETS = 8192;

/** A cheap hash of a key into KEY_BUCKETS (its length and last 12 characters: keys differ at the end). */
function bucketOf(key: string): number {
  let h = key.length;
  for (let i = Math.max(0, key.length - 12); i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return (h ^ (h >>> 10)) & (KEY_BUCKETS - 1);
}

export class KeysInFlight {
  /** False: nothing is counted, and `mayCarry` answers "maybe" for every key. */
  on = false;
  private readonly all = new Uint16Array(KEY_BUCKETS);
  private readonly writes = new Uint16Array(KEY_BUCKETS);

  /** Starts (counting `inFlight`, what is pending now) or stops counting. */
  track(on: boolean, inFlight: Iterable<Outgoing>): void {
    if (on === this.on) return;
    this.on = on;
    this.all.fill(0);
    this.writes.fill(0);
    if (on) for (const out of inFlight) this.count(out, 1);
  }

  /** Adds (`by` 1) or removes (-1) a request's keys, while counting. */
  count(out: Outgoing, by: 1 | -1): void {
    if (!this.on || (out.key === undefined && out.keys === undefined)) return;
    const write = !out.read;
    if (out.key !== undefined) {
      const b = bucketOf(out.key);
      this.all[b]! += by;
      if (write) this.writes[b]! += by;
      return;
    }
    for (const k of out.keys!) {
      const b = bucketOf(k);
      this.all[b]! += by;
      if (write) this.writes[b]! += by;
    }
  }

  /** False only when no request for `key` (or any of `keys`) can be in flight; true means "scan to know". */
  mayCarry(key: string | undefined, keys: readonly string[] | undefined, writesOnly: boolean): boolean {
    if (!this.on) return true;
    const counts = writesOnly ? this.writes : this.all;
    if (key !== undefined) return counts[bucketOf(key)] !== 0;
    if (keys !== undefined) {
      for (const k of keys) if (counts[bucketOf(k)] !== 0) return true;
      return false;
    }
    return true;
  }
}

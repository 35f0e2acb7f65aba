import { ClientErrorReply, ConnectionError, ProtocolError, ServerErrorReply, type MemclusterError } from '../errors.js';
import { encodeMetaGetBatchValidated, type MetaGetFlags } from '../protocol/meta-encoder.js';
import { joinWire, type MetaBatchError, type MetaReply, type Reply, type ValueEntry, type Wire } from '../protocol/types.js';
import { serverText } from '../text.js';
import { entryOf, handBackIfWon, readFlags } from './meta.js';
import type { ServerNode } from '../cluster/server-node.js';
import type { WireItem } from './values.js';

/**
 * Multi-key requests on the meta protocol: one short line per key, quiet (`q`: only hits and
 * failures answer), fenced by `mn`, whose `MN` says every request before it was answered. No line
 * is long, so memcached's 2 KB line rule never applies; the batch caps still bound the work one
 * request puts on a socket.
 *
 * Quiet error lines carry no key and no opaque. Such an error belongs to one of the requests
 * between the replies around it, so those requests fail with it; they are never reported as misses
 * or successes.
 */

const PLAIN_READ = readFlags(false, undefined, true);
const CAS_READ = readFlags(true, undefined, true);

/**
 * A quiet `mg` per key (value, flags, key; cas and touch as asked), then `mn`. The keys are routed
 * keys that passed `validateKey` when the call began (they are not checked again per batch).
 */
export function encodeReadBatch(keys: readonly string[], withCas: boolean, touch: number | undefined): string {
  const flags: MetaGetFlags = touch !== undefined ? readFlags(withCas, touch, true) : withCas ? CAS_READ : PLAIN_READ;
  return encodeMetaGetBatchValidated(keys, flags);
}

/**
 * Every reply must name a key of the batch, in request order (memcached answers in order). Plain
 * hits (`hits`) were matched to the keys by the parser already; this checks the other replies.
 */
export function verifyReadBatch(reply: Reply, keys: readonly string[], server: string): MemclusterError | undefined {
  if (reply.kind !== 'meta_batch') return new ProtocolError(`expected a meta batch reply, got ${reply.kind}`, { server });
  let i = 0;
  for (const r of reply.replies) {
    const key = r.flags.key;
    while (i < keys.length && keys[i] !== key) i++;
    if (i === keys.length) return new ProtocolError(`meta batch reply for key ${JSON.stringify(String(key).slice(0, 60))} that was not requested (or out of order)`, { server });
    i++;
  }
  return undefined;
}

/** The outcome of a read batch: hits (placeholders and stale items left out, as misses) and the keys an error line took. */
export interface ReadBatchResult {
  values: ValueEntry[];
  failed: { keys: string[]; err: MemclusterError } | undefined;
  /** Refresh rights of stale items this read won and is handing back (settle the read after them). */
  handingBack: Promise<void>[] | undefined;
}

export function readBatchResult(reply: Extract<Reply, { kind: 'meta_batch' }>, keys: readonly string[], server: string, node?: ServerNode, timeoutMs = 1000): ReadBatchResult {
  // Plain hits come as value entries with the request's own key strings, in key order: the common
  // case is those alone. Other replies (leases, stale items, recache wins) are turned into entries here.
  if (reply.replies.length === 0 && reply.errors.length === 0) return { values: reply.hits, failed: undefined, handingBack: undefined };
  let values: ValueEntry[] = [];
  // Replies are in request order (verifyReadBatch checked it): each hit gets the request's own key
  // string, so callers match it by identity instead of hashing the string parsed from the reply.
  let i = 0;
  let handingBack: Promise<void>[] | undefined;
  for (const r of reply.replies) {
    const parsed = r.flags.key!;
    while (i < keys.length && keys[i] !== parsed) i++;
    const key = i < keys.length ? keys[i++]! : parsed;
    if (r.code !== 'VA') continue;
    if (node && r.flags.stale && r.flags.win) (handingBack ??= []).push(handBackIfWon(node, r, key, timeoutMs)!);
    const v = entryOf(r, key);
    if (v) {
      v.key = key;
      values.push(v);
    }
  }
  const at = new Map<string, number>();
  keys.forEach((k, i) => at.set(k, i));
  if (reply.hits.length > 0) values = values.length === 0 ? reply.hits : [...reply.hits, ...values].sort((a, b) => at.get(a.key)! - at.get(b.key)!);
  if (reply.errors.length === 0) return { values, failed: undefined, handingBack };
  // Entries arrived in key order: the positions of hits and replies, merged, are the arrival order.
  const arrived = [...reply.hits.map((h) => at.get(h.key)!), ...reply.replies.map((r) => at.get(r.flags.key!) ?? -1)].sort((a, b) => a - b);
  const taken = blamed(arrived, reply.errors, keys.length);
  return { values, failed: { keys: [...taken.set].map((i) => keys[i]!), err: taken.err(server) }, handingBack };
}

/** One key's write in a meta batch: `ms` with its item, or `md`. */
export interface MetaWrite {
  routed: string;
  item: WireItem | undefined;
}

/**
 * The largest item sent quiet. A memcached item limit (`-I`) is at least 1 KB, and a 250-byte key
 * and the item header fit beside 512 bytes of data: a quiet `ms` can only fail for lack of memory.
 * A larger item may be over the server's limit (`SERVER_ERROR object too large for cache`), so it
 * asks for its `HD`: an error line where its reply should be is then its own (its reply costs
 * nothing next to its data), and the quiet neighbours around it are not blamed.
 */
export const QUIET_MAX_BYTES = 512;

/** Whether a write of the batch is sent without `q` (it always answers, see `QUIET_MAX_BYTES`). */
const answers = (w: MetaWrite): boolean => w.item !== undefined && w.item.bytes > QUIET_MAX_BYTES;

/**
 * `ms` (set, TTL, client flags) or quiet `md` per key, each tagged with its position (`O<i>`), then
 * `mn`: the bytes `encodeMetaSet`/`encodeMetaDelete` give for `{ clientFlags, ttl, opaque, quiet }`,
 * built here for keys that passed `validateKey` when the call began and items `encodeItem` checked
 * (nothing is re-checked per key). Items up to `QUIET_MAX_BYTES` go quiet. Text items make one
 * string; Buffer items go as they are.
 */
export function encodeWriteBatch(writes: readonly MetaWrite[], exptime: number): Wire {
  const parts: Wire[] = [];
  let text = '';
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!;
    const item = w.item;
    if (item === undefined) {
      text += `md ${w.routed} O${i} q\r\n`;
      continue;
    }
    const head = `ms ${w.routed} ${item.bytes} F${item.flags} T${exptime} O${i}${item.bytes > QUIET_MAX_BYTES ? '' : ' q'}\r\n`;
    if (typeof item.data === 'string') {
      text += `${head}${item.data}\r\n`;
      continue;
    }
    parts.push(text + head, item.data);
    text = '\r\n';
  }
  text += 'mn\r\n';
  if (parts.length === 0) return text;
  parts.push(text);
  return joinWire(parts);
}

/**
 * Every reply must carry the opaque of a request of the batch, in increasing order. A batch of `ms`
 * (data blocks) that drew `CLIENT_ERROR`/`ERROR` lines may have had a data block run as a command
 * (memcached answers a bad data chunk with both), so its socket cannot be trusted: that is an error
 * here too, which ends the socket.
 */
export function verifyWriteBatch(reply: Reply, n: number, server: string, withData: boolean): MemclusterError | undefined {
  if (reply.kind !== 'meta_batch') return new ProtocolError(`expected a meta batch reply, got ${reply.kind}`, { server });
  if (withData) {
    const bad = reply.errors.find((e) => e.kind !== 'server_error');
    if (bad) return new ConnectionError(`connection dropped after an error line inside a batch of meta sets: ${bad.kind === 'error' ? 'ERROR' : 'CLIENT_ERROR'} ${serverText(bad.message)}`, { server });
  }
  let last = -1;
  for (const r of reply.replies) {
    const i = opaqueIndex(r);
    if (!(i > last && i < n)) return new ProtocolError(`meta batch reply with opaque ${JSON.stringify(r.flags.opaque)} out of order or not requested`, { server });
    last = i;
  }
  return undefined;
}

/**
 * Per request of a write batch (`writes`, as `encodeWriteBatch` sent them): `true` (`HD`, or
 * silence: stored / deleted), `false` (`NS`, `EX`, `NF`: not stored, or absent for a delete), or
 * the error line that took it.
 */
export function writeBatchResult(reply: Extract<Reply, { kind: 'meta_batch' }>, writes: readonly MetaWrite[], server: string): Array<boolean | MemclusterError> {
  const n = writes.length;
  const out: Array<boolean | MemclusterError> = new Array<boolean | MemclusterError>(n).fill(true);
  for (const r of reply.replies) out[opaqueIndex(r)] = r.code === 'HD';
  if (reply.errors.length > 0) {
    const taken = blamed(reply.replies.map(opaqueIndex), reply.errors, n, (i) => answers(writes[i]!));
    const err = taken.err(server);
    for (const i of taken.set) out[i] = err;
  }
  return out;
}

function opaqueIndex(r: MetaReply): number {
  const o = r.flags.opaque;
  return o !== undefined && /^\d{1,9}$/.test(o) ? Number(o) : -1;
}

/**
 * The requests an error line may belong to (`arrived`: the request positions of the entries, in
 * arrival order): those after the entry before it and before the entry after it, excluding requests
 * that answered. (Quiet successes are silent, so which of them failed cannot be known; all of them
 * are reported failed rather than guessed.) A request sent without `q` (`loud`) always answers: if
 * such requests left unanswered in a stretch are as many as the error lines in it, the errors are
 * theirs, and the quiet requests there succeeded.
 */
function blamed(arrived: readonly number[], errors: readonly MetaBatchError[], n: number, loud?: (i: number) => boolean): { set: Set<number>; err: (server: string) => MemclusterError } {
  const answered = new Set<number>(arrived);
  const set = new Set<number>();
  // Error lines per stretch between two entries (by the number of entries before them).
  const perStretch = new Map<number, number>();
  for (const e of errors) perStretch.set(e.index, (perStretch.get(e.index) ?? 0) + 1);
  for (const [index, count] of perStretch) {
    const lo = index > 0 ? arrived[index - 1]! : -1;
    const hi = index < arrived.length ? arrived[index]! : n;
    const unanswered: number[] = [];
    for (let i = lo + 1; i < hi; i++) if (!answered.has(i)) unanswered.push(i);
    const unansweredLoud = loud ? unanswered.filter(loud) : [];
    for (const i of unansweredLoud.length === count ? unansweredLoud : unanswered) set.add(i);
  }
  const first = errors[0]!;
  const text = `${first.kind === 'server_error' ? 'SERVER_ERROR' : first.kind === 'client_error' ? 'CLIENT_ERROR' : 'ERROR'}${first.message ? ' ' + serverText(first.message) : ''}`;
  const err = (server: string): MemclusterError => (first.kind === 'server_error'
    ? new ServerErrorReply(`${text} (inside a quiet meta batch)`, { server })
    : new ClientErrorReply(`${text} (inside a quiet meta batch)`, { server }));
  return { set, err };
}

/**
 * Single-key commands as the client sends them: a retrieval other than the plain `get` (which
 * `ClientCore` serves on its fast path), the request bytes of a store (every check made before a
 * byte exists), the arguments of `cas` and counters, and what a status reply means.
 */
import { InvalidArgumentError, ProtocolError } from '../errors.js';
import { encodeGat, encodeGet, encodeStore } from '../protocol/encoder.js';
import { encodeMetaGet } from '../protocol/meta-encoder.js';
import type { MetaReply, Reply, StoreCommand, ValueEntry, Wire } from '../protocol/types.js';
import { describeValue } from '../text.js';
import type { ServerNode } from '../cluster/server-node.js';
import type { CallOptions, Scope } from './call.js';
import { verifyRetrieval, type ClientCore } from './core.js';
import { entryOf, handBackIfWon, metaRequest, readFlags, type RequestForm } from './meta.js';
import type { RetrievalCommand } from './batch.js';
import { toExptime } from './ttl.js';
import { defaultSerializer, encodeItem, FLAGS, textBytes, type WireItem } from './values.js';

/** Options of a store command (plus the per-call `signal` and `timeoutMs`). */
export interface StoreOptions extends CallOptions {
  /** Seconds until the item expires (0: never). Over 30 days is sent as an absolute time. @default 0 */
  ttl?: number;
}

/** A value with its cas token (from `gets`/`gats`). */
export interface CasValue<T> {
  value: T;
  /** The item's cas unique (a uint64 as a decimal string); pass it to `cas()`. */
  cas: string;
}

const MAX_UINT64 = 2n ** 64n - 1n;

/** `gets`/`gat`/`gats` of one key: the value (with its cas), or `undefined` on a miss. */
export async function retrieveOne<T>(core: ClientCore, key: string, cmd: RetrievalCommand, exptime: number, scope: Scope | undefined): Promise<T | CasValue<T> | undefined> {
  const p = core.prepare(key);
  const node = core.cluster.nodeFor(p.routed);
  const withCas = cmd === 'gets' || cmd === 'gats';
  const touch = cmd === 'gat' || cmd === 'gats';
  let v: ValueEntry | undefined;
  const meta = node.meta;
  if (meta === true) {
    v = await metaRead(core, node, p.routed, withCas, touch ? exptime : undefined, scope, cmd === 'gets');
  } else {
    const text: RequestForm = {
      bytes: touch ? encodeGat(cmd, exptime, [p.routed]) : encodeGet(cmd as 'get' | 'gets', [p.routed]),
      kind: 'retrieval',
      verify: (r) => verifyRetrieval(r, [p.routed], node.server, withCas),
    };
    // Not known yet (the first calls to a server): the form is chosen when the request is written.
    const reply = meta === false
      ? await core.send(node, text.bytes, text.kind, text.verify, p.routed, scope, cmd === 'gets')
      : await core.sendEither(node, text, { bytes: encodeMetaGet(p.routed, readFlags(withCas, touch ? exptime : undefined, false)), kind: 'meta' }, p.routed, scope, cmd === 'gets');
    v = reply.kind === 'meta' ? await metaEntry(core, node, reply, p.routed) : core.single(reply, p.routed, node.server);
  }
  if (!v) return undefined;
  const value = core.decode(v, key, node.server) as T;
  if (!withCas) return value;
  if (v.cas === undefined) throw new ProtocolError(`${cmd} reply carried no cas`, { server: node.server });
  return { value, cas: v.cas };
}

/** One `mg` read on a meta server, as a classic retrieval sees it (see `entryOf`, `handBackIfWon`). */
async function metaRead(core: ClientCore, node: ServerNode, routed: string, withCas: boolean, touch: number | undefined, scope: Scope | undefined, read: boolean): Promise<ValueEntry | undefined> {
  const r = await metaRequest(core, node, encodeMetaGet(routed, readFlags(withCas, touch, false)), routed, scope, read);
  return metaEntry(core, node, r, routed);
}

/** A meta read's item as a classic retrieval sees it, once a refresh right it won went back. */
async function metaEntry(core: ClientCore, node: ServerNode, r: MetaReply, routed: string): Promise<ValueEntry | undefined> {
  await handBackIfWon(node, r, routed, core.opts.timeoutMs);
  return entryOf(r, routed);
}

/** Store replies: `STORED` true; `NOT_STORED` (add/replace/append/prepend), `EXISTS` and `NOT_FOUND` (cas) false. */
export const STORE_OK: Readonly<Record<string, boolean>> = { STORED: true, NOT_STORED: false, EXISTS: false, NOT_FOUND: false };

/**
 * The request bytes of a `set`/`add`/`replace`/`append`/`prepend` of `key` (already checked and
 * routed as `routed`): the ttl converted, then the value serialized (append/prepend take raw
 * bytes) and within `maxValueBytes`. Throws a typed error on bad input (nothing is written).
 */
export function storeBytes(core: ClientCore, cmd: StoreCommand, key: string, routed: string, value: unknown, ttl: number | undefined): Wire {
  const exptime = toExptime(ttl);
  const opts = core.opts;
  if (typeof value === 'string' && opts.serializer === defaultSerializer && cmd !== 'append' && cmd !== 'prepend') {
    // The usual store: a text value under the default format, one string request (flags 0).
    return encodeStore(cmd, routed, FLAGS.STRING, exptime, value, textBytes(value, key, opts.maxValueBytes));
  }
  let item: WireItem;
  if (cmd === 'append' || cmd === 'prepend') {
    if (typeof value === 'string') item = { data: value, bytes: Buffer.byteLength(value, 'utf8'), flags: 0 };
    else if (Buffer.isBuffer(value)) item = { data: value, bytes: value.length, flags: 0 };
    else throw new InvalidArgumentError(`${cmd} takes a string or Buffer (raw bytes added to the item), got ${typeof value}`);
    if (item.bytes > opts.maxValueBytes) throw new InvalidArgumentError(`${cmd} of ${item.bytes} bytes exceeds maxValueBytes`);
  } else {
    item = encodeItem(opts.serializer, value, key, opts.maxValueBytes);
  }
  return encodeStore(cmd, routed, item.flags, exptime, item.data, item.bytes);
}

/** A cas token must be the decimal uint64 `gets` returned. */
export function checkCas(cas: unknown): asserts cas is string {
  // Beyond 2^64-1 memcached refuses the line but does not skip the data block: it would run as a command.
  if (typeof cas !== 'string' || !/^\d{1,20}$/.test(cas) || BigInt(cas) > MAX_UINT64) {
    throw new InvalidArgumentError(`cas must be the decimal token from gets() (0 to 2^64-1), got ${describeValue(cas)}`);
  }
}

/** A counter delta: an integer from 0 to 2^64-1 (a safe integer, or a bigint). */
export function checkDelta(cmd: 'incr' | 'decr', delta: unknown): asserts delta is number | bigint {
  const ok = (typeof delta === 'number' && Number.isSafeInteger(delta) && delta >= 0) || (typeof delta === 'bigint' && delta >= 0n && delta <= MAX_UINT64);
  if (!ok) throw new InvalidArgumentError(`${cmd} delta must be an integer from 0 to 2^64-1, got ${describeValue(delta)}`);
}

/** A store's outcome: `STORED` true, `NOT_STORED`/`EXISTS`/`NOT_FOUND` false (the first checked directly: it is the usual one). */
export const storeResult = (reply: Reply): boolean => (reply.kind === 'status' && reply.status === 'STORED') || statusOf(reply, STORE_OK);

/** A status reply read through `table`; any other reply is a `ProtocolError`. */
export function statusOf(reply: Reply, table: Readonly<Record<string, boolean>>): boolean {
  if (reply.kind === 'status' && reply.status in table) return table[reply.status]!;
  throw new ProtocolError(`unexpected reply: ${reply.kind === 'status' ? reply.status : reply.kind}`);
}

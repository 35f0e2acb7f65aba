import { ProtocolError, type MemclusterError } from '../errors.js';
import { now } from '../connection/connection.js';
import { encodeVersion } from '../protocol/encoder.js';
import { encodeMetaDelete, metaGetTail, type MetaGetFlags } from '../protocol/meta-encoder.js';
import type { MetaReply, Reply, ReplyKind, ValueEntry, Wire } from '../protocol/types.js';
import type { Job, ServerNode } from '../cluster/server-node.js';
import type { Verify } from '../connection/connection.js';
import type { Scope } from './call.js';
import type { ClientCore } from './core.js';

/**
 * The meta protocol as the client layer uses it: which servers get it, one meta request, and how a
 * meta reply becomes what the classic API returns.
 */

/**
 * Whether `node` speaks meta. Known once a socket to it has reported the server's version (every
 * first socket does, in every validation mode); until then this asks `version`, one round trip.
 */
export async function protocolOf(core: ClientCore, node: ServerNode, scope?: Scope): Promise<boolean> {
  const known = node.meta;
  if (known !== undefined) return known;
  const reply = await core.send(node, encodeVersion(), 'version', undefined, undefined, scope);
  if (reply.kind === 'version' && node.pool.traits.version === undefined) node.pool.traits.version = reply.version;
  return node.meta ?? false;
}

/**
 * A request to a server whose protocol is not known yet (`node.meta` undefined: no socket to it has
 * reported its version; the first calls to a server). It is submitted in its text form, so it waits
 * in the server's queue in call order like every request, and takes its meta form (`meta`'s fields
 * copied onto it) when it is written, if the socket that carries it proved by then that the server
 * speaks meta. A classic `get` would read a lease placeholder as `''` and an invalidated item as
 * fresh; waiting for the protocol with a round trip of its own would let later calls overtake it.
 * The job's `resolve` must handle a reply of either form.
 */
export function chooseAtWrite<J extends Job>(node: ServerNode, job: J, meta: WireForm): J {
  // `this`: the job as it is written (a wrapper may have copied it, e.g. the compat layer's guard).
  job.prepare = function (this: Job): void {
    if (node.meta === true) Object.assign(this, meta);
  };
  return job;
}

/**
 * What a request's meta form changes: the wire side only. Its `resolve`/`reject` stay (they are
 * the caller's, and may be wrapped): they tell the forms apart by the reply's kind.
 */
export type WireForm = Partial<Pick<Job, 'bytes' | 'kind' | 'verify' | 'maxValues' | 'replyKeys' | 'read'>>;

/** What goes out for one protocol (see `ClientCore.sendEither`). */
export interface RequestForm {
  bytes: Wire;
  kind: ReplyKind;
  verify?: Verify | undefined;
}

/**
 * One non-quiet meta request (`mg`, `ms`, `md`, `ma` bytes from the meta encoders) for `routed`, in
 * call order with the key's other requests. Resolves with the reply line (`VA`/`HD`/`EN`/`NF`/`NS`/
 * `EX`); an error line rejects (`ClientErrorReply`/`ServerErrorReply`). When the request asked for
 * the key back (`k`), a reply naming another key is a protocol error and ends the socket.
 */
export async function metaRequest(
  core: ClientCore, node: ServerNode, bytes: Wire, routed: string, scope?: Scope, read = false, late?: (reply: Reply) => void,
): Promise<MetaReply> {
  const reply = await core.send(node, bytes, 'meta', (r) => verifyMetaKey(r, routed, node.server), routed, scope, read, late);
  if (reply.kind !== 'meta') throw new ProtocolError(`unexpected reply to a meta request: ${reply.kind}`, { server: node.server });
  return reply;
}

function verifyMetaKey(reply: Reply, routed: string, server: string): MemclusterError | undefined {
  if (reply.kind !== 'meta' || reply.flags.key === undefined || reply.flags.key === routed) return undefined;
  return new ProtocolError(`meta reply for key ${JSON.stringify(reply.flags.key.slice(0, 60))}, expected ${JSON.stringify(routed.slice(0, 60))}`, { server });
}

const PLAIN_GET_TAIL = metaGetTail({ value: true, clientFlags: true, returnKey: true });

/** The `mg` line of a plain `get` for a routed key that passed `validateKey` (value, client flags, key). */
export function metaGetLine(routed: string): string {
  return `mg ${routed}${PLAIN_GET_TAIL}`;
}

/** The `mg` flags that read what a classic retrieval reads (value, flags, key; cas for gets/gats; touch for gat/gats). */
export function readFlags(cas: boolean, touch: number | undefined, quiet: boolean): MetaGetFlags {
  return { value: true, clientFlags: true, returnKey: true, cas, touch, quiet };
}


/**
 * memcached gives the right to refresh a stale item (`W` with `X`) to the first `mg` that reads it,
 * whatever that `mg` asked for. A plain read cannot refresh anything, so it hands the right back by
 * marking the item stale again (`md <key> I`: it keeps its TTL), which re-arms it for the next
 * `fetch`. The read settles once that is done (so a `fetch` right after it can win the reload);
 * if it fails, the item heals when its stale TTL runs out. Undefined when there is nothing to hand back.
 */
export function handBackIfWon(node: ServerNode, reply: MetaReply, key: string, timeoutMs: number): Promise<void> | undefined {
  const f = reply.flags;
  if (!(f.stale && f.win)) return undefined;
  return new Promise<void>((settle) => {
    node.submit({
      bytes: encodeMetaDelete(key, { invalidate: true }), kind: 'meta', deadline: now() + timeoutMs, key,
      resolve: () => settle(), reject: () => settle(),
    });
  });
}

/**
 * A meta read as a classic one sees it: the item, or `undefined` where a classic `get` would be
 * wrong to return a value. An empty item that another client holds a lease on (`Z`) is a placeholder,
 * not a value; an item marked stale (`X`, by `invalidate`) has been invalidated. Both read as misses
 * for `get`/`getMulti` (`fetch` serves stale items on purpose).
 */
export function entryOf(reply: MetaReply, key: string): ValueEntry | undefined {
  if (reply.code !== 'VA' || reply.data === undefined) return undefined;
  const f = reply.flags;
  if (f.stale || (f.otherWon && reply.data.length === 0) || (f.win && reply.data.length === 0)) return undefined;
  return { key: f.key ?? key, flags: f.clientFlags ?? 0, data: reply.data, cas: f.cas };
}

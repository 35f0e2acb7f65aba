import net from 'node:net';
import { BatchWriter, makeSlicer } from '../client/batch.js';
import { parseAddress } from '../cluster/address.js';
import {
  ClientErrorReply, ConnectionError, InvalidArgumentError, ProtocolError, ServerErrorReply, TimeoutError,
} from '../errors.js';
import { shapeError, TEXT } from './errors.js';
import type { ServerState } from './servers.js';
import { encodeFlushAll, encodeStats, encodeVersion } from '../protocol/encoder.js';
import type { Reply, ReplyKind, Wire } from '../protocol/types.js';
import type { Fleet } from './fleet.js';
import { compatKey, keyText, type KeyOptions } from './options.js';
import type { CompatCacheDumpData as CacheDumpData, CompatStatusData as StatusData, CompatVersionData as VersionData } from './types.js';

/** Sets `obj[key]` as an own data property, even for keys like `__proto__`. */
export function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * 2.2.2's `getMulti`: `{ key: value }` with misses absent, and as `err` an ARRAY of errors (one per
 * failed batch or bad key) beside the partial data, or `undefined`. Unlike 2.2.2 it always settles:
 * an empty list, a bad or over-long key and a dead server all come back as data and errors.
 * Keys are validated and routed in time slices (linear, yielding to the event loop), batched per
 * server under memcluster's key and byte caps, and asked for once however often they repeat.
 */
export async function getMultiCompat(fleet: Fleet, state: ServerState, keyOpts: KeyOptions, keys: unknown): Promise<{ errors: Error[]; data: Record<string, unknown> }> {
  const data: Record<string, unknown> = {};
  const errors: Error[] = [];
  if (!Array.isArray(keys)) return { errors: [shapeError(new InvalidArgumentError(TEXT.notA('key', 'Array'))) as Error], data };
  if (keys.length === 0) return { errors, data };
  const callers = new Map<string, string[]>(); // wire key -> caller keys asking for it
  const unavailable = new Map<string, Error>(); // one error per failed server, as 2.2.2 gave one per server command
  const core = fleet.core;
  const writer = new BatchWriter('get', 0, core.opts, (server, batch, hits, err) => {
    if (!hits) {
      errors.push(state.failed(server, err) as Error);
      return;
    }
    for (const v of hits) {
      const asked = callers.get(v.key)!;
      try {
        const value = core.decode(v, asked[0]!, server);
        for (const key of asked) put(data, key, value);
      } catch (e) {
        errors.push(shapeError(e) as Error);
      }
    }
  });
  // Keys are routed now and their batches sent as they fill: a server removed meanwhile stays open for them.
  const hold = core.cluster.hold(writer.deadline);
  try {
    const slice = makeSlicer();
    for (let i = 0; i < keys.length; i++) {
      const pause = slice(i) ?? writer.room(); // memcluster's pacing: never stall the loop, cap batches in flight
      if (pause) await pause;
      // 2.2.2 wrote an empty key as nothing (`get a ` asks for `a` alone): a miss, not an error.
      if (keyOpts.namespace === '' && keyText(keys[i]) === '') continue;
      try {
        const k = compatKey(keys[i], keyOpts, i);
        const caller = String(k.key);
        const asked = callers.get(k.wire);
        if (asked) {
          if (!asked.includes(caller)) asked.push(caller);
          continue;
        }
        callers.set(k.wire, [caller]);
        const node = fleet.nodeFor(k.full);
        if (unavailable.has(node.server)) continue;
        try {
          state.connection(node.server);
          state.check(node.server);
        } catch (e) {
          unavailable.set(node.server, state.failed(node.server, e) as Error);
          continue;
        }
        writer.add(node, k.wire, k.bytes);
      } catch (e) {
        errors.push(shapeError(e) as Error);
      }
    }
    errors.push(...unavailable.values());
    await writer.finish();
  } finally {
    hold.release();
  }
  return { errors, data };
}

/** The commands 2.2.2 sends to every server, by the `type` it gives them. */
export type SingleType = 'version' | 'flush_all' | 'stats' | 'stats settings' | 'stats slabs' | 'stats items';

const SINGLES: Record<SingleType, { bytes: () => Wire; kind: ReplyKind }> = {
  version: { bytes: encodeVersion, kind: 'version' },
  flush_all: { bytes: () => encodeFlushAll(), kind: 'ok' },
  stats: { bytes: () => encodeStats(), kind: 'stats' },
  'stats settings': { bytes: () => encodeStats('settings'), kind: 'stats' },
  'stats slabs': { bytes: () => encodeStats('slabs'), kind: 'stats' },
  'stats items': { bytes: () => encodeStats('items'), kind: 'stats' },
};

/**
 * version / flush / stats / settings / slabs / items on every server: one entry per server that
 * answered (in server order; each with `server`, except flush's `true`s, as in 2.2.2), and as `err`
 * the last error, as 2.2.2 reports it.
 */
export async function singlesCompat(fleet: Fleet, state: ServerState, type: SingleType): Promise<{ error: Error | undefined; results: unknown[] }> {
  const spec = SINGLES[type];
  const settled = await Promise.all(fleet.all().map(async (node) => {
    try {
      state.connection(node.server);
      state.check(node.server);
      const reply = await fleet.core.send(node, spec.bytes(), spec.kind);
      return { result: shape(type, reply, node.server) };
    } catch (err) {
      return { error: state.failed(node.server, err) as Error };
    }
  }));
  let error: Error | undefined;
  const results: unknown[] = [];
  for (const s of settled) {
    if ('error' in s) error = s.error;
    else results.push(s.result);
  }
  return { error, results };
}

function shape(type: SingleType, reply: Reply, server: string): unknown {
  if (type === 'flush_all') {
    if (reply.kind === 'status' && reply.status === 'OK') return true;
  } else if (type === 'version') {
    if (reply.kind === 'version') return versionData(reply.version, server);
  } else if (reply.kind === 'stats') {
    return statsData(type, reply.stats, server);
  }
  throw new ProtocolError(`unexpected reply to ${type}: ${reply.kind}`, { server });
}

function versionData(version: string, server: string): VersionData {
  const m = /(\d+)(?:\.)(\d+)(?:\.)(\d+)$/.exec(version);
  return { server, version: m ? m[0] : version, major: m?.[1] ?? '0', minor: m?.[2] ?? '0', bugfix: m?.[3] ?? '0' };
}

/** 2.2.2's result parsers: numbers where the value is all digits, slabs and items grouped by id. */
function statsData(type: SingleType, stats: Array<[string, string]>, server: string): StatusData {
  const out: StatusData = {};
  if (stats.length === 0) return out; // 2.2.2: an empty reply is `{}`, without `server`
  out.server = server;
  for (const [name, raw] of stats) {
    const value = /^\d+$/.test(raw) ? +raw : raw;
    if (type === 'stats' || type === 'stats settings') {
      put(out, name, value);
      continue;
    }
    const id = name.split(':');
    // slabs group by the first part (`1:chunk_size`, and `active_slabs` under `undefined`, as 2.2.2 did);
    // items by the second (`items:1:number`).
    const [group, field] = type === 'stats slabs' ? [id[0]!, String(id[1])] : [String(id[1]), String(id[2])];
    let bucket = Object.prototype.hasOwnProperty.call(out, group) ? (out[group] as unknown as Record<string, unknown>) : undefined;
    if (!bucket) {
      bucket = {};
      put(out, group, bucket);
    }
    put(bucket, field, value);
  }
  return out;
}

/** A `stats cachedump` reply is capped by memcached at 2 MB; refuse anything much larger. */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

/**
 * `stats cachedump <slabid> <number>` on one server, shaped as 2.2.2 shapes it: no item ->
 * `undefined`, one -> the item, several -> an array of `{ key, b, s }`. Its `ITEM` lines are no
 * reply the pooled connections parse, so it runs on a short-lived socket of its own, bounded by
 * `timeoutMs` from connect to the last byte.
 */
export function cachedump(server: string, slabid: unknown, number: unknown, timeoutMs: number): Promise<CacheDumpData | CacheDumpData[] | undefined> {
  for (const [name, v] of [['slabid', slabid], ['number', number]] as const) {
    if (typeof v !== 'number') return Promise.reject(new InvalidArgumentError(`Argument "${name}" is not a valid Number.`));
    if (!Number.isSafeInteger(v) || v < 0) return Promise.reject(new InvalidArgumentError(`${name} must be a whole number >= 0, got ${v}`));
  }
  let host: string;
  let port: number;
  let label: string;
  try {
    ({ host, port, label } = parseAddress(server));
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const socket = net.connect({ host, port });
    const finish = (err: Error | undefined, value?: CacheDumpData | CacheDumpData[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new TimeoutError(`stats cachedump did not finish within ${timeoutMs} ms`, { server: label })), timeoutMs);
    socket.on('connect', () => socket.write(`stats cachedump ${slabid} ${number}\r\n`));
    socket.on('error', (err) => finish(new ConnectionError(`cachedump failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { server: label, cause: err })));
    socket.on('close', () => finish(new ConnectionError('connection closed before the cachedump reply ended', { server: label })));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) return finish(new ProtocolError('cachedump reply too large', { server: label }));
      const text = Buffer.concat(chunks).toString('utf8');
      const error = /^(ERROR|CLIENT_ERROR|SERVER_ERROR)(.*)\r\n/m.exec(text);
      if (error) {
        const Err = error[1] === 'SERVER_ERROR' ? ServerErrorReply : ClientErrorReply;
        return finish(new Err(`${error[1]}${error[2]}`, { server: label }));
      }
      if (text !== 'END\r\n' && !text.endsWith('\r\nEND\r\n')) return;
      const items: CacheDumpData[] = [];
      for (const line of text.split('\r\n')) {
        if (!line.startsWith('ITEM ')) continue;
        const tokens = line.split(' ');
        items.push({ key: tokens[1]!, b: +tokens[2]!.slice(1), s: +tokens[4]! });
      }
      finish(undefined, items.length === 0 ? undefined : items.length === 1 ? items[0] : items);
    });
  });
}

/**
 * Commands sent to every server at once (`flush_all`, `version`, `stats`): each server answers for
 * itself, and the call fails with `PartialFailureError` (carrying the servers that answered) when
 * any of them failed. None of these counts a reply or an error against a server's health beyond
 * what the connection layer already does.
 */
import { ClientClosedError, InvalidArgumentError, PartialFailureError, ProtocolError, type MemclusterError } from '../errors.js';
import { encodeFlushAll, encodeStats, encodeVersion } from '../protocol/encoder.js';
import type { Reply, Wire } from '../protocol/types.js';
import { describeValue } from '../text.js';
import type { Scope } from './call.js';
import type { ClientCore } from './core.js';

type ReplyKindOf = Parameters<ClientCore['send']>[2];

/** `flush_all [delay]` on every server (`delay`: an exptime already converted, 0 for now). */
export async function flushAll(core: ClientCore, delay: number, scope: Scope | undefined): Promise<void> {
  await everyServer(core, encodeFlushAll(delay || undefined), 'ok', () => true, scope);
}

/** Each server's `version`, by server (`host:port`). */
export function versions(core: ClientCore, scope: Scope | undefined): Promise<Map<string, string>> {
  return everyServer(core, encodeVersion(), 'version', (r) => (r.kind === 'version' ? r.version : undefined), scope);
}

/** Checks a `stats` group before anything is sent: a word, `detail on|off|dump` or `cachedump <slab> <limit>`. */
export function checkStatsGroup(group: unknown): void {
  if (group !== undefined && (typeof group !== 'string' || !/^(?:[a-z_]{1,32}|detail (?:on|off|dump)|cachedump \d{1,10} \d{1,10})$/.test(group))) {
    throw new InvalidArgumentError(`stats group must be a word like 'items' (or 'cachedump 1 10', 'detail dump'), got ${describeValue(group)}`);
  }
}

/** Each server's `stats [group]` as a record, by server; `reset`, `detail on` and `detail off` resolve `true`. */
export async function statsOf(core: ClientCore, group: string | undefined, scope: Scope | undefined): Promise<Map<string, Record<string, string>> | true> {
  // `stats sizes_enable|sizes_disable` answer one STAT line and no END.
  const kind = group === 'sizes_enable' || group === 'sizes_disable' ? 'stats_line' : 'stats';
  const perServer = await everyServer(core, encodeStats(group), kind, statsRecord, scope);
  return group === 'reset' || group === 'detail on' || group === 'detail off' ? true : perServer;
}

/** Sends `bytes` to every server; `pick` reads each reply (`undefined`: not the reply expected). */
async function everyServer<R>(core: ClientCore, bytes: Wire, kind: ReplyKindOf, pick: (r: Reply) => R | undefined, scope: Scope | undefined): Promise<Map<string, R>> {
  if (core.closed) throw new ClientClosedError();
  const values = new Map<string, R>();
  const errors = new Map<string, MemclusterError>();
  await Promise.all(core.cluster.all().map(async (node) => {
    try {
      const reply = await core.send(node, bytes, kind, undefined, undefined, scope);
      const r = pick(reply);
      if (r === undefined) throw new ProtocolError(`unexpected reply ${reply.kind}`, { server: node.server });
      values.set(node.server, r);
    } catch (err) {
      errors.set(node.server, err as MemclusterError);
    }
  }));
  if (errors.size > 0) throw new PartialFailureError(`${errors.size} of ${errors.size + values.size} servers failed`, values, errors);
  return values;
}

/**
 * One server's stats reply as a record: `STAT name value` lines as name -> value, other lines
 * (`ITEM key rest`, `PREFIX prefix rest`) as their second word -> the rest; `RESET`/`OK` as `{}`.
 */
function statsRecord(reply: Reply): Record<string, string> | undefined {
  if (reply.kind !== 'stats') return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of reply.stats) out[name] = value;
  for (const line of reply.lines) {
    const m = /^\S+ (\S+) ?(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

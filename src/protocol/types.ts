/**
 * Shapes shared by the pure protocol layer (encoders, parser) and the connection that drives it.
 * Nothing here touches a socket.
 */

/** What the next unanswered request expects; the parser reads replies in request order. */
export type ReplyKind =
  | 'retrieval' // get/gets/gat/gats: VALUE ... * END
  | 'store' //     set/add/replace/append/prepend/cas: STORED | NOT_STORED | EXISTS | NOT_FOUND
  | 'delete' //    DELETED | NOT_FOUND
  | 'touch' //     TOUCHED | NOT_FOUND
  | 'arith' //     incr/decr: <digits> | NOT_FOUND
  | 'ok' //        flush_all, verbosity: OK
  | 'version' //   VERSION <x>
  | 'stats' //     (STAT|ITEM|PREFIX line)* END | RESET | OK   (every `stats <group>` but the two below)
  | 'stats_line' // one STAT line (two after `STAT sizes_status error`) and no END: `stats sizes_enable`, `stats sizes_disable`
  | 'mn' //        MN
  | 'auth' //      ASCII auth (a `set` carrying "user pass"): STORED on success
  | 'meta' //      one non-quiet mg/ms/md/ma: VA <len> <flags>* + data | HD|EN|NF|NS|EX <flags>*
  | 'meta_batch'; // quiet meta requests fenced by `mn`: every reply line up to MN, answered once

export type Status = 'STORED' | 'NOT_STORED' | 'EXISTS' | 'NOT_FOUND' | 'DELETED' | 'TOUCHED' | 'OK' | 'MN';

/** One `VALUE <key> <flags> <bytes> [<cas>]` block. `data` may be a view into a larger buffer. */
export interface ValueEntry {
  key: string;
  flags: number;
  data: Buffer;
  /** The cas unique as its decimal string (it is a uint64), present for gets/gats. */
  cas: string | undefined;
}

/** The code a meta reply line starts with (`MN` only ends a `meta_batch`, it is never an entry). */
export type MetaCode = 'VA' | 'HD' | 'EN' | 'NF' | 'NS' | 'EX';

/**
 * The return flags of one meta reply line, parsed. Every field is always present (a stable
 * object shape): `undefined`, or `false` for the one-letter markers, when the server did not send it.
 * The server only returns what the request asked for.
 */
export interface MetaFlags {
  /** `O<token>`: the opaque token echoed back. */
  opaque: string | undefined;
  /** `k<key>`: the key (UTF-8). */
  key: string | undefined;
  /** `c<cas>`: the cas unique as a decimal string (uint64). */
  cas: string | undefined;
  /** `t<secs>`: remaining TTL in seconds, -1 when the item never expires. */
  ttl: number | undefined;
  /** `f<flags>`: the client flags (uint32). */
  clientFlags: number | undefined;
  /** `s<bytes>`: the item's value size. */
  size: number | undefined;
  /** `h0|h1`: whether the item had been fetched before this request. */
  hitBefore: boolean | undefined;
  /** `l<secs>`: seconds since the item was last accessed. */
  lastAccess: number | undefined;
  /** `W`: this client won the right to (re)load the item (lease or early recache). */
  win: boolean;
  /** `X`: the item is stale (marked by `md ... I`). */
  stale: boolean;
  /** `Z`: another client already won the lease/recache: do not load. */
  otherWon: boolean;
}

/**
 * One meta reply line. `data` is set exactly for `VA` (for `ma ... v` it holds the counter's
 * decimal digits); like text values it may be a zero-copy view into a chunk given to `feed`.
 */
export interface MetaReply {
  kind: 'meta';
  code: MetaCode;
  data: Buffer | undefined;
  flags: MetaFlags;
}

/** An error line inside a quiet meta batch. It carries no opaque and no key. */
export interface MetaBatchError {
  kind: 'error' | 'client_error' | 'server_error';
  message: string;
  /** How many entries (`replies` and `hits`) arrived before it (its position in the reply stream). */
  index: number;
}

export type Reply =
  | { kind: 'values'; values: ValueEntry[] }
  | { kind: 'status'; status: Status }
  /** incr/decr result as a decimal string (uint64). */
  | { kind: 'number'; value: string }
  | { kind: 'version'; version: string }
  /**
   * A stats reply. `stats` holds the `STAT <name> <value>` lines as [name, value]; `lines` holds
   * every other line verbatim (`ITEM <key> [<n> b; <n> s]` from `stats cachedump`,
   * `PREFIX <prefix> get <n> hit <n> set <n> del <n>` from `stats detail dump`); `end` is the
   * terminating line: `END`, `RESET` (`stats reset`), `OK` (`stats detail on|off`), or null for a
   * `stats_line` reply, which has no terminator.
   */
  | { kind: 'stats'; stats: Array<[string, string]>; lines: string[]; end: 'END' | 'RESET' | 'OK' | null }
  /**
   * A stats reply beyond `maxStatsLines`/`maxStatsBytes`: read to its END without being stored, so
   * the stream stays aligned; the request failed, the connection is fine.
   */
  | { kind: 'oversize'; message: string }
  /** One non-quiet meta request's reply (`meta` expectation). */
  | MetaReply
  /**
   * The answer to a `meta_batch` expectation, once its `MN` arrived: every reply line in order
   * (quiet requests that succeeded sent nothing), and the error lines found among them. When the
   * expectation named its keys (a read batch), the plain hits (`VA` with only `f`, `k`, `c` flags,
   * the key one of those keys) come as `hits` instead, each as a value entry carrying the request's
   * key string; everything else stays in `replies`. Both are in arrival order, which is key order.
   */
  | { kind: 'meta_batch'; replies: MetaReply[]; errors: MetaBatchError[]; hits: ValueEntry[] }
  /** `SERVER_ERROR <msg>`: the request failed; the connection stays in a known state. */
  | { kind: 'server_error'; message: string }
  /** `CLIENT_ERROR <msg>`: the connection is no longer in a known state. */
  | { kind: 'client_error'; message: string }
  /** `ERROR` or `ERROR <msg>` (message '' for a bare ERROR): the connection is no longer in a known state. */
  | { kind: 'error'; message: string };

/** The longest value a `VALUE`/`VA` line may claim (longer is a protocol error), and its name in that error. */
export interface ValueClaimLimit {
  bytes: number;
  name: string;
}

export interface ParserOptions {
  /** `host:port`, put on every error the parser raises. */
  server?: string | undefined;
  /** A `VALUE`/`VA` line claiming more bytes than this is a forged length: protocol error, nothing allocated. */
  maxValueBytes: number;
  /**
   * Values claimed longer than `maxValueBytes` but at most this many bytes (a real item, larger than
   * this client reads) are read to their end and dropped: the reply carries `TOO_LARGE` in their
   * place, and the stream stays in step. Default: none (`maxValueBytes` is the only bound).
   */
  dropValuesUpTo?: number;
  /** A reply line longer than this without `\r\n` is a protocol error (bounded memory). Default 8192. */
  maxLineBytes?: number;
  /** A stats reply with more lines than this is answered `oversize` (read to its end, not stored). Default 1,000,000. */
  maxStatsLines?: number;
  /** A stats reply holding more bytes of lines than this is answered `oversize`. Default 64 MiB. */
  maxStatsBytes?: number;
}

/** The store commands that share `<cmd> <key> <flags> <exptime> <bytes>`. */
export type StoreCommand = 'set' | 'add' | 'replace' | 'append' | 'prepend';

/**
 * One request's bytes as the connection writes them: a string (written as UTF-8) or a Buffer. The
 * encoders return strings where nothing but text goes on the line (and for text values), so a
 * tick's requests join into one string and one write with no Buffer per request.
 */
export type Wire = string | Buffer;

/** The bytes of a request, as a Buffer (tests, and the rare path that needs bytes). */
export function wireBuffer(w: Wire): Buffer {
  return typeof w === 'string' ? Buffer.from(w, 'utf8') : w;
}

/** The UTF-8 length of a request. */
export function wireLength(w: Wire): number {
  return typeof w === 'string' ? Buffer.byteLength(w, 'utf8') : w.length;
}

/** Several requests as one: a string when all are strings, else one Buffer. */
export function joinWire(parts: readonly Wire[]): Wire {
  let text = true;
  for (const w of parts) if (typeof w !== 'string') { text = false; break; }
  return text ? parts.join('') : Buffer.concat(parts.map(wireBuffer));
}

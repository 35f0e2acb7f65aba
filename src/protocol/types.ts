/**
 * Shapes shared by the pure protocol layer (encoder, parser) and the connection that drives it.
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
  | 'stats' //     STAT <name> <value> * END
  | 'mn' //        MN
  | 'auth'; //     ASCII auth (a `set` carrying "user pass"): STORED on success

export type Status = 'STORED' | 'NOT_STORED' | 'EXISTS' | 'NOT_FOUND' | 'DELETED' | 'TOUCHED' | 'OK' | 'MN';

/** One `VALUE <key> <flags> <bytes> [<cas>]` block. `data` may be a view into a larger buffer. */
export interface ValueEntry {
  key: string;
  flags: number;
  data: Buffer;
  /** The cas unique as its decimal string (it is a uint64), present for gets/gats. */
  cas: string | undefined;
}

export type Reply =
  | { kind: 'values'; values: ValueEntry[] }
  | { kind: 'status'; status: Status }
  /** incr/decr result as a decimal string (uint64). */
  | { kind: 'number'; value: string }
  | { kind: 'version'; version: string }
  | { kind: 'stats'; stats: Array<[string, string]> }
  /** `SERVER_ERROR <msg>`: the request failed; the connection stays in a known state. */
  | { kind: 'server_error'; message: string }
  /** `CLIENT_ERROR <msg>`: the connection is no longer in a known state. */
  | { kind: 'client_error'; message: string }
  /** `ERROR` or `ERROR <msg>` (message '' for a bare ERROR): the connection is no longer in a known state. */
  | { kind: 'error'; message: string };

export interface ParserOptions {
  /** `host:port`, put on every error the parser raises. */
  server?: string | undefined;
  /** A `VALUE` line claiming more bytes than this is a forged length: protocol error, nothing allocated. */
  maxValueBytes: number;
  /** A reply line longer than this without `\r\n` is a protocol error (bounded memory). Default 8192. */
  maxLineBytes?: number;
}

/** The store commands that share `<cmd> <key> <flags> <exptime> <bytes>`. */
export type StoreCommand = 'set' | 'add' | 'replace' | 'append' | 'prepend';

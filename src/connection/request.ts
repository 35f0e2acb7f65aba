/**
 * What the connection layer is handed and keeps per request: the request to write (`Outgoing`),
 * the state of one written and unanswered (`Pending`), and the monotonic clock deadlines use.
 */
import { performance } from 'node:perf_hooks';
import { ClientErrorReply, ConnectionError, ReplyTooLargeError, ServerErrorReply, TooManyConnectionsError, type MemclusterError } from '../errors.js';
import type { Reply, ReplyKind, Wire } from '../protocol/types.js';
import { serverText } from '../text.js';

/** The light real request that proves a socket is answered by a live memcached. */
export type ValidationCommand = 'mn' | 'version';

/** Checks a reply against its request (e.g. that VALUE keys were asked for); an error means the stream is out of step. */
export type Verify = (reply: Reply) => MemclusterError | undefined;

/** One request to write: its bytes, what its reply must be, its deadline, and who hears the outcome. */
export interface Outgoing {
  /** The request (a string goes out as UTF-8). */
  bytes: Wire;
  kind: ReplyKind;
  /** The call's deadline (monotonic ms): past it the call is rejected and the request abandoned. */
  deadline: number;
  /** For retrievals: the number of keys asked for (a reply with more VALUE blocks is a protocol error). */
  maxValues?: number | undefined;
  /**
   * The keys (as written) the reply's hits must name, in request order: the parser matches them
   * byte for byte and the hits carry these strings (see `ReplyParser#expect`).
   */
  replyKeys?: readonly string[] | undefined;
  /** Runs on the reply, in order, before delivery; an error ends the socket. */
  verify?: Verify | undefined;
  /** The routed key (single-key requests) or keys (coalesced gets) whose call order must hold. */
  key?: string | undefined;
  keys?: readonly string[] | undefined;
  /** A pure read (get, gets, mg): it need not keep call order with other reads, only with writes. */
  read?: boolean | undefined;
  /**
   * Called once, right before the request is written: a request whose form depends on what the
   * server speaks, made before any socket had told (the first calls to a server), takes its form
   * here (bytes, kind, verify, maxValues, replyKeys), in call order with every other request.
   */
  prepare?(): void;
  /**
   * Called with the reply of a request abandoned after it was written (its call timed out or was
   * aborted), when that reply arrives: for a request whose reply gave the caller something it must
   * give back (a lease won too late). Never called for a reply `resolve` or `reject` got.
   */
  late?(reply: Reply): void;
  /** Exactly one of these is called, once. */
  resolve(reply: Reply): void;
  reject(err: MemclusterError): void;
}

/** A request written on this socket and not answered yet. */
export interface Pending {
  readonly out: Outgoing;
  /** When the request's bytes left (monotonic ms): the base of the stall check. */
  writtenAt: number;
  /** The call gave up (timed out or was cancelled): its reply is read and discarded in order. */
  abandoned: boolean;
  /** The request carried a data block (see `hasDataBlock`). */
  dataBlock: boolean;
}

/**
 * Reply kinds whose request carries a data block (`set ... <bytes>\r\n<data>`). An error line to one
 * of these may be followed by a second reply for the data block run as a command (memcached answers
 * `CLIENT_ERROR bad data chunk` then `ERROR`), so it leaves the stream out of step.
 */
export const hasDataBlock = (kind: ReplyKind, bytes: Wire): boolean => kind === 'store' || kind === 'auth' || (kind === 'meta' && isMetaSet(bytes));

/** A handle on one written request, to give up on it (the reply is then read and discarded). */
export interface RequestHandle {
  /** Rejects the call with `err` now; the socket stays in service. No-op once settled. */
  abandon(err: MemclusterError): void;
}

/** Whether a request is a meta set (`ms ...`), which carries a data block like the text stores. */
function isMetaSet(bytes: Wire): boolean {
  return typeof bytes === 'string'
    ? bytes.charCodeAt(0) === 0x6d && bytes.charCodeAt(1) === 0x73 && bytes.charCodeAt(2) === 0x20
    : bytes[0] === 0x6d && bytes[1] === 0x73 && bytes[2] === 0x20;
}

/**
 * What an error reply means: the error its request rejects with (`err`), and whether the socket
 * must end too (`end`). `undefined` for a reply that is not an error line.
 * - `SERVER_ERROR` (object too large, out of memory) swallows a data block: the stream stays aligned.
 * - A reply larger than the client keeps was read to its end without being kept: aligned too.
 * - `ERROR Too many open connections`: the server closes the socket after this line.
 * - `ERROR`/`CLIENT_ERROR` to a request without a data block is the whole reply, so the next reply
 *   is the next request's; after a data block it may be followed by another line for the data block
 *   run as a command, so the socket ends.
 */
export function replyError(reply: Reply, dataBlock: boolean, server: string): { err: MemclusterError; end?: MemclusterError } | undefined {
  switch (reply.kind) {
    case 'server_error':
      return { err: new ServerErrorReply(`SERVER_ERROR ${serverText(reply.message)}`, { server }) };
    case 'oversize':
      return { err: new ReplyTooLargeError(reply.message, { server }) };
    case 'error':
    case 'client_error': {
      if (reply.kind === 'error' && reply.message === 'Too many open connections') {
        const err = new TooManyConnectionsError({ server });
        return { err, end: err };
      }
      const err = new ClientErrorReply(reply.kind === 'error' ? `server answered ERROR${reply.message ? ' ' + serverText(reply.message) : ''}` : `CLIENT_ERROR ${serverText(reply.message)}`, { server });
      if (!dataBlock) return { err };
      return { err, end: new ConnectionError(`connection dropped after an error reply to a request with a data block: ${err.detail}`, { server, cause: err }) };
    }
    default:
      return undefined;
  }
}

/** Monotonic milliseconds; immune to wall-clock jumps. */
export const now = (): number => performance.now();

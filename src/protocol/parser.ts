/**
 * Incremental reply parser for the memcached text protocol.
 *
 * The owner tells the parser what each request expects (`expect`, in write order) and feeds it
 * socket chunks split anywhere (`feed`). Replies come back through `onReply` in request order.
 * Anything that is not exactly a valid reply to the oldest pending request is a protocol error:
 * the connection is in an unknown state, so the parser reports it once, then goes deaf.
 *
 * Memory is bounded: only an incomplete line (at most `maxLineBytes`) is buffered, and a value's
 * buffer is allocated once at its exact, already-checked length, and only when its data spans
 * chunks. Values wholly inside one chunk are zero-copy views of that chunk.
 */
import { MemclusterError, ProtocolError, TooManyConnectionsError } from '../errors.js';
import type { ParserOptions, Reply, ReplyKind, Status, ValueEntry } from './types.js';

const CR = 13;
const LF = 10;
const SP = 32;
const D0 = 48;
const DEFAULT_MAX_LINE_BYTES = 8192;
const MAX_KEY_BYTES = 250;
const UINT64_MAX = '18446744073709551615';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const VALUE_ = bytes('VALUE ');
const END = bytes('END');
const STAT_ = bytes('STAT ');
const VERSION_ = bytes('VERSION ');
const ERROR_WORDS: ReadonlyArray<[Buffer, 'error' | 'client_error' | 'server_error']> = [
  [bytes('ERROR'), 'error'], [bytes('CLIENT_ERROR'), 'client_error'], [bytes('SERVER_ERROR'), 'server_error'],
];
const TOO_MANY = bytes('ERROR Too many open connections\r\n');

// Frozen and shared: a status reply carries no per-request data, so it need not be allocated.
const statuses = (...names: Status[]) =>
  names.map((s) => ({ lit: bytes(s), reply: Object.freeze({ kind: 'status', status: s }) as Reply }));

/** Status lines accepted per kind; kinds absent here have their own grammar. */
const STATUS_BY_KIND: Partial<Record<ReplyKind, Array<{ lit: Buffer; reply: Reply }>>> = {
  store: statuses('STORED', 'NOT_STORED', 'EXISTS', 'NOT_FOUND'),
  delete: statuses('DELETED', 'NOT_FOUND'),
  touch: statuses('TOUCHED', 'NOT_FOUND'),
  arith: statuses('NOT_FOUND'),
  ok: statuses('OK'),
  mn: statuses('MN'),
  auth: statuses('STORED'),
};
const KINDS: ReadonlySet<string> = new Set(['retrieval', 'version', 'stats', ...Object.keys(STATUS_BY_KIND)]);

/** A `stats` reply (every group memcached has) holds a few hundred lines; more is a broken or hostile server. */
const MAX_STAT_LINES = 10_000;

/**
 * Turns a byte stream of memcached text replies into {@link Reply} objects, matched to requests
 * by position.
 *
 * - `values[i].data` of a `values` reply is a view into the chunk passed to `feed` when the value
 *   arrived inside one chunk (it keeps that chunk alive), otherwise a buffer of its own.
 * - Status replies are shared frozen objects: compare them, do not mutate them.
 * - `feed` never throws. An exception thrown by `onReply` is reported as a `ProtocolError` (cause
 *   set) and stops the parser; one thrown by `onError` is swallowed. `expect` may be called from
 *   inside `onReply`; `feed` may not (that is reported as a `ProtocolError`).
 */
export class ReplyParser {
  readonly #server: string | undefined;
  readonly #maxValue: number;
  readonly #maxLine: number;
  readonly #onReply: (reply: Reply) => void;
  readonly #onError: (err: MemclusterError) => void;

  #kinds: ReplyKind[] = [];
  /** Per expectation, the most VALUE blocks its reply may hold (the keys it asked for). */
  #maxValues: number[] = [];
  #head = 0;
  #failed = false;
  #feeding = false;

  // Incomplete line carried to the next chunk; grown geometrically up to maxLineBytes + 2.
  #tail: Buffer | null = null;
  #tailLen = 0;
  // The partial line began while nothing was pending: it may only become the refusal line.
  #tailUnsolicited = false;

  #values: ValueEntry[] = [];
  #stats: Array<[string, string]> = [];

  // The value whose data block is being read (valid while #inData).
  #inData = false;
  #dKey = '';
  #dFlags = 0;
  #dCas: string | undefined = undefined;
  #dBytes = 0;
  #dFilled = 0;
  #dCrlf = 0;
  #dBuf: Buffer | null = null;

  /**
   * @param opts `maxValueBytes` bounds the length a `VALUE` line may claim; `maxLineBytes`
   *   (default 8192) bounds any reply line; `server` is put on every error.
   * @param onReply called once per expectation, in order.
   * @param onError called at most once, after which the parser ignores all input.
   */
  constructor(opts: ParserOptions, onReply: (reply: Reply) => void, onError: (err: MemclusterError) => void) {
    const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(opts.maxValueBytes) || opts.maxValueBytes < 0) {
      throw new RangeError(`ReplyParser: maxValueBytes must be a non-negative integer, got ${opts.maxValueBytes}`);
    }
    if (!Number.isSafeInteger(maxLine) || maxLine < 16) {
      throw new RangeError(`ReplyParser: maxLineBytes must be an integer >= 16, got ${maxLine}`);
    }
    this.#server = opts.server;
    this.#maxValue = opts.maxValueBytes;
    this.#maxLine = maxLine;
    this.#onReply = onReply;
    this.#onError = onError;
  }

  /** Expectations not yet answered by a reply. */
  get pending(): number {
    return this.#kinds.length - this.#head;
  }

  /** True once a protocol error was reported; all later input is ignored. */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Registers the reply kind of the next request; call once per request, in write order.
   * `maxValues` (for retrievals: the number of keys asked for) bounds the VALUE blocks the reply may
   * hold, so a server cannot grow one reply without end.
   */
  expect(kind: ReplyKind, maxValues = Number.MAX_SAFE_INTEGER): void {
    if (!KINDS.has(kind)) throw new TypeError(`ReplyParser.expect: unknown reply kind ${String(kind)}`);
    this.#kinds.push(kind);
    this.#maxValues.push(maxValues);
  }

  /** Consumes a chunk of bytes from the server. Never throws; see the class notes. */
  feed(chunk: Buffer): void {
    if (this.#failed) return;
    // A nested feed would interleave with the outer one's position in its chunk.
    if (this.#feeding) return this.#fail('feed() called from inside onReply/onError');
    this.#feeding = true;
    try {
      this.#run(chunk);
    } catch (err) {
      this.#fail(`internal parser error: ${err instanceof Error ? err.message : String(err)}`, err);
    } finally {
      this.#feeding = false;
    }
  }

  #run(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    if (this.#tailLen > 0) {
      if (this.#tailUnsolicited) {
        this.#append(chunk, 0, Math.min(len, TOO_MANY.length - this.#tailLen));
        this.#unsolicited(this.#tail!, 0, this.#tailLen);
        return;
      }
      const nl = chunk.indexOf(LF);
      const upto = nl < 0 ? len : nl + 1;
      if (this.#tailLen + upto > this.#maxLine + (nl < 0 ? 1 : 2)) {
        this.#fail(`reply line longer than maxLineBytes (${this.#maxLine}): ${snippet(this.#tail!, 0, this.#tailLen)}`);
        return;
      }
      this.#append(chunk, 0, upto);
      if (nl < 0) return;
      const lineLen = this.#tailLen;
      this.#tailLen = 0;
      this.#line(this.#tail!, 0, lineLen - 1);
      pos = upto;
    }
    while (pos < len && !this.#failed) {
      if (this.#inData) {
        pos = this.#data(chunk, pos);
      } else if (this.#head === this.#kinds.length) {
        this.#unsolicited(chunk, pos, len);
        return;
      } else {
        const nl = chunk.indexOf(LF, pos);
        if (nl < 0) {
          if (len - pos > this.#maxLine + 1) {
            this.#fail(`reply line longer than maxLineBytes (${this.#maxLine}): ${snippet(chunk, pos, len)}`);
          } else {
            this.#append(chunk, pos, len);
          }
          return;
        }
        this.#line(chunk, pos, nl);
        pos = nl + 1;
      }
    }
  }

  /** Bytes arrived with nothing pending: only a (possibly partial) refusal line is tolerated. */
  #unsolicited(buf: Buffer, start: number, end: number): void {
    const n = Math.min(end - start, TOO_MANY.length);
    for (let i = 0; i < n; i++) {
      if (buf[start + i] !== TOO_MANY[i]) {
        this.#fail(`unsolicited data with no request pending: ${snippet(buf, start, end)}`);
        return;
      }
    }
    if (n === TOO_MANY.length) {
      this.#report(new TooManyConnectionsError({ server: this.#server }));
    } else if (buf !== this.#tail) {
      this.#tailUnsolicited = true;
      this.#append(buf, start, end);
    }
  }

  #append(src: Buffer, start: number, end: number): void {
    const need = this.#tailLen + end - start;
    if (this.#tail === null || this.#tail.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(need, 2 * (this.#tail?.length ?? 0), 128), this.#maxLine + 2));
      if (this.#tail !== null) this.#tail.copy(grown, 0, 0, this.#tailLen);
      this.#tail = grown;
    }
    src.copy(this.#tail, this.#tailLen, start, end);
    this.#tailLen = need;
  }

  /** One complete line: `buf[start, nl)` followed by `\n` at `nl`. */
  #line(buf: Buffer, start: number, nl: number): void {
    const end = nl - 1;
    if (end - start > this.#maxLine) {
      this.#fail(`reply line longer than maxLineBytes (${this.#maxLine}): ${snippet(buf, start, nl)}`);
      return;
    }
    if (end < start || buf[end] !== CR) {
      this.#fail(`reply line ends with a bare \\n instead of \\r\\n: ${snippet(buf, start, nl + 1)}`);
      return;
    }
    const kind = this.#kinds[this.#head]!;
    if (kind === 'retrieval') {
      if (startsWith(buf, start, end, VALUE_)) return this.#valueLine(buf, start, end);
      if (equals(buf, start, end, END)) {
        const values = this.#values;
        this.#values = [];
        return this.#answer({ kind: 'values', values });
      }
    } else if (kind === 'stats') {
      if (startsWith(buf, start, end, STAT_)) {
        let sp = start + STAT_.length;
        while (sp < end && buf[sp] !== SP) sp++;
        if (sp > start + STAT_.length) {
          if (this.#stats.length >= MAX_STAT_LINES) return this.#fail(`stats reply has more than ${MAX_STAT_LINES} STAT lines`);
          const name = buf.toString('utf8', start + STAT_.length, sp);
          this.#stats.push([name, sp < end ? buf.toString('utf8', sp + 1, end) : '']);
          return;
        }
      } else if (equals(buf, start, end, END)) {
        const stats = this.#stats;
        this.#stats = [];
        return this.#answer({ kind: 'stats', stats });
      }
    } else if (kind === 'version') {
      if (startsWith(buf, start, end, VERSION_) && end > start + VERSION_.length) {
        return this.#answer({ kind: 'version', version: buf.toString('utf8', start + VERSION_.length, end) });
      }
    } else if (kind === 'arith' && isUint64(buf, start, end)) {
      return this.#answer({ kind: 'number', value: buf.toString('latin1', start, end) });
    }
    const accepted = STATUS_BY_KIND[kind];
    if (accepted !== undefined) {
      for (const s of accepted) if (equals(buf, start, end, s.lit)) return this.#answer(s.reply);
    }
    const error = errorLine(buf, start, end);
    if (error !== null) {
      // An error ends the request: values or stats read so far belong to a failed reply.
      this.#values = [];
      this.#stats = [];
      return this.#answer(error);
    }
    this.#fail(`unexpected reply to a ${kind} request: ${snippet(buf, start, nl + 1)}`);
  }

  /** `VALUE <key> <flags> <bytes> [<cas>]`, checked before anything is allocated for the data. */
  #valueLine(buf: Buffer, start: number, end: number): void {
    if (this.#values.length >= this.#maxValues[this.#head]!) {
      return this.#fail(`more VALUE blocks than the ${this.#maxValues[this.#head]} key(s) requested: ${snippet(buf, start, end)}`);
    }
    let p = start + VALUE_.length;
    const keyStart = p;
    while (p < end && buf[p] !== SP) p++;
    const keyEnd = p;
    if (keyEnd === keyStart || keyEnd - keyStart > MAX_KEY_BYTES || p === end) return this.#badValue(buf, start, end);

    let flags = 0;
    const flagsStart = ++p;
    for (; p < end && buf[p] !== SP; p++) {
      const d = buf[p]! - D0;
      if (d < 0 || d > 9) return this.#badValue(buf, start, end);
      flags = flags * 10 + d;
    }
    if (p === flagsStart || p - flagsStart > 10 || flags > 0xffffffff || p === end) return this.#badValue(buf, start, end);

    // Stop as soon as the length exceeds the cap: a forged 4 GB claim must cost nothing.
    let size = 0;
    const sizeStart = ++p;
    for (; p < end && buf[p] !== SP; p++) {
      const d = buf[p]! - D0;
      if (d < 0 || d > 9) return this.#badValue(buf, start, end);
      size = size * 10 + d;
      if (size > this.#maxValue) {
        return this.#fail(`VALUE line claims more than maxValueBytes (${this.#maxValue}) bytes: ${snippet(buf, start, end)}`);
      }
    }
    if (p === sizeStart) return this.#badValue(buf, start, end);

    let cas: string | undefined;
    if (p < end) {
      if (!isUint64(buf, p + 1, end)) return this.#badValue(buf, start, end);
      cas = buf.toString('latin1', p + 1, end);
    }
    this.#dKey = buf.toString('utf8', keyStart, keyEnd);
    this.#dFlags = flags;
    this.#dCas = cas;
    this.#dBytes = size;
    this.#dFilled = 0;
    this.#dCrlf = 0;
    this.#dBuf = null;
    this.#inData = true;
  }

  #badValue(buf: Buffer, start: number, end: number): void {
    this.#fail(`malformed VALUE line in reply to a retrieval request: ${snippet(buf, start, end)}`);
  }

  /** Reads (part of) the current value's data block and its `\r\n`; returns the new position. */
  #data(chunk: Buffer, pos: number): number {
    const size = this.#dBytes;
    const len = chunk.length;
    if (this.#dBuf === null) {
      const avail = len - pos;
      if (avail >= size + 2) {
        // Hot path: the whole block is in this chunk, so hand out a view without copying.
        if (chunk[pos + size] !== CR || chunk[pos + size + 1] !== LF) {
          this.#badTrailer(chunk, pos + size);
          return len;
        }
        this.#pushValue(chunk.subarray(pos, pos + size));
        return pos + size + 2;
      }
      if (avail >= size) {
        this.#dBuf = chunk.subarray(pos, pos + size);
        this.#dFilled = size;
        pos += size;
      } else {
        // Exact size, allocated once: chunks are copied in, never concatenated.
        this.#dBuf = Buffer.allocUnsafe(size);
        chunk.copy(this.#dBuf, 0, pos, len);
        this.#dFilled = avail;
        return len;
      }
    } else if (this.#dFilled < size) {
      const n = Math.min(size - this.#dFilled, len - pos);
      chunk.copy(this.#dBuf, this.#dFilled, pos, pos + n);
      this.#dFilled += n;
      pos += n;
    }
    while (this.#dFilled === size && pos < len) {
      if (chunk[pos] !== (this.#dCrlf === 0 ? CR : LF)) {
        this.#badTrailer(chunk, pos);
        return len;
      }
      pos++;
      if (++this.#dCrlf === 2) {
        this.#pushValue(this.#dBuf);
        break;
      }
    }
    return pos;
  }

  #pushValue(data: Buffer): void {
    this.#values.push({ key: this.#dKey, flags: this.#dFlags, data, cas: this.#dCas });
    this.#inData = false;
    this.#dBuf = null;
  }

  #badTrailer(chunk: Buffer, at: number): void {
    this.#fail(
      `data block of VALUE ${JSON.stringify(this.#dKey.slice(0, 60))} (${this.#dBytes} bytes) is not followed by \\r\\n: `
        + `found ${snippet(chunk, at, Math.min(chunk.length, at + 8))}`,
    );
  }

  #answer(reply: Reply): void {
    this.#head++;
    if (this.#head === this.#kinds.length) {
      this.#kinds.length = 0;
      this.#maxValues.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#kinds.length) {
      // Amortised compaction instead of shift(), which is O(n) on large queues.
      this.#kinds.splice(0, this.#head);
      this.#maxValues.splice(0, this.#head);
      this.#head = 0;
    }
    try {
      this.#onReply(reply);
    } catch (err) {
      this.#fail('onReply callback threw; parser stopped', err);
    }
  }

  #fail(message: string, cause?: unknown): void {
    this.#report(new ProtocolError(message, cause === undefined ? { server: this.#server } : { server: this.#server, cause }));
  }

  #report(err: MemclusterError): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#tail = null;
    this.#tailLen = 0;
    this.#tailUnsolicited = false;
    this.#values = [];
    this.#stats = [];
    this.#dBuf = null;
    this.#inData = false;
    try {
      this.#onError(err);
    } catch {
      // The owner's handler failing must not turn feed() into a throwing call.
    }
  }
}

/** `ERROR [msg]`, `CLIENT_ERROR [msg]` or `SERVER_ERROR [msg]` as a reply, else null. */
function errorLine(buf: Buffer, start: number, end: number): Reply | null {
  for (const [word, kind] of ERROR_WORDS) {
    if (!startsWith(buf, start, end, word)) continue;
    const p = start + word.length;
    if (p === end) return { kind, message: '' };
    return buf[p] === SP ? { kind, message: buf.toString('utf8', p + 1, end) } : null;
  }
  return null;
}

function startsWith(buf: Buffer, start: number, end: number, lit: Buffer): boolean {
  const n = lit.length;
  if (end - start < n) return false;
  for (let i = 0; i < n; i++) if (buf[start + i] !== lit[i]) return false;
  return true;
}

function equals(buf: Buffer, start: number, end: number, lit: Buffer): boolean {
  return end - start === lit.length && startsWith(buf, start, end, lit);
}

/** 1 to 20 decimal digits not above 2^64 - 1 (a cas unique or an incr/decr result). */
function isUint64(buf: Buffer, start: number, end: number): boolean {
  const n = end - start;
  if (n < 1 || n > 20) return false;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - D0;
    if (d < 0 || d > 9) return false;
  }
  return n < 20 || buf.toString('latin1', start, end) <= UINT64_MAX;
}

/** A short, escaped, quoted excerpt of a line for error messages (never the whole payload). */
function snippet(buf: Buffer, start: number, end: number): string {
  const stop = Math.min(end, start + 60);
  let s = '';
  for (let i = start; i < stop; i++) {
    const c = buf[i]!;
    if (c === CR) s += '\\r';
    else if (c === LF) s += '\\n';
    else if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) s += `\\x${c.toString(16).padStart(2, '0')}`;
    else s += String.fromCharCode(c);
  }
  return `"${s}"${end > stop ? '...' : ''}`;
}

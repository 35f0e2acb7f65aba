/**
 * Incremental reply parser for the memcached text and meta protocols.
 *
 * The owner tells the parser what each request expects (`expect`, in write order) and feeds it
 * socket chunks split anywhere (`feed`). Replies come back through `onReply` in request order.
 * Anything that is not exactly a valid reply to the oldest pending request is a protocol error:
 * the connection is in an unknown state, so the parser reports it once, then goes deaf.
 *
 * This file frames the stream (lines, data blocks, unsolicited bytes); what a line means is up to
 * the grammar of the oldest expectation's kind: text-grammar.ts for classic replies,
 * meta-grammar.ts for `meta`/`meta_batch`. One parser serves both, so one socket can mix them.
 *
 * Memory is bounded: only an incomplete line (at most `maxLineBytes`) is buffered, and a value's
 * buffer is allocated once at its exact, already-checked length, and only when its data spans
 * chunks. Values wholly inside one chunk are zero-copy views of that chunk.
 */
import { MemclusterError, ProtocolError, TooManyConnectionsError } from '../errors.js';
import { META_KINDS, MetaGrammar } from './meta-grammar.js';
import { DEFAULT_MAX_STATS_BYTES, DEFAULT_MAX_STATS_LINES, TEXT_KINDS, TextGrammar } from './text-grammar.js';
import type { ParserOptions, Reply, ReplyKind } from './types.js';
import { TOO_LARGE } from './hit.js';
import { bytes, CR, type Grammar, type GrammarSink, LF, snippet } from './wire.js';

const DEFAULT_MAX_LINE_BYTES = 8192;
/** A value spanning chunks up to this size is read into one buffer of its exact size, allocated at its line. */
const EAGER_VALUE_BYTES = 4 * 1024 * 1024;
const TOO_MANY = bytes('ERROR Too many open connections\r\n');
const KINDS: ReadonlySet<string> = new Set([...TEXT_KINDS, ...META_KINDS]);
/** Whether a kind's replies are read by the meta grammar (`META_KINDS`); a comparison, not a lookup, per line. */
const isMeta = (kind: ReplyKind): boolean => kind === 'meta' || kind === 'meta_batch';

/**
 * Turns a byte stream of memcached replies (classic text and meta) into {@link Reply} objects,
 * matched to requests by position.
 *
 * - `values[i].data` of a `values` reply, and `data` of a `VA` meta reply, is a view into the chunk
 *   passed to `feed` when the value arrived inside one chunk (it keeps that chunk alive),
 *   otherwise a buffer of its own.
 * - Status replies are shared frozen objects: compare them, do not mutate them.
 * - `feed` never throws. An exception thrown by `onReply` is reported as a `ProtocolError` (cause
 *   set) and stops the parser; one thrown by `onError` is swallowed. `expect` may be called from
 *   inside `onReply`; `feed` may not (that is reported as a `ProtocolError`).
 */
export class ReplyParser {
  readonly #server: string | undefined;
  readonly #maxLine: number;
  /** Values longer than this are read and dropped (`TOO_LARGE`); the grammars refuse claims beyond `dropValuesUpTo`. */
  readonly #keepMax: number;
  readonly #text: TextGrammar;
  readonly #meta: MetaGrammar;
  readonly #onReply: (reply: Reply) => void;
  readonly #onError: (err: MemclusterError) => void;

  #kinds: ReplyKind[] = [];
  /** Per expectation, the most VALUE blocks its reply may hold (the keys it asked for). */
  #maxValues: number[] = [];
  /** Per expectation, the keys its hits must name, in request order (undefined: any key, decoded). */
  #keys: Array<readonly string[] | undefined> = [];
  #head = 0;
  #failed = false;
  #feeding = false;

  // Incomplete line carried to the next chunk; grown geometrically up to maxLineBytes + 2.
  #tail: Buffer | null = null;
  #tailLen = 0;
  // The partial line began while nothing was pending: it may only become the refusal line.
  #tailUnsolicited = false;

  // The data block being read (valid while #inData), and the grammar that announced it.
  #inData = false;
  #dOwner: Grammar | null = null;
  #dBytes = 0;
  #dFilled = 0;
  #dCrlf = 0;
  #dBuf: Buffer | null = null;

  /**
   * @param opts `maxValueBytes` bounds the length a `VALUE`/`VA` line may claim; `maxLineBytes`
   *   (default 8192) bounds any reply line; `maxStatsLines`/`maxStatsBytes` (default 1,000,000 /
   *   64 MiB) turn a bigger stats reply into an `oversize` reply; `server` is put on every error.
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
    const maxStatsLines = opts.maxStatsLines ?? DEFAULT_MAX_STATS_LINES;
    const maxStatsBytes = opts.maxStatsBytes ?? DEFAULT_MAX_STATS_BYTES;
    for (const [name, v] of [['maxStatsLines', maxStatsLines], ['maxStatsBytes', maxStatsBytes]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`ReplyParser: ${name} must be a non-negative integer, got ${v}`);
    }
    this.#server = opts.server;
    this.#maxLine = maxLine;
    this.#keepMax = opts.maxValueBytes;
    const drop = opts.dropValuesUpTo ?? 0;
    if (!Number.isSafeInteger(drop) || drop < 0) throw new RangeError(`ReplyParser: dropValuesUpTo must be a non-negative integer, got ${drop}`);
    const claim = drop > opts.maxValueBytes ? { bytes: drop, name: 'the largest item memcached holds' } : { bytes: opts.maxValueBytes, name: 'maxValueBytes' };
    // Bound once: the grammars call back into this parser without a closure per line.
    const sink: GrammarSink = {
      answer: (reply) => this.#answer(reply),
      fail: (message) => this.#fail(message),
      beginData: (size) => this.#beginData(size),
    };
    this.#text = new TextGrammar(sink, { maxClaim: claim, maxStatsLines, maxStatsBytes });
    this.#meta = new MetaGrammar(sink, claim);
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
   * `maxValues` (for retrievals: the number of keys asked for; for a `meta_batch`: the number of
   * requests before its `mn`) bounds the VALUE blocks / meta reply lines the reply may hold, so a
   * server cannot grow one reply without end. `keys`, when given, are the keys as written that the
   * reply's `VALUE` lines / `k` flags must name, in request order: each is matched byte for byte
   * (not decoded), the reply carries these very strings, and a key that is not among them (or comes
   * out of order) is a protocol error.
   */
  expect(kind: ReplyKind, maxValues = Number.MAX_SAFE_INTEGER, keys?: readonly string[]): void {
    if (!KINDS.has(kind)) throw new TypeError(`ReplyParser.expect: unknown reply kind ${String(kind)}`);
    this.#kinds.push(kind);
    this.#maxValues.push(maxValues);
    this.#keys.push(keys);
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
        // A JS scan, not Buffer#indexOf: reply lines are short, and a native call per line costs more.
        let nl = pos;
        while (nl < len && chunk[nl] !== LF) nl++;
        if (nl === len) {
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
    (isMeta(kind) ? this.#meta : this.#text).line(buf, start, end, kind, this.#maxValues[this.#head]!, this.#keys[this.#head]);
  }

  #beginData(size: number): void {
    this.#dOwner = isMeta(this.#kinds[this.#head]!) ? this.#meta : this.#text;
    this.#dBytes = size;
    this.#dFilled = 0;
    this.#dCrlf = 0;
    // A value over maxValueBytes (within dropValuesUpTo) is counted through, never stored.
    this.#dBuf = size > this.#keepMax ? TOO_LARGE : null;
    this.#inData = true;
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
        this.#pushValue(chunk, pos, pos + size);
        return pos + size + 2;
      }
      if (avail >= size) {
        this.#dBuf = chunk.subarray(pos, pos + size);
        this.#dFilled = size;
        pos += size;
      } else {
        // Exact size, allocated once (chunks copied in); a larger claim grows with the bytes that
        // arrive: one line must not take up to the read cap (1 GiB under compat) at once.
        this.#dBuf = Buffer.allocUnsafe(size <= EAGER_VALUE_BYTES ? size : Math.max(EAGER_VALUE_BYTES, avail));
        chunk.copy(this.#dBuf, 0, pos, len);
        this.#dFilled = avail;
        return len;
      }
    } else if (this.#dFilled < size) {
      const n = Math.min(size - this.#dFilled, len - pos);
      if (this.#dBuf !== TOO_LARGE) {
        if (this.#dBuf.length < this.#dFilled + n) this.#growData(this.#dFilled + n);
        chunk.copy(this.#dBuf, this.#dFilled, pos, pos + n);
      }
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
        this.#pushValue(this.#dBuf, 0, size);
        break;
      }
    }
    return pos;
  }

  /** Grows the buffer of a large value being read to hold `need` bytes (doubling, at most its claimed size). */
  #growData(need: number): void {
    const grown = Buffer.allocUnsafe(Math.min(this.#dBytes, Math.max(need, 2 * this.#dBuf!.length)));
    this.#dBuf!.copy(grown, 0, 0, this.#dFilled);
    this.#dBuf = grown;
  }

  /** The data block is `buf[start, end)`: the chunk it arrived in, or a buffer of its own. */
  #pushValue(buf: Buffer, start: number, end: number): void {
    this.#inData = false;
    this.#dBuf = null;
    this.#dOwner!.data(buf, start, end);
  }

  #badTrailer(chunk: Buffer, at: number): void {
    this.#fail(
      `data block of ${this.#dBytes} bytes is not followed by \\r\\n: found ${snippet(chunk, at, Math.min(chunk.length, at + 8))}`,
    );
  }

  #answer(reply: Reply): void {
    this.#head++;
    if (this.#head === this.#kinds.length) {
      this.#kinds.length = 0;
      this.#maxValues.length = 0;
      this.#keys.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#kinds.length) {
      // Amortised compaction instead of shift(), which is O(n) on large queues.
      this.#kinds.splice(0, this.#head);
      this.#maxValues.splice(0, this.#head);
      this.#keys.splice(0, this.#head);
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
    this.#text.reset();
    this.#meta.reset();
    this.#dBuf = null;
    this.#inData = false;
    try {
      this.#onError(err);
    } catch {
      // The owner's handler failing must not turn feed() into a throwing call.
    }
  }
}

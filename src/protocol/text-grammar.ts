/**
 * The classic text protocol's reply grammar, one line at a time, for the {@link ReplyParser}.
 * The parser frames lines and data blocks; this file decides what each line means for the kind
 * of request it answers, and builds the reply.
 */
import { Hit } from './hit.js';
import { keyOf, latin1Of } from './slices.js';
import type { Reply, ReplyKind, Status, ValueClaimLimit, ValueEntry } from './types.js';
import {
  bytes, D0, equals, errorLine, type Grammar, type GrammarSink, isUint64, matchKey, MAX_KEY_BYTES, snippet, SP, startsWith,
} from './wire.js';

const VALUE_ = bytes('VALUE ');
const END = bytes('END');
const STAT_ = bytes('STAT ');
const ITEM_ = bytes('ITEM ');
const PREFIX_ = bytes('PREFIX ');
const RESET = bytes('RESET');
const OK = bytes('OK');
const VERSION_ = bytes('VERSION ');

/** Default cap on a stats reply's lines: every group of a real server holds a few thousand at most. */
export const DEFAULT_MAX_STATS_LINES = 1_000_000;
/** Default cap on the bytes of a stats reply's lines. */
export const DEFAULT_MAX_STATS_BYTES = 64 * 1024 * 1024;

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

/** The kinds this grammar parses. */
export const TEXT_KINDS: readonly ReplyKind[] = ['retrieval', 'version', 'stats', 'stats_line', ...Object.keys(STATUS_BY_KIND) as ReplyKind[]];

export interface TextLimits {
  /** The longest value a `VALUE` line may claim, and what that bound is called in the error. */
  maxClaim: ValueClaimLimit;
  maxStatsLines: number;
  maxStatsBytes: number;
}

export class TextGrammar implements Grammar {
  readonly #sink: GrammarSink;
  readonly #lim: TextLimits;

  #values: ValueEntry[] = [];
  #stats: Array<[string, string]> = [];
  #lines: string[] = [];
  #statLines = 0;
  #statBytes = 0;
  /** Past a stats cap: lines are still checked, counted and consumed, but no longer stored. */
  #oversize = false;

  // The VALUE line whose data block the parser is reading.
  #dKey = '';
  /** Where the next hit's key is looked for among the expectation's keys. */
  #keyNext = 0;
  #dFlags = 0;
  #dCas: string | undefined = undefined;

  constructor(sink: GrammarSink, limits: TextLimits) {
    this.#sink = sink;
    this.#lim = limits;
  }

  line(buf: Buffer, start: number, end: number, kind: ReplyKind, maxValues: number, keys: readonly string[] | undefined): void {
    if (kind === 'retrieval') {
      if (startsWith(buf, start, end, VALUE_)) return this.#valueLine(buf, start, end, maxValues, keys);
      if (equals(buf, start, end, END)) {
        const values = this.#values;
        this.#values = [];
        this.#keyNext = 0;
        return this.#sink.answer({ kind: 'values', values });
      }
    } else if (kind === 'stats' || kind === 'stats_line') {
      if (this.#statsLine(buf, start, end, kind)) return;
    } else if (kind === 'version') {
      if (startsWith(buf, start, end, VERSION_) && end > start + VERSION_.length) {
        return this.#sink.answer({ kind: 'version', version: buf.toString('utf8', start + VERSION_.length, end) });
      }
    } else if (kind === 'arith' && isUint64(buf, start, end)) {
      return this.#sink.answer({ kind: 'number', value: buf.toString('latin1', start, end) });
    }
    const accepted = STATUS_BY_KIND[kind];
    if (accepted !== undefined) {
      for (const s of accepted) if (equals(buf, start, end, s.lit)) return this.#sink.answer(s.reply);
    }
    const error = errorLine(buf, start, end);
    if (error !== null) {
      // An error ends the request: values or stats read so far belong to a failed reply.
      this.reset();
      return this.#sink.answer(error);
    }
    this.#sink.fail(`unexpected reply to a ${kind} request: ${snippet(buf, start, end + 2)}`);
  }

  data(buf: Buffer, start: number, end: number): void {
    this.#values.push(new Hit(this.#dKey, this.#dFlags, this.#dCas, buf, start, end));
  }

  reset(): void {
    this.#values = [];
    this.#keyNext = 0;
    this.#stats = [];
    this.#lines = [];
    this.#statLines = 0;
    this.#statBytes = 0;
    this.#oversize = false;
  }

  /** True when the line was a valid part of a stats reply (and was handled). */
  #statsLine(buf: Buffer, start: number, end: number, kind: 'stats' | 'stats_line'): boolean {
    if (startsWith(buf, start, end, STAT_)) {
      let sp = start + STAT_.length;
      while (sp < end && buf[sp] !== SP) sp++;
      if (sp === start + STAT_.length) return false;
      if (kind === 'stats_line') {
        const entry: [string, string] = [buf.toString('utf8', start + STAT_.length, sp), sp < end ? buf.toString('utf8', sp + 1, end) : ''];
        // `STAT sizes_status error` is followed by `STAT sizes_error <why>` (a server run with -C,
        // or out of memory): the reply is both lines.
        if (this.#stats.length === 0 && entry[0] === 'sizes_status' && entry[1] === 'error') {
          this.#stats.push(entry);
          return true;
        }
        const stats = this.#stats.length === 0 ? [entry] : [...this.#stats, entry];
        this.#stats = [];
        this.#sink.answer({ kind: 'stats', stats, lines: [], end: null });
      } else if (this.#count(end - start)) {
        this.#stats.push([buf.toString('utf8', start + STAT_.length, sp), sp < end ? buf.toString('utf8', sp + 1, end) : '']);
      }
      return true;
    }
    if (kind === 'stats_line') return false;
    if (startsWith(buf, start, end, ITEM_) || startsWith(buf, start, end, PREFIX_)) {
      if (this.#count(end - start)) this.#lines.push(buf.toString('utf8', start, end));
      return true;
    }
    const first = this.#statLines === 0;
    const term = equals(buf, start, end, END) ? 'END'
      : first && equals(buf, start, end, RESET) ? 'RESET'
        : first && equals(buf, start, end, OK) ? 'OK' : null;
    if (term === null) return false;
    const reply: Reply = this.#oversize
      ? { kind: 'oversize', message: `stats reply exceeds ${this.#lim.maxStatsLines} lines or ${this.#lim.maxStatsBytes} bytes (${this.#statLines} lines, ${this.#statBytes} bytes); read to its end and dropped` }
      : { kind: 'stats', stats: this.#stats, lines: this.#lines, end: term };
    this.reset();
    this.#sink.answer(reply);
    return true;
  }

  /** Counts one stats line; false once the reply is over a cap (then nothing more is stored). */
  #count(lineBytes: number): boolean {
    this.#statLines++;
    this.#statBytes += lineBytes;
    if (this.#oversize) return false;
    if (this.#statLines > this.#lim.maxStatsLines || this.#statBytes > this.#lim.maxStatsBytes) {
      this.#oversize = true;
      this.#stats = [];
      this.#lines = [];
      return false;
    }
    return true;
  }

  /** `VALUE <key> <flags> <bytes> [<cas>]`, checked before anything is allocated for the data. */
  #valueLine(buf: Buffer, start: number, end: number, maxValues: number, keys: readonly string[] | undefined): void {
    if (this.#values.length >= maxValues) {
      return this.#sink.fail(`more VALUE blocks than the ${maxValues} key(s) requested: ${snippet(buf, start, end)}`);
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
      if (size > this.#lim.maxClaim.bytes) {
        return this.#sink.fail(`VALUE line claims more than ${this.#lim.maxClaim.name} (${this.#lim.maxClaim.bytes}) bytes: ${snippet(buf, start, end)}`);
      }
    }
    if (p === sizeStart) return this.#badValue(buf, start, end);

    let cas: string | undefined;
    if (p < end) {
      if (!isUint64(buf, p + 1, end)) return this.#badValue(buf, start, end);
      cas = latin1Of(buf, p + 1, end);
    }
    if (keys === undefined) this.#dKey = keyOf(buf, keyStart, keyEnd);
    else {
      const i = matchKey(buf, keyStart, keyEnd, keys, this.#keyNext);
      if (i < 0) return this.#sink.fail(`server returned key ${snippet(buf, keyStart, keyEnd)} that was not requested (or out of order)`);
      this.#keyNext = i + 1;
      this.#dKey = keys[i]!;
    }
    this.#dFlags = flags;
    this.#dCas = cas;
    this.#sink.beginData(size);
  }

  #badValue(buf: Buffer, start: number, end: number): void {
    this.#sink.fail(`malformed VALUE line in reply to a retrieval request: ${snippet(buf, start, end)}`);
  }
}

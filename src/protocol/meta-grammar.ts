/**
 * The meta protocol's reply grammar (memcached >= 1.6.10 syntax), one line at a time, for the
 * {@link ReplyParser}:
 *
 *   `VA <len> <flags>*` + data + `\r\n` | `HD|EN|NF|NS|EX <flags>*` | `ERROR|CLIENT_ERROR|SERVER_ERROR ...`
 *
 * A `meta` expectation takes exactly one of these. A `meta_batch` expectation (quiet requests
 * fenced by `mn`) takes any number of them (bounded by its request count) up to `MN`, and is
 * answered once. Return flags are checked one by one: an unknown letter, a malformed value, a
 * double or trailing space is a protocol error, since a server only returns the flags asked for.
 */
import type { MetaBatchError, MetaCode, MetaFlags, MetaReply, Reply, ReplyKind, ValueClaimLimit, ValueEntry } from './types.js';
import { D0, decimal, equals, errorLine, type Grammar, type GrammarSink, isUint64, matchKey, MAX_KEY_BYTES, snippet, SP, bytes } from './wire.js';
import { Hit, TOO_LARGE } from './hit.js';
import { keyOf, latin1Of } from './slices.js';

const MN = bytes('MN');
/** The longest opaque token memcached 1.6.18 accepts is 31; one more leaves room for newer servers. */
const MAX_OPAQUE_BYTES = 32;

/** The kinds this grammar parses. */
export const META_KINDS: readonly ReplyKind[] = ['meta', 'meta_batch'];

/** The meta code of a line's first two bytes (`MN` is not a code: it ends a batch). */
function codeOf(a: number, b: number): MetaCode | undefined {
  switch (a) {
    case 0x56: return b === 0x41 ? 'VA' : undefined; // VA
    case 0x48: return b === 0x44 ? 'HD' : undefined; // HD
    case 0x45: return b === 0x4e ? 'EN' : b === 0x58 ? 'EX' : undefined; // EN EX
    case 0x4e: return b === 0x46 ? 'NF' : b === 0x53 ? 'NS' : undefined; // NF NS
    default: return undefined;
  }
}

export class MetaGrammar implements Grammar {
  readonly #sink: GrammarSink;
  readonly #maxClaim: ValueClaimLimit;

  // The batch being collected (valid while a meta_batch expectation is the oldest).
  #replies: MetaReply[] = [];
  #errors: MetaBatchError[] = [];
  #hits: ValueEntry[] = [];
  /** A plain hit's flags, as `#hitFlags` read them. */
  readonly #hit = { flags: 0, keyStart: -1, keyEnd: -1, cas: undefined as string | undefined };
  /** The data block being read belongs to a plain hit (`#dHitKey`), not to a MetaReply. */
  #dHitKey: string | undefined = undefined;

  /** Where the next hit's key is looked for among the batch's keys. */
  #keyNext = 0;
  /** Where parseFlags found the `k` token of the line (start -1: none). */
  readonly #keyAt = { start: -1, end: -1 };

  // The VA line whose data block the parser is reading.
  #dFlags: MetaFlags | null = null;
  #dBatch = false;

  constructor(sink: GrammarSink, maxClaim: ValueClaimLimit) {
    this.#sink = sink;
    this.#maxClaim = maxClaim;
  }

  line(buf: Buffer, start: number, end: number, kind: ReplyKind, maxValues: number, keys: readonly string[] | undefined): void {
    const batch = kind === 'meta_batch';
    const code = end - start >= 2 && (end - start === 2 || buf[start + 2] === SP) ? codeOf(buf[start]!, buf[start + 1]!) : undefined;
    if (code !== undefined) {
      if (batch && this.#replies.length + this.#hits.length >= maxValues) {
        return this.#sink.fail(`more meta replies than the ${maxValues} request(s) in the batch: ${snippet(buf, start, end)}`);
      }
      return this.#metaLine(code, buf, start, end, batch, keys);
    }
    if (batch && equals(buf, start, end, MN)) {
      const reply: Reply = { kind: 'meta_batch', replies: this.#replies, errors: this.#errors, hits: this.#hits };
      this.#replies = [];
      this.#errors = [];
      this.#hits = [];
      this.#keyNext = 0;
      return this.#sink.answer(reply);
    }
    const error = errorLine(buf, start, end);
    if (error !== null) {
      if (!batch) return this.#sink.answer(error);
      // A request answers one line, or at worst two error lines (CLIENT_ERROR + ERROR for its data).
      if (this.#replies.length + this.#hits.length + this.#errors.length >= 2 * maxValues) {
        return this.#sink.fail(`more error lines than the ${maxValues} request(s) in the batch can cause: ${snippet(buf, start, end)}`);
      }
      this.#errors.push({ kind: error.kind, message: error.message, index: this.#replies.length + this.#hits.length });
      return;
    }
    this.#sink.fail(`unexpected reply to a ${kind} request: ${snippet(buf, start, end + 2)}`);
  }

  data(buf: Buffer, start: number, end: number): void {
    if (this.#dHitKey !== undefined) {
      const h = this.#hit;
      this.#hits.push(new Hit(this.#dHitKey, h.flags, h.cas, buf, start, end));
      this.#dHitKey = undefined;
      return;
    }
    const block = buf === TOO_LARGE ? TOO_LARGE : buf.subarray(start, end);
    this.#push({ kind: 'meta', code: 'VA', data: block, flags: this.#dFlags! }, this.#dBatch);
    this.#dFlags = null;
  }

  reset(): void {
    this.#keyNext = 0;
    this.#hits = [];
    this.#dHitKey = undefined;
    this.#replies = [];
    this.#errors = [];
    this.#dFlags = null;
  }

  #push(reply: MetaReply, batch: boolean): void {
    if (batch) this.#replies.push(reply);
    else this.#sink.answer(reply);
  }

  #metaLine(code: MetaCode, buf: Buffer, start: number, end: number, batch: boolean, keys: readonly string[] | undefined): void {
    let p = start + 2;
    let size = 0;
    if (code === 'VA') {
      // `VA <len>`: stop as soon as the length exceeds the cap, so a forged 4 GB claim costs nothing.
      const sizeStart = ++p;
      for (; p < end && buf[p] !== SP; p++) {
        const d = buf[p]! - D0;
        if (d < 0 || d > 9) return this.#bad(buf, start, end, 'bad VA length');
        size = size * 10 + d;
        if (size > this.#maxClaim.bytes) {
          return this.#sink.fail(`VA line claims more than ${this.#maxClaim.name} (${this.#maxClaim.bytes}) bytes: ${snippet(buf, start, end)}`);
        }
      }
      if (p === sizeStart || sizeStart > end) return this.#bad(buf, start, end, 'bad VA length');
    }
    // A read batch's plain hit: straight to a value entry (no flags object, no MetaReply).
    if (code === 'VA' && batch && keys !== undefined && this.#hitFlags(buf, p, end)) {
      const h = this.#hit;
      const i = matchKey(buf, h.keyStart, h.keyEnd, keys, this.#keyNext);
      if (i < 0) return this.#sink.fail(`meta reply for key ${snippet(buf, h.keyStart, h.keyEnd)} that was not requested (or out of order)`);
      this.#keyNext = i + 1;
      this.#dHitKey = keys[i]!;
      this.#sink.beginData(size);
      return;
    }
    const at = this.#keyAt;
    at.start = -1;
    const flags = parseFlags(buf, p, end, at);
    if (typeof flags === 'string') return this.#bad(buf, start, end, flags);
    if (at.start >= 0) {
      if (keys === undefined) flags.key = keyOf(buf, at.start, at.end);
      else {
        const i = matchKey(buf, at.start, at.end, keys, this.#keyNext);
        if (i < 0) return this.#sink.fail(`meta reply for key ${snippet(buf, at.start, at.end)} that was not requested (or out of order)`);
        flags.key = keys[i]!;
        // A single request's reply may repeat nothing; a batch's hits move on through its keys.
        this.#keyNext = batch ? i + 1 : 0;
      }
    }
    if (code !== 'VA') return this.#push({ kind: 'meta', code, data: undefined, flags }, batch);
    this.#dFlags = flags;
    this.#dBatch = batch;
    this.#sink.beginData(size);
  }

  /**
   * Reads the flags of a plain hit (`f<n>`, `k<key>`, `c<cas>`, each at most once, `k` present) into
   * `#hit`; false when the line holds anything else (the general path then parses, or refuses, it).
   */
  #hitFlags(buf: Buffer, p: number, end: number): boolean {
    const h = this.#hit;
    h.flags = 0;
    h.keyStart = -1;
    h.cas = undefined;
    let seen = 0;
    while (p < end) {
      if (buf[p] !== SP || p + 1 === end) return false;
      const letter = buf[p + 1];
      const t = p + 2;
      let e = t;
      while (e < end && buf[e] !== SP) e++;
      if (letter === 0x66) { // f
        const n = decimal(buf, t, e, 10);
        if ((seen & 1) !== 0 || n < 0 || n > 0xffffffff) return false;
        seen |= 1;
        h.flags = n;
      } else if (letter === 0x6b) { // k
        if ((seen & 2) !== 0 || e === t || e - t > MAX_KEY_BYTES || !tokenBytes(buf, t, e)) return false;
        seen |= 2;
        h.keyStart = t;
        h.keyEnd = e;
      } else if (letter === 0x63) { // c
        if ((seen & 4) !== 0 || !isUint64(buf, t, e)) return false;
        seen |= 4;
        h.cas = latin1Of(buf, t, e);
      } else {
        return false;
      }
      p = e;
    }
    return h.keyStart >= 0;
  }

  #bad(buf: Buffer, start: number, end: number, why: string): void {
    this.#sink.fail(`malformed meta reply line (${why}): ${snippet(buf, start, end)}`);
  }
}

/** Parses ` <flag>*` from `p` to `end`; returns the flags or why they are malformed. */
function parseFlags(buf: Buffer, p: number, end: number, keyAt: { start: number; end: number }): MetaFlags | string {
  const f: MetaFlags = {
    opaque: undefined, key: undefined, cas: undefined, ttl: undefined, clientFlags: undefined, size: undefined,
    hitBefore: undefined, lastAccess: undefined, win: false, stale: false, otherWon: false,
  };
  while (p < end) {
    if (buf[p] !== SP || p + 1 === end) return 'stray space';
    const t = p + 2; // first byte of the flag's token
    let e = t - 1;
    while (e < end && buf[e] !== SP) e++;
    if (e === t - 1) return 'stray space';
    const letter = buf[p + 1]!;
    switch (letter) {
      case 0x4f: // O
        // We send printable ASCII opaques only (meta-encoder), so that is all a reply may echo.
        if (e === t || e - t > MAX_OPAQUE_BYTES || !printableAscii(buf, t, e)) return 'bad opaque';
        f.opaque = latin1Of(buf, t, e);
        break;
      case 0x6b: // k
        if (e === t || e - t > MAX_KEY_BYTES || !tokenBytes(buf, t, e) || keyAt.start >= 0) return 'bad key';
        // Decoded (or matched to a request key) by the caller.
        keyAt.start = t;
        keyAt.end = e;
        break;
      case 0x63: // c
        if (!isUint64(buf, t, e)) return 'bad cas';
        f.cas = latin1Of(buf, t, e);
        break;
      case 0x74: // t
        if (e - t === 2 && buf[t] === 0x2d && buf[t + 1] === 0x31) {
          f.ttl = -1;
        } else {
          f.ttl = decimal(buf, t, e, 10);
          if (f.ttl < 0) return 'bad ttl';
        }
        break;
      case 0x66: // f
        f.clientFlags = decimal(buf, t, e, 10);
        if (f.clientFlags < 0 || f.clientFlags > 0xffffffff) return 'bad client flags';
        break;
      case 0x73: // s
        f.size = decimal(buf, t, e, 15);
        if (f.size < 0) return 'bad size';
        break;
      case 0x6c: // l
        f.lastAccess = decimal(buf, t, e, 15);
        if (f.lastAccess < 0) return 'bad last access';
        break;
      case 0x68: // h
        if (e - t !== 1 || (buf[t] !== 0x30 && buf[t] !== 0x31)) return 'bad hit-before';
        f.hitBefore = buf[t] === 0x31;
        break;
      case 0x57: // W
        if (e !== t) return 'bad W flag';
        f.win = true;
        break;
      case 0x58: // X
        if (e !== t) return 'bad X flag';
        f.stale = true;
        break;
      case 0x5a: // Z
        if (e !== t) return 'bad Z flag';
        f.otherWon = true;
        break;
      default:
        return 'unknown flag';
    }
    p = e;
  }
  return f;
}

/** An opaque token: printable ASCII only (0x21-0x7e), as the encoder sends it. */
function printableAscii(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/**
 * A key token: no NUL, CR, LF or space (memcached ends or splits a command there, so no key it
 * stored holds them); other control bytes are allowed, as memcached stores them (keys the
 * `memcached` 2.2.2 package wrote, read through the compat layer), and so are UTF-8 bytes.
 */
function tokenBytes(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x20 || c === 0x0d || c === 0x0a || c === 0x00) return false;
  }
  return true;
}

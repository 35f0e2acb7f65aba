/**
 * A loopback TCP proxy that forwards both ways unchanged and measures what the client sends:
 * request lines (counted at each `\n`), their lengths in bytes (the `\n` included), the first word
 * of each line, and how many connections and data chunks arrived. memcached has no per-line
 * counter (`cmd_get` counts keys), so this is how the multi-get tests see the lines on the wire.
 *
 * Data blocks of storage commands are counted as lines too (they end in `\r\n`); tests that count
 * lines look at lines of one command word (`linesOf('get')`), which data blocks never start with
 * in these tests.
 */
import { CuttingProxy, type ProxyObserver } from '../support/cutting-proxy.js';

/** What the proxy saw from the clients since the last `reset()`. */
export interface LineRecord {
  /** First word of the line (up to 16 bytes), e.g. `get`, `gat`, `mn`, `set`. */
  word: string;
  /** Bytes of the line, `\r\n` included. */
  bytes: number;
  /** The line text when `keepText` was set and the line is short enough (else undefined). */
  text?: string;
}

export interface CountingProxyOptions {
  /** Keep the text of lines up to this many bytes (default 0: keep none). */
  keepTextUpTo?: number;
}

/** The line being read on one connection. */
interface LineState {
  /** Bytes of the current (unterminated) line. */
  lineBytes: number;
  /** The first bytes of the current line (for its first word and, optionally, its text). */
  head: Buffer[];
  headBytes: number;
}

/** A {@link CuttingProxy} that never cuts, counting what passes from the clients. */
export class CountingProxy {
  #lines: LineRecord[] = [];
  #chunks = 0;
  #connections = 0;
  readonly #keep: number;
  #proxy!: CuttingProxy;

  private constructor(opts: CountingProxyOptions) {
    this.#keep = opts.keepTextUpTo ?? 0;
  }

  static async start(upstream: { readonly port: number }, opts: CountingProxyOptions = {}): Promise<CountingProxy> {
    const counter = new CountingProxy(opts);
    counter.#proxy = await CuttingProxy.start(upstream, { maxLineBytes: Infinity, observe: () => counter.#accept() });
    return counter;
  }

  get host(): string {
    return this.#proxy.host;
  }
  get port(): number {
    return this.#proxy.port;
  }
  get address(): string {
    return this.#proxy.address;
  }
  /** Every complete line the clients sent since the last reset. */
  get lines(): readonly LineRecord[] {
    return this.#lines;
  }
  /** Data chunks (reads) received from clients since the last reset. */
  get chunks(): number {
    return this.#chunks;
  }
  /** Client connections accepted since the last reset. */
  get connections(): number {
    return this.#connections;
  }
  /** Lines whose first word is `word`. */
  linesOf(word: string): LineRecord[] {
    return this.#lines.filter((l) => l.word === word);
  }
  /** The longest line of `word` (bytes, `\r\n` included), 0 when there is none. */
  maxLineOf(word: string): number {
    let m = 0;
    for (const l of this.#lines) if (l.word === word && l.bytes > m) m = l.bytes;
    return m;
  }
  /** Forgets what was counted (connections stay open). */
  reset(): void {
    this.#lines = [];
    this.#chunks = 0;
    this.#connections = 0;
  }

  /** A new client connection: counts it, and returns the observer of its traffic. */
  #accept(): ProxyObserver {
    this.#connections++;
    const state: LineState = { lineBytes: 0, head: [], headBytes: 0 };
    return (chunk, from) => {
      if (from !== 'client') return;
      this.#chunks++;
      this.#count(state, chunk);
    };
  }

  #count(state: LineState, chunk: Buffer): void {
    const headCap = Math.max(16, this.#keep);
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl < 0 ? chunk.length : nl + 1;
      const seg = chunk.subarray(pos, end);
      if (state.headBytes < headCap) {
        const take = seg.subarray(0, headCap - state.headBytes);
        state.head.push(Buffer.from(take));
        state.headBytes += take.length;
      }
      state.lineBytes += seg.length;
      if (nl < 0) break;
      const head = Buffer.concat(state.head).toString('latin1');
      const sp = head.search(/[ \r\n]/);
      const rec: LineRecord = { word: sp < 0 ? head : head.slice(0, sp), bytes: state.lineBytes };
      if (this.#keep > 0 && state.lineBytes <= this.#keep) rec.text = head.replace(/\r?\n$/, '');
      this.#lines.push(rec);
      state.lineBytes = 0;
      state.head = [];
      state.headBytes = 0;
      pos = end;
    }
  }

  close(): Promise<void> {
    return this.#proxy.close();
  }
}

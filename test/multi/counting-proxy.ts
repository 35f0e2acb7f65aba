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
import net from 'node:net';

const LOOPBACK = '127.0.0.1';

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

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  /** Bytes of the current (unterminated) line. */
  lineBytes: number;
  /** The first bytes of the current line (for its first word and, optionally, its text). */
  head: Buffer[];
  headBytes: number;
}

export class CountingProxy {
  readonly host = LOOPBACK;
  readonly #pairs = new Set<Pair>();
  #lines: LineRecord[] = [];
  #chunks = 0;
  #connections = 0;
  readonly #keep: number;

  private constructor(private readonly server: net.Server, readonly port: number, private readonly upstreamPort: number, opts: CountingProxyOptions) {
    this.#keep = opts.keepTextUpTo ?? 0;
  }

  static async start(upstream: { readonly port: number }, opts: CountingProxyOptions = {}): Promise<CountingProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => resolve());
    });
    const proxy = new CountingProxy(server, (server.address() as net.AddressInfo).port, upstream.port, opts);
    server.on('connection', (sock) => proxy.#accept(sock));
    return proxy;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
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

  #accept(client: net.Socket): void {
    this.#connections++;
    const upstream = net.connect({ host: LOOPBACK, port: this.upstreamPort });
    const pair: Pair = { client, upstream, lineBytes: 0, head: [], headBytes: 0 };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      this.#chunks++;
      this.#count(pair, chunk);
      forward(client, upstream, chunk);
    });
    upstream.on('data', (chunk: Buffer) => forward(upstream, client, chunk));
    const teardown = (): void => {
      if (!this.#pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', teardown);
      s.on('close', teardown);
      s.on('end', teardown);
    }
  }

  #count(pair: Pair, chunk: Buffer): void {
    const headCap = Math.max(16, this.#keep);
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl < 0 ? chunk.length : nl + 1;
      const seg = chunk.subarray(pos, end);
      if (pair.headBytes < headCap) {
        const take = seg.subarray(0, headCap - pair.headBytes);
        pair.head.push(Buffer.from(take));
        pair.headBytes += take.length;
      }
      pair.lineBytes += seg.length;
      if (nl < 0) break;
      const head = Buffer.concat(pair.head).toString('latin1');
      const sp = head.search(/[ \r\n]/);
      const rec: LineRecord = { word: sp < 0 ? head : head.slice(0, sp), bytes: pair.lineBytes };
      if (this.#keep > 0 && pair.lineBytes <= this.#keep) rec.text = head.replace(/\r?\n$/, '');
      this.#lines.push(rec);
      pair.lineBytes = 0;
      pair.head = [];
      pair.headBytes = 0;
      pos = end;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const p of [...this.#pairs]) {
        this.#pairs.delete(p);
        p.client.destroy();
        p.upstream.destroy();
      }
    });
  }
}

function forward(from: net.Socket, to: net.Socket, chunk: Buffer): void {
  if (to.write(chunk)) return;
  from.pause();
  to.once('drain', () => from.resume());
}

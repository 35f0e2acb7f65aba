/**
 * A TCP proxy in front of a real memcached that behaves like older servers (1.4.x) on long lines:
 * once a client has sent more than `maxLineBytes` bytes without a `\n`, it closes the connection
 * without a reply. memcached 1.6 accepts arbitrarily long `get` lines, so this is how tests show
 * that multi-get batches stay under the cap. It can also hold traffic and cut connections at will,
 * and show each connection's traffic to an observer (the counting proxies of test/multi and
 * test/security are built that way, with `maxLineBytes: Infinity`).
 *
 * @example
 * ```ts
 * const [server] = await startServers(1);
 * const proxy = await CuttingProxy.start(server!);
 * // point the client at proxy.address ...
 * expect(proxy.longLineCuts).toBe(0);
 * await proxy.close();
 * ```
 */
import net from 'node:net';
import { LOOPBACK } from './memcached.js';

/** Sees each chunk of one connection, as it arrives and before it is passed on. */
export type ProxyObserver = (chunk: Buffer, from: 'client' | 'upstream') => void;

/** Options for {@link CuttingProxy.start}. */
export interface CuttingProxyOptions {
  /** Longest line (bytes before `\n`) let through; default 2048, as memcached's read buffer. `Infinity` never cuts. */
  maxLineBytes?: number;
  /** Called once per accepted connection; the observer it returns sees that connection's traffic. */
  observe?: () => ProxyObserver;
}

/** One client connection and its upstream. */
interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  /** Bytes the client sent since its last `\n`. */
  lineBytes: number;
  /** Source sockets paused because their destination is not draining. */
  blocked: Set<net.Socket>;
}

/** A loopback proxy that forwards both ways and cuts connections that send over-long lines. */
export class CuttingProxy {
  readonly host = LOOPBACK;
  readonly maxLineBytes: number;
  readonly #observe: CuttingProxyOptions['observe'];
  readonly #pairs = new Set<Pair>();
  #connections = 0;
  #cuts = 0;
  #longLineCuts = 0;
  #held = false;
  #closed: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    /** Where traffic goes; read on every connect, so a restarted server on the same port works. */
    readonly upstream: { readonly host?: string; readonly port: number },
    opts: CuttingProxyOptions,
  ) {
    this.maxLineBytes = opts.maxLineBytes ?? 2048;
    this.#observe = opts.observe;
  }

  /** Listens on a free loopback port in front of `upstream` (a MemcachedServer fits). */
  static async start(
    upstream: { readonly host?: string; readonly port: number },
    opts: CuttingProxyOptions = {},
  ): Promise<CuttingProxy> {
    const server = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => resolve());
    });
    const proxy = new CuttingProxy(server, (server.address() as net.AddressInfo).port, upstream, opts);
    server.on('connection', (sock) => proxy.#accept(sock));
    return proxy;
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }
  /** Client connections accepted since start. */
  get connections(): number {
    return this.#connections;
  }
  /** Client connections currently open. */
  get openConnections(): number {
    return this.#pairs.size;
  }
  /** Connections closed by the proxy: long lines plus {@link cutAll}. */
  get cuts(): number {
    return this.#cuts;
  }
  /** Connections closed because a line exceeded `maxLineBytes`. */
  get longLineCuts(): number {
    return this.#longLineCuts;
  }
  get isHeld(): boolean {
    return this.#held;
  }

  #accept(client: net.Socket): void {
    this.#connections++;
    const upstream = net.connect({ host: this.upstream.host ?? LOOPBACK, port: this.upstream.port, allowHalfOpen: true });
    const pair: Pair = { client, upstream, lineBytes: 0, blocked: new Set() };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    if (this.#held) {
      client.pause();
      upstream.pause();
    }
    const seen = this.#observe?.();
    client.on('data', (chunk: Buffer) => {
      seen?.(chunk, 'client');
      this.#fromClient(pair, chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      seen?.(chunk, 'upstream');
      this.#forward(pair, upstream, client, chunk);
    });
    // A FIN is passed on as a FIN (memcached's idle_timeout close must look the same through us);
    // an error or full close on either side takes the other with it.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    const teardown = (): void => {
      if (!this.#pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', teardown);
      s.on('close', teardown);
    }
  }

  #fromClient(pair: Pair, chunk: Buffer): void {
    // Forward whole good lines, then cut at the first line that grows past the limit.
    let lastGood = 0;
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const segment = (nl < 0 ? chunk.length : nl) - pos;
      if (pair.lineBytes + segment > this.maxLineBytes) {
        if (lastGood > 0) pair.upstream.write(chunk.subarray(0, lastGood));
        this.#longLineCuts++;
        this.#cut(pair);
        return;
      }
      if (nl < 0) {
        pair.lineBytes += segment;
        break;
      }
      pair.lineBytes = 0;
      pos = nl + 1;
      lastGood = pos;
    }
    this.#forward(pair, pair.client, pair.upstream, chunk);
  }

  #forward(pair: Pair, from: net.Socket, to: net.Socket, chunk: Buffer): void {
    if (to.write(chunk)) return;
    // Respect back-pressure so a huge pipeline behaves as it would against the real server.
    pair.blocked.add(from);
    from.pause();
    to.once('drain', () => {
      pair.blocked.delete(from);
      if (!this.#held) from.resume();
    });
  }

  #cut(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    this.#cuts++;
    pair.client.destroy();
    pair.upstream.destroy();
  }

  /** Stops forwarding in both directions; data waits in the kernel buffers. */
  hold(): void {
    this.#held = true;
    for (const p of this.#pairs) {
      p.client.pause();
      p.upstream.pause();
    }
  }

  /** Resumes forwarding, including everything that arrived while held. */
  release(): void {
    this.#held = false;
    for (const p of this.#pairs) {
      for (const s of [p.client, p.upstream]) if (!p.blocked.has(s)) s.resume();
    }
  }

  /** Closes every current connection (client and upstream); returns how many were cut. */
  cutAll(): number {
    const pairs = [...this.#pairs];
    for (const p of pairs) this.#cut(p);
    return pairs.length;
  }

  /** Cuts all connections and stops listening. Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const p of [...this.#pairs]) {
        this.#pairs.delete(p);
        p.client.destroy();
        p.upstream.destroy();
      }
    });
    return this.#closed;
  }
}

/**
 * A loopback TCP proxy in front of a real memcached that makes it look far away: every chunk of the
 * server's replies (and, optionally, of the client's requests) is passed on `delayMs` after it
 * arrived, in arrival order. The server stays a real, healthy memcached; only the distance changes,
 * which is what a burst, a slow validation or a whole-call deadline needs to be shown against.
 *
 * It runs on its own worker thread (its own event loop): a client under test that keeps its event
 * loop busy (a burst of 3,000 calls) must not also hold up the "network", or replies that a real
 * remote server would have delivered during the busy stretch would arrive late, and a test would
 * blame the client for the proxy.
 *
 * It can also switch its upstream at run time (new connections go to the new one, e.g. a twemproxy
 * put in front of the same address) and cut every connection, like a host that was swapped.
 *
 * @example
 * ```ts
 * const [server] = await startServers(1);
 * const proxy = await DelayProxy.start(server!, { replyDelayMs: 30 });
 * // point the client at proxy.address ...
 * await proxy.setUpstream(otherServer); await proxy.cutAll();
 * await proxy.close();
 * ```
 */
import { Worker } from 'node:worker_threads';
import type * as NetModule from 'node:net';
import type * as WorkerThreads from 'node:worker_threads';
import type * as PerfHooks from 'node:perf_hooks';

/** The only interface the proxy listens on (as src/testing's LOOPBACK). */
const LOOPBACK = '127.0.0.1';

/** Where a proxy sends traffic (a MemcachedServer fits). */
export interface Upstream {
  readonly host?: string;
  readonly port: number;
}

/** Options for {@link DelayProxy.start}. */
export interface DelayProxyOptions {
  /** Delay of every reply chunk (server to client), ms. @default 0 */
  replyDelayMs?: number;
  /** Delay of every request chunk (client to server), ms. @default 0 */
  requestDelayMs?: number;
  /** Measure the upstream's promptness (see {@link Promptness}) with a sentinel socket. @default false */
  watch?: boolean;
}

/**
 * How promptly the far side ran, measured on the proxy's own thread: the longest gap between two
 * turns of its event loop, and the longest round trip of back-to-back `version` requests sent
 * straight to the upstream on a socket of its own. A test uses them to tell a server that really
 * went quiet (a machine too busy to run it) from a client that blamed a server which kept answering.
 */
export interface Promptness {
  maxLoopGapMs: number;
  maxUpstreamRttMs: number;
}

/** Counters of a proxy. */
export interface DelayProxyCounts {
  /** Client connections accepted since start. */
  accepted: number;
  /** Client connections open now. */
  open: number;
  /** Connections closed by `cutAll`. */
  cuts: number;
}

type Command =
  | { id: number; op: 'upstream'; host: string; port: number }
  | { id: number; op: 'delays'; replyDelayMs: number; requestDelayMs: number }
  | { id: number; op: 'cut' }
  | { id: number; op: 'counts' }
  | { id: number; op: 'watch'; reset: boolean }
  | { id: number; op: 'close' };
/** A command without its id (distributed over the union). */
type Ask = Command extends infer C ? (C extends Command ? Omit<C, 'id'> : never) : never;

/**
 * The proxy itself, run in the worker. Self-contained (its modules come in as arguments) because
 * its source is what the worker evaluates.
 */
function proxyMain(wt: typeof WorkerThreads, net: typeof NetModule, perf: typeof PerfHooks): void {
  const port = wt.parentPort!;
  const init = wt.workerData as { host: string; upstream: { host: string; port: number }; replyDelayMs: number; requestDelayMs: number };
  let upstream = init.upstream;
  let replyDelayMs = init.replyDelayMs;
  let requestDelayMs = init.requestDelayMs;
  let accepted = 0;
  let cuts = 0;
  const now = (): number => perf.performance.now();

  /** One direction of one connection: chunks wait until their time, then go out in arrival order. */
  const pipe = (to: NetModule.Socket, delay: () => number) => {
    const queue: Array<{ due: number; chunk: Buffer | null }> = [];
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    let ended = false;
    const stop = (): void => {
      done = true;
      queue.length = 0;
      if (timer) clearTimeout(timer);
      timer = undefined;
    };
    const arm = (): void => {
      if (timer || queue.length === 0) return;
      timer = setTimeout(() => { timer = undefined; flush(); }, Math.max(0, Math.ceil(queue[0]!.due - now())));
    };
    const flush = (): void => {
      const t = now();
      while (queue.length > 0 && queue[0]!.due <= t + 0.5) {
        const { chunk } = queue.shift()!;
        if (to.destroyed) return stop();
        if (chunk === null) {
          // The source is done: pass the FIN on (the peer then closes its side, and both sockets go).
          to.end();
          return stop();
        }
        to.write(chunk);
      }
      arm();
    };
    return {
      stop,
      /** Queues a chunk (`null`: the source ended; the FIN follows what came before it). */
      push(chunk: Buffer | null): void {
        if (done || ended) return;
        if (chunk === null) ended = true;
        const d = delay();
        // Never before the chunk ahead of it: order is kept even when the delay is lowered.
        const last = queue.length > 0 ? queue[queue.length - 1]!.due : 0;
        queue.push({ due: Math.max(now() + d, last), chunk });
        if (d <= 0 && queue.length === 1) flush();
        else arm();
      },
    };
  };

  interface Pair { client: NetModule.Socket; up: NetModule.Socket; pipes: Array<{ stop(): void }> }
  const pairs = new Set<Pair>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    accepted++;
    const up = net.connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true });
    client.setNoDelay(true);
    up.setNoDelay(true);
    const toServer = pipe(up, () => requestDelayMs);
    const toClient = pipe(client, () => replyDelayMs);
    const pair: Pair = { client, up, pipes: [toServer, toClient] };
    pairs.add(pair);
    client.on('data', (c: Buffer) => toServer.push(c));
    up.on('data', (c: Buffer) => toClient.push(c));
    // A FIN or a close follows the data sent before it, with the same delay: a server that answers
    // and then closes (twemproxy on `mn`, memcached's connection limit) looks the same through us.
    client.on('end', () => toServer.push(null));
    up.on('end', () => toClient.push(null));
    client.on('close', () => toServer.push(null));
    up.on('close', () => toClient.push(null));
    // An error is a reset: both sides go at once.
    const reset = (): void => {
      for (const p of pair.pipes) p.stop();
      client.destroy();
      up.destroy();
    };
    client.on('error', reset);
    up.on('error', reset);
    let closed = 0;
    const gone = (): void => void (++closed === 2 && pairs.delete(pair));
    client.on('close', gone);
    up.on('close', gone);
  });
  const cutAll = (): number => {
    const all = [...pairs];
    for (const p of all) {
      pairs.delete(p);
      cuts++;
      for (const x of p.pipes) x.stop();
      p.client.destroy();
      p.up.destroy();
    }
    return all.length;
  };
  // Promptness watch: our loop's gaps, and a sentinel `version` loop to the upstream.
  let maxLoopGap = 0;
  let maxRtt = 0;
  let lastTurn = now();
  setInterval(() => {
    const t = now();
    maxLoopGap = Math.max(maxLoopGap, t - lastTurn);
    lastTurn = t;
  }, 2).unref();
  const sentinel = (): void => {
    const sock = net.connect({ host: upstream.host, port: upstream.port });
    let sentAt = 0;
    let buf = '';
    const ping = (): void => { sentAt = now(); sock.write('version\r\n'); };
    sock.setNoDelay(true);
    sock.on('connect', ping);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (!buf.endsWith('\r\n')) return;
      buf = '';
      maxRtt = Math.max(maxRtt, now() - sentAt);
      setTimeout(ping, 2).unref();
    });
    sock.on('error', () => {});
    sock.on('close', () => setTimeout(sentinel, 50).unref());
    sock.unref();
  };
  if ((wt.workerData as { watch?: boolean }).watch) sentinel();
  port.on('message', (m: Command) => {
    switch (m.op) {
      case 'watch': {
        const value = { maxLoopGapMs: maxLoopGap, maxUpstreamRttMs: maxRtt };
        if (m.reset) maxLoopGap = maxRtt = 0;
        return port.postMessage({ id: m.id, value });
      }
      case 'upstream': upstream = { host: m.host, port: m.port }; return port.postMessage({ id: m.id });
      case 'delays': replyDelayMs = m.replyDelayMs; requestDelayMs = m.requestDelayMs; return port.postMessage({ id: m.id });
      case 'cut': return port.postMessage({ id: m.id, value: cutAll() });
      case 'counts': return port.postMessage({ id: m.id, value: { accepted, open: pairs.size, cuts } });
      case 'close':
        cutAll();
        server.close(() => port.postMessage({ id: m.id }));
    }
  });
  server.listen(0, init.host, () => port.postMessage({ id: 0, value: (server.address() as NetModule.AddressInfo).port }));
}

/** A loopback proxy on its own thread that delays traffic, can switch its upstream and cut its connections. */
export class DelayProxy {
  readonly host = LOOPBACK;
  #nextId = 1;
  readonly #waiting = new Map<number, (value: unknown) => void>();
  #delays: { replyDelayMs: number; requestDelayMs: number };
  #closed: Promise<void> | undefined;

  private constructor(private readonly worker: Worker, readonly port: number, delays: { replyDelayMs: number; requestDelayMs: number }) {
    this.#delays = delays;
    worker.on('message', (m: { id: number; value?: unknown }) => {
      const w = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      w?.(m.value);
    });
  }

  /** Starts the proxy thread, listening on a free loopback port (port 0: no race to lose) in front of `upstream`. */
  static async start(upstream: Upstream, opts: DelayProxyOptions = {}): Promise<DelayProxy> {
    const delays = { replyDelayMs: opts.replyDelayMs ?? 0, requestDelayMs: opts.requestDelayMs ?? 0 };
    const code = `(${proxyMain.toString()})(require('node:worker_threads'), require('node:net'), require('node:perf_hooks'))`;
    const worker = new Worker(code, {
      eval: true,
      workerData: { host: LOOPBACK, upstream: { host: upstream.host ?? LOOPBACK, port: upstream.port }, watch: opts.watch ?? false, ...delays },
    });
    worker.unref();
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (m: { id: number; value: number }) => resolve(m.value));
    });
    return new DelayProxy(worker, port, delays);
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** The delays in force (set with {@link setDelays}). */
  get delays(): { readonly replyDelayMs: number; readonly requestDelayMs: number } {
    return this.#delays;
  }

  #ask<T>(cmd: Ask): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve) => {
      this.#waiting.set(id, resolve as (v: unknown) => void);
      this.worker.postMessage({ ...cmd, id });
    });
  }

  /** New connections go to `upstream` from now on; open ones keep theirs (cut them with {@link cutAll}). */
  setUpstream(upstream: Upstream): Promise<void> {
    return this.#ask({ op: 'upstream', host: upstream.host ?? LOOPBACK, port: upstream.port });
  }

  /** Changes the delays of chunks arriving from now on (order is kept either way). */
  setDelays(delays: DelayProxyOptions): Promise<void> {
    this.#delays = { replyDelayMs: delays.replyDelayMs ?? this.#delays.replyDelayMs, requestDelayMs: delays.requestDelayMs ?? this.#delays.requestDelayMs };
    return this.#ask({ op: 'delays', ...this.#delays });
  }

  /** Closes every current connection (both sides, delayed data dropped); resolves with how many. */
  cutAll(): Promise<number> {
    return this.#ask({ op: 'cut' });
  }

  /** Accepted, open and cut connections. */
  counts(): Promise<DelayProxyCounts> {
    return this.#ask({ op: 'counts' });
  }

  /**
   * The longest loop gap and sentinel round trip seen since the last reset (the sentinel runs only
   * with `watch: true`); `reset` starts a new measuring window.
   */
  promptness(reset = false): Promise<Promptness> {
    return this.#ask({ op: 'watch', reset });
  }

  /** Cuts every connection, stops listening and ends the thread. Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= this.#ask<void>({ op: 'close' }).then(async () => void (await this.worker.terminate()));
    return this.#closed;
  }
}

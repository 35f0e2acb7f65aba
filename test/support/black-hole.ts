/**
 * A server that accepts and reads but never answers: the behaviour of a wedged host behind a live
 * kernel, where `connect()` succeeds and every request hangs. Unlike a frozen memcached it keeps
 * reading, so writes never back up and only a request timeout can notice.
 *
 * @example
 * ```ts
 * const hole = await BlackHole.start();
 * // point a client at hole.address, expect a timeout, then:
 * expect(hole.connections).toBe(1);
 * expect(hole.lines()).toEqual(['get k\r\n']);
 * await hole.close();
 * ```
 */
import net from 'node:net';
import { LOOPBACK } from './memcached.js';

/** A loopback TCP listener that accepts connections and never writes a byte. */
export class BlackHole {
  readonly host = LOOPBACK;
  #connections = 0;
  #bytesReceived = 0;
  readonly #received: Buffer[] = [];
  readonly #sockets = new Set<net.Socket>();
  #closed: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port (port 0, so there is no race to lose). */
  static async start(): Promise<BlackHole> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => resolve());
    });
    const hole = new BlackHole(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (sock) => hole.#accept(sock));
    return hole;
  }

  #accept(sock: net.Socket): void {
    this.#connections++;
    this.#sockets.add(sock);
    const i = this.#received.push(Buffer.alloc(0)) - 1;
    sock.on('data', (chunk: Buffer) => {
      this.#bytesReceived += chunk.length;
      this.#received[i] = Buffer.concat([this.#received[i]!, chunk]);
    });
    // A client that gives up resets or closes; that is expected, not an error of ours.
    sock.on('error', () => {});
    sock.on('close', () => this.#sockets.delete(sock));
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }
  /** Connections accepted since start. */
  get connections(): number {
    return this.#connections;
  }
  /** Connections currently open. */
  get openConnections(): number {
    return this.#sockets.size;
  }
  /** Bytes received on all connections since start. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }
  /** Everything each connection sent, one buffer per connection in accept order. */
  get received(): readonly Buffer[] {
    return this.#received;
  }
  /** Every line received (`\r\n` kept), over all connections. */
  lines(): string[] {
    return this.#received.flatMap((b) => b.toString('latin1').split(/(?<=\r\n)/).filter((l) => l.length > 0));
  }

  /** Destroys every socket and stops listening. Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      for (const s of this.#sockets) s.destroy();
      this.#sockets.clear();
      this.server.close(() => resolve());
    });
    return this.#closed;
  }
}

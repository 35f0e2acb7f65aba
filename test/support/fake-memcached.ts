/**
 * A loopback server that speaks just enough memcached: `version` and `mn` right, `get` answered
 * `END`, anything else `ERROR`, with a per-line hook to misbehave. For failures a real server cannot
 * show on demand (garbage, forged replies, a proxy whose backend is dead).
 */
import net from 'node:net';

export class Fake {
  accepted = 0;
  readonly open = new Set<net.Socket>();
  readonly lines: string[] = [];
  /** Called per line; return true when it handled the line itself. */
  onLine: ((line: string, sock: net.Socket) => boolean) | undefined;
  private readonly server: net.Server;
  port = 0;

  constructor() {
    this.server = net.createServer((sock) => {
      this.accepted++;
      this.open.add(sock);
      sock.on('close', () => this.open.delete(sock));
      sock.on('error', () => {});
      let buf = '';
      sock.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        for (let nl = buf.indexOf('\r\n'); nl >= 0; nl = buf.indexOf('\r\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 2);
          this.lines.push(line);
          if (this.onLine?.(line, sock)) continue;
          if (line === 'version') sock.write('VERSION 1.6.18\r\n');
          else if (line === 'mn') sock.write('MN\r\n');
          else if (line.startsWith('get ')) sock.write('END\r\n');
          else sock.write('ERROR\r\n');
        }
      });
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static start(): Promise<Fake> {
    return new Fake().listen();
  }

  /** Listens on a free loopback port. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Waits until the client has closed every socket it had open (bounded). */
  async allClosed(ms = 1000): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.open.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    return this.open.size === 0;
  }

  close(): Promise<void> {
    for (const s of this.open) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A tiny fake memcached for review tests: answers version/mn/get, with hooks to misbehave. */
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

  static async start(): Promise<Fake> {
    const f = new Fake();
    await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', () => resolve()));
    f.port = (f.server.address() as net.AddressInfo).port;
    return f;
  }

  close(): Promise<void> {
    for (const s of this.open) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

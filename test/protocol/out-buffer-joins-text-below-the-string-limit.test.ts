/**
 * (Found in review, session 8.) A tick's string requests were joined into one string without
 * bound; a burst of large string stores on one socket went past V8's string limit (about 536M
 * characters) and threw `RangeError: Invalid string length` inside the write, after the request
 * had been registered: later replies were handed to the wrong requests. Text is now joined up to
 * 16M characters per part; past that the parts go out in order in one corked write.
 */
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { OutBuffer } from '../../src/connection/out-buffer.js';

/** Records what is written to it. */
function fakeSocket(): { socket: net.Socket; writes: Array<string | Buffer>; corks: number } {
  const s = { writes: [] as Array<string | Buffer>, corks: 0, socket: undefined as unknown as net.Socket };
  s.socket = {
    write: (w: string | Buffer) => { s.writes.push(w); return true; },
    cork: () => { s.corks++; },
    uncork: () => {},
  } as unknown as net.Socket;
  return s;
}

describe('OutBuffer', () => {
  it('joins small text requests into one string write', () => {
    const out = new OutBuffer();
    const s = fakeSocket();
    out.add('get a\r\n');
    out.add('get b\r\n');
    out.writeTo(s.socket);
    expect(s.writes).toEqual(['get a\r\nget b\r\n']);
  });

  it('starts another part past 16M characters, and writes the parts in order, corked', () => {
    const out = new OutBuffer();
    const s = fakeSocket();
    const a = `set a 0 0 ${9_000_000}\r\n${'a'.repeat(9_000_000)}\r\n`;
    const b = `set b 0 0 ${9_000_000}\r\n${'b'.repeat(9_000_000)}\r\n`;
    const c = 'get c\r\n';
    out.add(a);
    out.add(b);
    out.add(c);
    out.writeTo(s.socket);
    expect(s.writes.map((w) => (typeof w === 'string' ? w.length : -1))).toEqual([a.length, b.length + c.length]);
    expect(s.writes.join('')).toBe(a + b + c);
    expect(s.corks).toBe(1);
  });
});

import type net from 'node:net';
import type { Wire } from '../protocol/types.js';

/** A tick's Buffer requests up to this size are joined into one buffer before the write; larger ones go as a writev. */
const MAX_JOIN_BYTES = 64 * 1024;
/** Text joined into one string up to this many characters (far below V8's string limit); more starts another part. */
const MAX_TEXT_CHARS = 16 * 1024 * 1024;

/**
 * The bytes of the requests issued in one tick, gathered for one socket write: string requests are
 * joined as one string, and when a Buffer request comes, the text so far and the Buffer are kept as
 * parts, in order. At the flush, text alone is one string write; parts are joined into one Buffer
 * when small, or written as one `writev` (cork/uncork) so large values are not copied again.
 */
export class OutBuffer {
  private text = '';
  private readonly parts: Wire[] = [];
  private bufferBytes = 0;

  add(bytes: Wire): void {
    if (typeof bytes === 'string') {
      if (this.text.length + bytes.length <= MAX_TEXT_CHARS || this.text.length === 0) {
        this.text += bytes;
        return;
      }
      this.parts.push(this.text);
      this.bufferBytes += this.text.length * 3;
      this.text = bytes;
      return;
    }
    if (this.text.length > 0) this.parts.push(this.text);
    this.text = '';
    this.parts.push(bytes);
    this.bufferBytes += bytes.length;
  }

  /** Writes everything added since the last call in one write (none when `socket` is undefined: dead), and empties. */
  writeTo(socket: net.Socket | undefined): void {
    const parts = this.parts;
    const text = this.text;
    if (socket) {
      if (parts.length === 0) socket.write(text);
      else {
        if (text.length > 0) parts.push(text);
        if (parts.length === 1) socket.write(parts[0]!);
        else if (this.bufferBytes + text.length * 3 <= MAX_JOIN_BYTES) {
          socket.write(Buffer.concat(parts.map((w) => (typeof w === 'string' ? Buffer.from(w, 'utf8') : w))));
        } else {
          socket.cork();
          for (const w of parts) socket.write(w);
          socket.uncork();
        }
      }
    }
    parts.length = 0;
    this.text = '';
    this.bufferBytes = 0;
  }
}

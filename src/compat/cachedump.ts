import net from 'node:net';
import { parseAddress } from '../client/options.js';
import { ClientErrorReply, ConnectionError, InvalidArgumentError, ProtocolError, ServerErrorReply, TimeoutError } from '../errors.js';
import type { CompatCacheDumpData as CacheDumpData } from './types.js';

/** A `stats cachedump` reply is capped by memcached at 2 MB; refuse anything much larger. */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

/**
 * `stats cachedump <slabid> <number>` on one server, shaped as 2.2.2 shapes it: no item ->
 * `undefined`, one -> the item, several -> an array of `{ key, b, s }`. Its `ITEM` lines are no
 * reply the pooled connections parse, so it runs on a short-lived socket of its own, bounded by
 * `timeoutMs` from connect to the last byte.
 */
export function cachedump(server: string, slabid: unknown, number: unknown, timeoutMs: number): Promise<CacheDumpData | CacheDumpData[] | undefined> {
  for (const [name, v] of [['slabid', slabid], ['number', number]] as const) {
    if (typeof v !== 'number') return Promise.reject(new InvalidArgumentError(`Argument "${name}" is not a valid Number.`));
    if (!Number.isSafeInteger(v) || v < 0) return Promise.reject(new InvalidArgumentError(`${name} must be a whole number >= 0, got ${v}`));
  }
  let host: string;
  let port: number;
  let label: string;
  try {
    ({ host, port, label } = parseAddress(server));
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const socket = net.connect({ host, port });
    const finish = (err: Error | undefined, value?: CacheDumpData | CacheDumpData[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new TimeoutError(`stats cachedump did not finish within ${timeoutMs} ms`, { server: label })), timeoutMs);
    socket.on('connect', () => socket.write(`stats cachedump ${slabid} ${number}\r\n`));
    socket.on('error', (err) => finish(new ConnectionError(`cachedump failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { server: label, cause: err })));
    socket.on('close', () => finish(new ConnectionError('connection closed before the cachedump reply ended', { server: label })));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) return finish(new ProtocolError('cachedump reply too large', { server: label }));
      const text = Buffer.concat(chunks).toString('utf8');
      const error = /^(ERROR|CLIENT_ERROR|SERVER_ERROR)(.*)\r\n/m.exec(text);
      if (error) {
        const Err = error[1] === 'SERVER_ERROR' ? ServerErrorReply : ClientErrorReply;
        return finish(new Err(`${error[1]}${error[2]}`, { server: label }));
      }
      if (text !== 'END\r\n' && !text.endsWith('\r\nEND\r\n')) return;
      const items: CacheDumpData[] = [];
      for (const line of text.split('\r\n')) {
        if (!line.startsWith('ITEM ')) continue;
        const tokens = line.split(' ');
        items.push({ key: tokens[1]!, b: +tokens[2]!.slice(1), s: +tokens[4]! });
      }
      finish(undefined, items.length === 0 ? undefined : items.length === 1 ? items[0] : items);
    });
  });
}

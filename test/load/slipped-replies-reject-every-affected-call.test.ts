/**
 * Issue 12, finding 4: a server (or proxy) whose replies slipped by one answers each request with
 * the reply meant for the request before it. Replies are checked in order, synchronously, as they
 * arrive: the first one that cannot belong to its request ends the socket at that point, and every
 * call after it rejects. None resolves with another key's value or with another request's `END`
 * (a silent miss), even when all the slipped replies arrive in one chunk. A scripted fake, because a
 * real memcached never slips.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, ConnectionError, MemclusterError, ProtocolError } from '../../src/index.js';
import { Fake } from '../support/fake-memcached.js';
import { closeWithin, describeError } from '../failure/helpers.js';

/** The true reply of the fake's store to one request line (it knows keys a, c, d; b is absent). */
const STORE: Record<string, string> = { a: 'A', c: 'C', d: 'D' };
function trueReply(line: string): string {
  const [cmd, ...args] = line.split(' ');
  if (cmd === 'get') return args.map((k) => (STORE[k] ? `VALUE ${k} 0 1\r\n${STORE[k]}\r\n` : '')).join('') + 'END\r\n';
  if (cmd === 'delete') return STORE[args[0]!] ? 'DELETED\r\n' : 'NOT_FOUND\r\n';
  if (cmd === 'touch') return STORE[args[0]!] ? 'TOUCHED\r\n' : 'NOT_FOUND\r\n';
  return 'ERROR\r\n';
}

/**
 * A fake that answers `version`/`mn` right (so sockets validate), and then classic text commands
 * only (its clients use `protocol: 'text'`), but slipped: each command gets the
 * true reply of the previous command, the first one gets `first`. Replies of one read go out in
 * one write, so the client sees them in one chunk.
 */
async function slippingFake(first: string): Promise<Fake> {
  const fake = await Fake.start();
  let previous = first;
  const out = new Map<net.Socket, string[]>();
  fake.onLine = (line, sock) => {
    if (line === 'version' || line === 'mn') return false;
    const batch = out.get(sock) ?? [];
    if (batch.length === 0) {
      out.set(sock, batch);
      setImmediate(() => { sock.write(batch.join('')); out.delete(sock); });
    }
    batch.push(previous);
    previous = trueReply(line);
    return true;
  };
  return fake;
}

const outcome = (r: PromiseSettledResult<unknown>): string => (r.status === 'fulfilled' ? `resolved ${JSON.stringify(r.value ?? null)}` : describeError(r.reason));

describe('replies that slipped by one', () => {
  let fake: Fake | undefined;
  let client: Client | undefined;
  afterEach(async () => {
    await closeWithin(client, 3000);
    await fake?.close();
    client = fake = undefined;
  });

  it('gets pipelined in one tick: the first reply naming an unasked key ends the socket; no later get resolves (no silent miss, no other key\'s value)', async () => {
    fake = await slippingFake('VALUE z 0 1\r\nZ\r\nEND\r\n');
    client = new Client([fake.address], { coalesce: false, timeoutMs: 1000, protocol: 'text' });
    // a gets a stale reply for z; b gets a's reply; c gets b's END (the silent miss); d gets c's value.
    const calls = ['a', 'b', 'c', 'd'].map((k) => client!.get(k));
    const results = await Promise.allSettled(calls);
    const shown = results.map(outcome);
    for (const r of results) {
      expect(r.status, `every affected call rejects: ${JSON.stringify(shown)}`).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason;
      expect([ProtocolError, ConnectionError].some((c) => err instanceof c), describeError(err)).toBe(true);
      expect((err as MemclusterError).server).toBe(fake.address);
    }
    expect(results[0]!.status === 'rejected' && (results[0] as PromiseRejectedResult).reason).toBeInstanceOf(ProtocolError);
  });

  it('mixed commands: the first reply that does not fit its request ends the socket; every call after it rejects', async () => {
    // The first get (of b, absent) gets a stale END: true by chance, and it resolves as the miss it is.
    fake = await slippingFake('END\r\n');
    client = new Client([fake.address], { coalesce: false, timeoutMs: 1000, protocol: 'text' });
    const getB = client.get('b');         // gets END (correct: b is absent)
    const delA = client.delete('a');      // gets b's END: not a delete reply
    const getC = client.get('c');         // would get DELETED
    const getD = client.get('d');         // would get c's VALUE: another key's value
    const touchA = client.touch('a', 10); // would get d's VALUE
    const results = await Promise.allSettled([getB, delA, getC, getD, touchA]);
    const shown = results.map(outcome);
    expect(shown[0], 'the unaffected first call').toBe('resolved null');
    for (const r of results.slice(1)) {
      expect(r.status, `every affected call rejects: ${JSON.stringify(shown)}`).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason;
      expect([ProtocolError, ConnectionError].some((c) => err instanceof c), describeError(err)).toBe(true);
    }
  });
});

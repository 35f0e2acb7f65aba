/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * README "Calls keep their order": one key's requests stay on the socket that still carries one for
 * it. getMulti / setMulti / deleteMulti do not: their batches carry no order keys (BatchWriter with
 * `ordered` false; setMulti/deleteMulti meta batches submitted with `key: undefined`), so with
 * several sockets busy they go to the first socket with room while an earlier call for the same
 * key still waits on another socket, and the server runs them out of call order. (setMulti and
 * deleteMulti: on meta servers, the `auto` default against memcached 1.6; their text path tags each
 * key and keeps order. getMulti: on both.)
 * Real memcached (-t 1 -R 1: one worker thread that serves one command per socket in turn, so a socket
 * deep in large reads is served a command at a time while the other socket's request runs).
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

const BIG = 'x'.repeat(500_000);
const PIPELINE = 8;
const ROUNDS = 30;

describe('multi-key calls keep call order with single-key calls of the same key, across sockets', () => {
  const servers = useMemcached(1, { args: ['-t', '1', '-R', '1'] });

  /**
   * Per round: puts PIPELINE - 1 large reads on the first socket, then runs `sequence` (a single-key call for k,
   * which lands behind the read and fills that socket, then a multi-key call for k made after it).
   * Returns the rounds whose outcome was out of call order.
   */
  async function rounds(
    client: Client,
    name: string,
    prepare: (k: string) => Promise<unknown>,
    sequence: (k: string) => Promise<string | undefined>,
  ): Promise<string[]> {
    const wrong: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const k = `ord8:${name}:${round}`;
      await prepare(k);
      // Two sockets borrowed and idle (more gets at once than one socket may carry open a second).
      await Promise.all(Array.from({ length: 4 * PIPELINE }, (_, i) => client.get(`ord8:warm:${i}`)));
      // The first socket gets PIPELINE - 1 large reads, then the call for k: it is full.
      const load = Array.from({ length: PIPELINE - 1 }, (_, i) => client.get(`ord8:big:${i % 4}`));
      const bad = await sequence(k);
      await Promise.allSettled(load);
      if (bad) wrong.push(`round ${round}: ${bad}`);
    }
    return wrong;
  }

  it('append(k) then getMulti([k]): getMulti sees the append (maxConnections 2, maxPipeline 8)', async () => {
    const client = new Client([servers[0]!.address], { maxConnections: 2, maxPipeline: PIPELINE, timeoutMs: 20_000, coalesce: false });
    try {
      for (let i = 0; i < 4; i++) await client.set(`ord8:big:${i}`, BIG);
      const wrong = await rounds(client, 'gm', (k) => client.set(k, 'a'), async (k) => {
        const ap = client.append(k, 'b');
        const gm = client.getMulti([k]);
        const [a, m] = await Promise.all([ap, gm]);
        const v = m.get(k);
        return a === true && v === 'ab' ? undefined : `append -> ${String(a)}, then getMulti read ${JSON.stringify(v)} (want "ab")`;
      });
      expect(wrong, `getMulti ran before an earlier append of its key in ${wrong.length} of ${ROUNDS} rounds`).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('set(k, old) then setMulti([[k, new]]): the item ends as new (maxConnections 2, maxPipeline 8)', async () => {
    const client = new Client([servers[0]!.address], { maxConnections: 2, maxPipeline: PIPELINE, timeoutMs: 20_000, coalesce: false });
    try {
      for (let i = 0; i < 4; i++) await client.set(`ord8:big:${i}`, BIG);
      const wrong = await rounds(client, 'sm', (k) => client.delete(k), async (k) => {
        const s = client.set(k, 'old');
        const sm = client.setMulti([[k, 'new']]);
        await Promise.all([s, sm]);
        const v = await client.get(k);
        return v === 'new' ? undefined : `set(old) then setMulti(new): item is ${JSON.stringify(v)}`;
      });
      expect(wrong, `setMulti ran before an earlier set of its key in ${wrong.length} of ${ROUNDS} rounds`).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('set(k) then deleteMulti([k]): the item is gone afterwards (maxConnections 2, maxPipeline 8)', async () => {
    const client = new Client([servers[0]!.address], { maxConnections: 2, maxPipeline: PIPELINE, timeoutMs: 20_000, coalesce: false });
    try {
      for (let i = 0; i < 4; i++) await client.set(`ord8:big:${i}`, BIG);
      const wrong = await rounds(client, 'dm', (k) => client.delete(k), async (k) => {
        const s = client.set(k, 'v');
        const dm = client.deleteMulti([k]);
        const [, d] = await Promise.all([s, dm]);
        const v = await client.get(k);
        return v === undefined && d.get(k) === true ? undefined : `set then deleteMulti (-> ${String(d.get(k))}): item is ${JSON.stringify(v)}`;
      });
      expect(wrong, `deleteMulti ran before an earlier set of its key in ${wrong.length} of ${ROUNDS} rounds`).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

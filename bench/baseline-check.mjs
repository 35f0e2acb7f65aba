// @ts-check
/**
 * Self-check of the floor client (bench/baseline.mjs) against real memcached servers:
 * `node bench/baseline-check.mjs` (needs dist/, for memcluster/testing). Exits 1 on the first
 * wrong answer. The bench trusts the floor's answers (it also reads back what other clients
 * wrote), so the floor gets its own check: every reply kind, values split across chunks, every
 * decoded flag, misses, duplicates, a server error reply, and one write per socket per tick.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import HashRing from 'hashring';
import { startServers, stopAll } from 'memcluster/testing';
import { BaselineClient } from './baseline.mjs';

/** Sends raw text to one server and waits for a reply ending with `until`. @param {string} address @param {string} text @param {string} until */
function raw(address, text, until) {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.endsWith(until)) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.write(text);
  });
}

let code = 1;
try {
  const servers = (await startServers(3, { args: ['-t', '1'], memoryMb: 64 })).map((s) => s.address);
  const c = await new BaselineClient(servers).connect();

  // The floor's ring lookup picks the server hashring (memcached 2.2.2's ring) picks, for every key.
  const reference = new HashRing(servers, 'md5', { compatibility: 'ketama', 'default port': 11211 });
  const probe = [...Array.from({ length: 100_000 }, (_, i) => `gm:${i}`), 'ключ', 'k'.repeat(250), 'é', '', 'a b'];
  for (const k of probe) assert.equal(c.ring.get(k), reference.get(k), `ring: ${k}`);

  // One write per socket per tick: count socket writes while issuing 300 requests in one tick.
  let writes = 0;
  for (const conn of c.conns.values()) {
    const orig = conn.socket.write.bind(conn.socket);
    conn.socket.write = /** @type {any} */ ((/** @type {any[]} */ ...a) => { writes++; return orig(...a); });
  }
  const many = await Promise.all(Array.from({ length: 300 }, (_, i) => c.set(`k:${i}`, `v:${i}`)));
  assert.ok(many.every((x) => x === true), 'every set answers true');
  assert.ok(writes <= servers.length, `300 sets in one tick: ${writes} socket writes for ${servers.length} sockets`);
  writes = 0;
  const got = await Promise.all(Array.from({ length: 300 }, (_, i) => c.get(`k:${i}`)));
  assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => `v:${i}`));
  assert.ok(writes <= servers.length, `300 gets in one tick: ${writes} writes`);

  // Misses, a deleted key, add on an existing key is not our API: NOT_STORED via a raw add is not needed.
  assert.equal(await c.get('nope'), undefined);
  assert.equal(await c.delete('k:0'), true);
  assert.equal(await c.delete('k:0'), false);
  assert.equal(await c.get('k:0'), undefined);

  // Values across chunks: 1 MB - a bit, and many small values after it in the same tick.
  const big = 'x'.repeat(1000 * 1000);
  assert.equal(await c.set('big', big), true);
  const [b1, b2, b3] = await Promise.all([c.get('big'), c.get('k:1'), c.get('big')]);
  assert.equal(b1, big);
  assert.equal(b2, 'v:1');
  assert.equal(b3, big);
  // UTF-8 and Buffers (flags 4) round-trip.
  assert.equal(await c.set('utf', 'héllo ✓ 𝄞'), true);
  assert.equal(await c.get('utf'), 'héllo ✓ 𝄞');
  const buf = Buffer.from([0, 13, 10, 255, 1]);
  assert.equal(await c.set('buf', buf), true);
  assert.deepEqual(await c.get('buf'), buf);

  // Flags decoded as memcluster's default serializer does: 2 JSON, 8 number, unknown -> string.
  const jsonServer = c.ring.get('json');
  await raw(jsonServer, 'set json 2 0 13\r\n{"a":[1,2,3]}\r\n', 'STORED\r\n');
  assert.deepEqual(await c.get('json'), { a: [1, 2, 3] });
  await raw(c.ring.get('num'), 'set num 8 0 5\r\n-12.5\r\n', 'STORED\r\n');
  assert.equal(await c.get('num'), -12.5);
  await raw(c.ring.get('odd'), 'set odd 77 0 3\r\nabc\r\n', 'STORED\r\n');
  assert.equal(await c.get('odd'), 'abc');

  // Multi-key calls: 25,000 keys (several 100-key lines per server), with duplicates and misses.
  const entries = /** @type {Array<[string, string]>} */ (Array.from({ length: 25_000 }, (_, i) => [`m:${i}`, `value-${i}-${'.'.repeat(i % 300)}`]));
  writes = 0;
  const stored = await c.setMulti(entries);
  assert.ok(writes <= servers.length, `setMulti of 25,000: ${writes} writes`);
  assert.equal(stored.size, 25_000);
  assert.ok([...stored.values()].every((x) => x === true));
  const keys = [...entries.map(([k]) => k), 'm:0', 'missing:1', 'missing:2'];
  const hits = await c.getMulti(keys);
  assert.equal(hits.size, 25_000);
  for (const [k, v] of entries) assert.equal(hits.get(k), v, k);
  assert.equal(hits.has('missing:1'), false);
  const deleted = await c.deleteMulti([...entries.slice(0, 10_000).map(([k]) => k), 'missing:3']);
  assert.equal(deleted.size, 10_001);
  assert.equal(deleted.get('missing:3'), false);
  assert.ok(entries.slice(0, 10_000).every(([k]) => deleted.get(k) === true));
  assert.equal((await c.getMulti(entries.slice(0, 10_000).map(([k]) => k))).size, 0);
  assert.equal((await c.getMulti(entries.slice(10_000).map(([k]) => k))).size, 15_000);
  assert.equal((await c.getMulti([])).size, 0);

  // An error reply rejects that call only; the socket stays in step for the next ones.
  const tooLong = 'k'.repeat(251);
  const [bad, after] = await Promise.allSettled([c.get(tooLong), c.get('k:2')]);
  assert.equal(bad.status, 'rejected');
  assert.deepEqual(after, { status: 'fulfilled', value: 'v:2' });

  c.close();
  console.log('baseline-check: ok');
  code = 0;
} catch (err) {
  console.error('baseline-check FAILED:', err);
} finally {
  await stopAll();
}
process.exit(code);

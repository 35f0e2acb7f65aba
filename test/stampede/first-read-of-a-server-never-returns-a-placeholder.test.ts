/**
 * A client's first reads of a server (protocol 'auto', no socket yet, so the server's version is
 * not known) must read what a warm client reads: a lease placeholder and an invalidated item are
 * misses ("`get` never returns a placeholder"). They went out as classic `get`s, which return a
 * placeholder as '' and an invalidated item as fresh; now such a request takes its meta form when
 * it is written, once the socket that carries it has proven the server (chooseAtWrite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { startServers, stopAll, type MemcachedServer } from '../support/memcached.js';

let server: MemcachedServer;
beforeAll(async () => { [server] = await startServers(1) as [MemcachedServer]; });
afterAll(stopAll);

describe('first read of a fresh auto client', () => {
  it('get while another client holds a fetch lease reads a miss, not the placeholder', async () => {
    const a = new Client([server.address], { protocol: 'auto' });
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let loading!: () => void;
    const started = new Promise<void>((r) => { loading = r; });
    const f = a.fetch('leased1', async () => { loading(); await gate; return 'real'; }, { ttl: 60 });
    await started; // a won the lease: the placeholder exists on the server
    const b = new Client([server.address], { protocol: 'auto' });
    try {
      expect(await b.get('leased1')).toBeUndefined();
    } finally {
      release();
      await f;
      await a.close();
      await b.close();
    }
  });

  it('getMulti while another client holds a fetch lease reads a miss, not the placeholder', async () => {
    const a = new Client([server.address], { protocol: 'auto' });
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let loading!: () => void;
    const started = new Promise<void>((r) => { loading = r; });
    const f = a.fetch('leased2', async () => { loading(); await gate; return 'real'; }, { ttl: 60 });
    await started;
    const b = new Client([server.address], { protocol: 'auto' });
    try {
      expect((await b.getMulti(['leased2'])).has('leased2')).toBe(false);
    } finally {
      release();
      await f;
      await a.close();
      await b.close();
    }
  });

  it('gets of an invalidated item reads a miss', async () => {
    const a = new Client([server.address], { protocol: 'auto' });
    await a.set('stale2', 'old', { ttl: 60 });
    expect(await a.invalidate('stale2', { staleTtl: 30 })).toBe(true);
    const b = new Client([server.address], { protocol: 'auto' });
    try {
      expect(await b.gets('stale2')).toBeUndefined();
      expect(await b.gets('stale2'), 'and once the client knows the server').toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('get of an invalidated item reads a miss', async () => {
    const a = new Client([server.address], { protocol: 'auto' });
    await a.set('stale1', 'old', { ttl: 60 });
    expect(await a.invalidate('stale1', { staleTtl: 30 })).toBe(true);
    expect(await a.get('stale1')).toBeUndefined(); // a warmed client reads it as a miss
    const b = new Client([server.address], { protocol: 'auto' });
    try {
      expect(await b.get('stale1')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

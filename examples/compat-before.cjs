'use strict';
/**
 * A small program written for `memcached` 2.2.2. examples/compat-after.cjs is this file with only
 * the require line changed. Servers come from MEMCLUSTER_SERVERS (comma-separated host:port).
 *
 *   MEMCLUSTER_SERVERS=127.0.0.1:11211,127.0.0.1:11212 node examples/compat-before.cjs
 */
const Memcached = require('memcached');

const servers = (process.env.MEMCLUSTER_SERVERS || 'localhost:11211').split(',');
const memcached = new Memcached(servers, { namespace: 'example:', timeout: 2000, poolSize: 4 });

/** Runs memcached[method](...args, cb) and resolves with what the callback got. */
function run(method, ...args) {
  return new Promise((resolve) => {
    memcached[method](...args, function (err, data) {
      resolve({ err, data, query: this });
    });
  });
}

const show = (label, value) => console.log(label.padEnd(28), JSON.stringify(value));
const describeError = (err) => (err ? { message: err.message, notStored: err.notStored === true } : null);

async function main() {
  const keys = ['user:1', 'greeting', 'counter', 'blob', 'missing'];
  for (const key of keys) await run('del', key);

  let r = await run('set', 'user:1', { name: 'Ada', langs: ['en', 'fr'] }, 60);
  show('set user:1', [r.err || null, r.data]);
  r = await run('get', 'user:1');
  show('get user:1', r.data);
  show('this in a callback', { key: r.query.key, type: r.query.type });

  r = await run('add', 'user:1', { name: 'Bob' }, 60);
  show('add existing', [describeError(r.err), r.data]);
  r = await run('replace', 'missing', 'x', 60);
  show('replace missing', [describeError(r.err), r.data]);

  await run('set', 'greeting', 'hello\r\nworld', 0);
  await run('append', 'greeting', '!');
  await run('prepend', 'greeting', '> ');
  show('greeting with CR/LF', (await run('get', 'greeting')).data);

  await run('set', 'counter', 10, 0);
  show('incr counter 5', (await run('incr', 'counter', 5)).data);
  show('decr counter 20', (await run('decr', 'counter', 20)).data);
  show('incr missing', (await run('incr', 'missing', 1)).data);

  const gets = (await run('gets', 'user:1')).data;
  show('gets', { keys: Object.keys(gets), casIsString: typeof gets.cas === 'string' });
  show('cas with the token', (await run('cas', 'user:1', { name: 'Ada L.' }, gets.cas, 60)).data);
  show('cas with a stale token', (await run('cas', 'user:1', { name: 'Nope' }, gets.cas, 60)).data);

  await run('set', 'blob', Buffer.from([0, 1, 2, 13, 10, 128, 255]), 0);
  const blob = (await run('get', 'blob')).data;
  show('buffer', { isBuffer: Buffer.isBuffer(blob), hex: blob.toString('hex') });

  r = await run('getMulti', keys);
  show('getMulti', [r.err || null, Object.keys(r.data).sort().map((k) => [k, Buffer.isBuffer(r.data[k]) ? 'buffer' : r.data[k]])]);

  show('touch user:1', (await run('touch', 'user:1', 120)).data);
  show('del greeting', (await run('del', 'greeting')).data);
  show('get greeting', (await run('get', 'greeting')).data);

  r = await run('version');
  show('version', { servers: r.data.map((v) => v.server).sort(), allHaveVersion: r.data.every((v) => /^\d+\.\d+\.\d+$/.test(v.version)) });
  r = await run('stats');
  show('stats', r.data.map((s) => [s.server, typeof s.pid, typeof s.uptime]).sort());

  memcached.end();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

// A second application process for the stampede tests: `node child.cjs <bundle> <config JSON>`.
// It loads the BUILT package (a private CommonJS bundle), makes `clients` Client instances, and
// answers one JSON command per stdin line with JSON lines on stdout:
//   {"op":"fetch","id":1,"key":"k"}  -> every client makes `perClient` concurrent fetches of k;
//     prints {"ev":"started","id":1} once they are all issued, {"ev":"load","key":"k","value":"..."}
//     each time a loader runs (before it sleeps), and {"ev":"done","id":1,"values":[...],"errors":[...]}
//     with every call's outcome (values as JSON, errors as "<code>: <message>") and each client's fetchStats().
'use strict';
const lib = require(process.argv[2]);
const config = JSON.parse(process.argv[3]);
const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const clients = Array.from({ length: config.clients }, () => new lib.Client(config.servers, config.clientOptions));

async function fetchAll(id, key) {
  const calls = [];
  for (const mc of clients) {
    for (let i = 0; i < config.perClient; i++) {
      calls.push(mc.fetch(key, async (k) => {
        const value = `child-${process.pid}-${k}-${Math.random().toString(36).slice(2)}`;
        print({ ev: 'load', key: k, value });
        await sleep(config.loaderMs);
        return value;
      }, config.fetchOptions));
    }
  }
  print({ ev: 'started', id });
  const settled = await Promise.allSettled(calls);
  print({
    ev: 'done', id,
    values: settled.filter((s) => s.status === 'fulfilled').map((s) => s.value),
    errors: settled.filter((s) => s.status === 'rejected').map((s) => `${s.reason && s.reason.code}: ${s.reason && s.reason.message}`),
    stats: clients.map((c) => c.fetchStats()),
  });
}

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const cmd = JSON.parse(line);
    if (cmd.op === 'fetch') fetchAll(cmd.id, cmd.key).catch((e) => print({ ev: 'fatal', message: String(e && e.stack) }));
  }
});
process.stdin.on('end', () => {
  Promise.all(clients.map((c) => c.close())).then(() => process.exit(0));
});
print({ ev: 'ready' });

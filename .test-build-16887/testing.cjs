"use strict";Object.defineProperty(exports, "__esModule", {value: true}); function _interopRequireDefault(obj) { return obj && obj.__esModule ? obj : { default: obj }; }// src/testing/memcached-server.ts
var _child_process = require('child_process');
var _fs = require('fs');

// src/testing/raw.ts
var _net = require('net'); var _net2 = _interopRequireDefault(_net);
var LOOPBACK = "127.0.0.1";
var RawCommandError = class extends Error {
  constructor(reason, received, message, cause) {
    super(message, cause && { cause });
    this.reason = reason;
    this.received = received;
    this.code = cause?.code;
  }
  reason;
  received;
  name = "RawCommandError";
  /** The socket error code (e.g. `ECONNREFUSED`, `ECONNRESET`) when `reason` is `'error'`. */
  code;
};
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = _net2.default.createServer();
    srv.once("error", reject);
    srv.listen(0, LOOPBACK, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
function completeReplies(buf) {
  let pos = 0;
  let done = 0;
  for (; ; ) {
    const eol = buf.indexOf("\r\n", pos);
    if (eol < 0) return done;
    const line = buf.toString("latin1", pos, eol);
    pos = eol + 2;
    const words = line.split(" ");
    const dataBytes = words[0] === "VALUE" ? Number(words[3]) : words[0] === "VA" ? Number(words[1]) : -1;
    if (dataBytes >= 0) {
      if (buf.length < pos + dataBytes + 2) return done;
      pos += dataBytes + 2;
      if (words[0] === "VA") done++;
      continue;
    }
    if (words[0] === "STAT" || words[0] === "ITEM") continue;
    done++;
  }
}
function rawCommand(port, raw, opts = {}, host = LOOPBACK) {
  const { timeoutMs = 2e3, replies = 1, until } = opts;
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const sock = _net2.default.connect({ host, port });
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(received.toString("utf8"));
    };
    const text = () => received.toString("utf8");
    const where = `${host}:${port}`;
    const timer = setTimeout(() => finish(new RawCommandError("timeout", text(), `${where}: no complete reply in ${timeoutMs} ms`)), timeoutMs);
    sock.setNoDelay(true);
    sock.on("connect", () => sock.write(raw));
    sock.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (until ? until(text()) : completeReplies(received) >= replies) finish();
    });
    sock.on("error", (e) => finish(new RawCommandError("error", text(), `${where}: ${e.message}`, e)));
    sock.on("close", () => finish(new RawCommandError("closed", text(), `${where}: closed before a complete reply`)));
  });
}
function parseStats(reply) {
  return Object.fromEntries([...reply.matchAll(/^STAT (\S+) ([^\r\n]*)/gm)].map((m) => [m[1], m[2]]));
}

// src/testing/memcached-server.ts
function memcachedBinary() {
  return process.env.MEMCACHED_BIN || "memcached";
}
var registry = /* @__PURE__ */ new Set();
var cleanupInstalled = false;
function killAllSync() {
  for (const s of registry) s.killSync();
}
function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on("exit", killAllSync);
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) {
    const onSignal = () => {
      killAllSync();
      process.off(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
var sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function allThreadsStopped(pid) {
  let tasks;
  try {
    tasks = _fs.readdirSync.call(void 0, `/proc/${pid}/task`);
  } catch {
    return true;
  }
  return tasks.every((tid) => {
    try {
      const stat = _fs.readFileSync.call(void 0, `/proc/${pid}/task/${tid}/stat`, "latin1");
      return /\) [Tt] /.test(stat);
    } catch {
      return true;
    }
  });
}
var MemcachedServer = class _MemcachedServer {
  /** `args` (the extra arguments given at start) and `ready` are reused by {@link restart}. */
  constructor(port, args, memoryMb, ready) {
    this.port = port;
    this.args = args;
    this.memoryMb = memoryMb;
    this.#ready = ready;
  }
  port;
  args;
  memoryMb;
  host = LOOPBACK;
  #child;
  #exited = Promise.resolve();
  #running = false;
  #frozen = false;
  #stderr = "";
  #ready;
  /**
   * Starts memcached and resolves once it answers `version` (or the `ready` probe of `opts`) and
   * reports our own pid.
   */
  static async start(opts = {}) {
    installCleanup();
    const args = [...opts.args ?? []];
    const memoryMb = opts.memoryMb ?? 64;
    for (let attempt = 1; ; attempt++) {
      const server = new _MemcachedServer(opts.port ?? await freePort(), args, memoryMb, opts.ready);
      registry.add(server);
      let launched = false;
      try {
        launched = opts.port !== void 0 ? (await server.#launchWithRetry(5e3), true) : await server.#launch();
      } finally {
        if (!launched) await server.stop();
      }
      if (launched) return server;
      if (attempt >= 5) throw new Error(`memcached: no free loopback port after ${attempt} attempts`);
    }
  }
  /** `127.0.0.1:<port>`, the form server lists use. */
  get address() {
    return `${this.host}:${this.port}`;
  }
  /** Pid of the current process; changes on {@link restart}. */
  get pid() {
    return this.#child?.pid ?? -1;
  }
  get isRunning() {
    return this.#running;
  }
  get isFrozen() {
    return this.#frozen;
  }
  /** The full memcached argument list. */
  get argv() {
    const user = process.getuid?.() === 0 ? ["-u", "root"] : [];
    return ["-l", LOOPBACK, "-p", String(this.port), "-U", "0", ...user, "-m", String(this.memoryMb), ...this.args];
  }
  /** Spawns once; false when the port was taken (by anyone) before memcached could bind it. */
  async #launch() {
    this.#stderr = "";
    const child = _child_process.spawn.call(void 0, memcachedBinary(), this.argv, { stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    this.#running = true;
    this.#frozen = false;
    let spawnError;
    this.#exited = new Promise((resolve) => {
      const gone = () => {
        this.#running = false;
        resolve();
      };
      child.once("error", (e) => (spawnError = e, gone()));
      child.once("exit", gone);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s) => void (this.#stderr = (this.#stderr + s).slice(-8192)));
    const deadline = Date.now() + 5e3;
    while (Date.now() < deadline) {
      const hint = 'run "node scripts/ensure-memcached.mjs" or set MEMCACHED_BIN';
      if (spawnError) throw new Error(`cannot run ${memcachedBinary()}: ${spawnError.message}; ${hint}`);
      if (!this.#running) {
        if (/address already in use/i.test(this.#stderr)) return false;
        throw new Error(`memcached ${this.argv.join(" ")} exited during startup: ${this.#stderr.trim()}`);
      }
      try {
        const stats = this.#ready ? await this.#ready(this) : await this.#versionThenStats();
        if (stats) {
          if (stats.pid === String(child.pid)) return true;
          await this.kill();
          return false;
        }
      } catch {
      }
      await sleep(25);
    }
    await this.kill();
    throw new Error(`memcached on ${this.address} did not answer within 5 s; stderr: ${this.#stderr.trim()}`);
  }
  /** The default readiness probe: `stats` once the port answers a plain-text `version`. */
  async #versionThenStats() {
    if (!(await rawCommand(this.port, "version\r\n", { timeoutMs: 500 })).startsWith("VERSION ")) return void 0;
    return parseStats(await rawCommand(this.port, "stats\r\n", { timeoutMs: 1e3 }));
  }
  /** The port can linger briefly after a kill, so keep trying the same one until `ms` runs out. */
  async #launchWithRetry(ms) {
    const deadline = Date.now() + ms;
    while (!await this.#launch()) {
      if (Date.now() > deadline) throw new Error(`memcached: port ${this.port} still in use after ${ms} ms`);
      await sleep(100);
    }
  }
  /** SIGKILL and wait for the process to be gone. The server stays registered for {@link restart}. */
  async kill() {
    if (this.#running) this.#child?.kill("SIGKILL");
    await this.#exited;
    this.#frozen = false;
  }
  /** SIGSTOP: connects still succeed (kernel backlog) but nothing is ever answered. */
  /**
   * SIGSTOP. The signal is sent at once; the promise resolves when every thread of the process is
   * really stopped (state `T` in /proc, where it exists), since a request sent in between may still
   * be answered.
   */
  async freeze() {
    if (!this.#running) throw new Error(`memcached on ${this.address} is not running`);
    this.#child.kill("SIGSTOP");
    this.#frozen = true;
    const deadline = Date.now() + 2e3;
    while (Date.now() < deadline && !allThreadsStopped(this.pid)) await sleep(2);
  }
  /** SIGCONT. */
  thaw() {
    if (this.#running) this.#child.kill("SIGCONT");
    this.#frozen = false;
  }
  /** Kills if needed, then starts a fresh, empty memcached on the same port with the same args. */
  async restart() {
    await this.kill();
    registry.add(this);
    await this.#launchWithRetry(5e3);
  }
  /** Kills if running and forgets the server. Safe to call twice. */
  async stop() {
    await this.kill();
    registry.delete(this);
  }
  /** For exit paths that cannot await. @internal */
  killSync() {
    const pid = this.#child?.pid;
    if (!this.#running || pid === void 0) return;
    try {
      if (this.#frozen) process.kill(pid, "SIGCONT");
      process.kill(pid, "SIGKILL");
    } catch {
    }
  }
  /** Sends `raw` verbatim on a fresh socket, independent of any client under test. */
  command(raw, opts) {
    return rawCommand(this.port, raw, opts, this.host);
  }
  /** `stats` (or `stats <group>`) as a name -> value map, over a fresh socket. */
  async stats(group, opts) {
    return parseStats(await this.command(group ? `stats ${group}\r
` : "stats\r\n", opts));
  }
};
function allServers() {
  return [...registry];
}
async function stopAll() {
  await Promise.all([...registry].map((s) => s.stop()));
}
async function startServers(n, opts) {
  const results = await Promise.allSettled(Array.from({ length: n }, () => MemcachedServer.start(opts)));
  const started = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  return started;
}











exports.LOOPBACK = LOOPBACK; exports.MemcachedServer = MemcachedServer; exports.RawCommandError = RawCommandError; exports.allServers = allServers; exports.freePort = freePort; exports.memcachedBinary = memcachedBinary; exports.parseStats = parseStats; exports.rawCommand = rawCommand; exports.startServers = startServers; exports.stopAll = stopAll;

//# sourceMappingURL=testing.cjs.map

import { EventEmitter } from 'node:events';
import { MAX_RECONNECT_MS } from './options.js';
import type { CompatIssueData as IssueData } from './types.js';

/** What 2.2.2 copied into every IssueLog (`this.config`), and merged back on a reset. */
export interface IssueConfig {
  server: string;
  tokens: [string, string];
  reconnect: number;
  failures: number;
  failuresTimeout: number;
  retry: number;
  remove: boolean;
  failOverServers: string[] | null;
}

/** Node's timers take at most 2^31-1 ms; 2.2.2 passed its options straight to setTimeout. */
function delay(ms: number): number {
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), 2 ** 31 - 1) : 1;
}

/**
 * memcached 2.2.2's `IssueLog` (lib/connection.js), state for state: one per server that ever
 * failed, kept in `memcached.issues[server]`. A failure marks the server `failed` for `retry` ms
 * (calls for it get `Server at <server> not available` meanwhile) and counts `failures` down;
 * the failure that finds the count at 0 marks it dead: `remove` with `remove: true`, else a
 * reconnect attempt every `reconnect` ms (at most 60 s apart) until one succeeds.
 *
 * Differences, each deliberate (src/compat/README.md): its timers are unref'd (2.2.2's kept the
 * process alive), a second failure inside the same `retry` window is recorded but not counted
 * (2.2.2 then skipped straight to removal, so one burst of concurrent failures removed a server
 * that had `failures: 5`), and the reconnect attempt is a real request through memcluster instead
 * of spawning `ping` (the owner passes it as `attempt`).
 *
 * Events, with 2.2.2's `details` payload: `issue`, `remove`, `reconnecting`, `reconnected`.
 */
export class IssueLog extends EventEmitter {
  readonly config: IssueConfig;
  server: string;
  tokens: [string, string];
  messages: string[] = [];
  failed = false;
  locked = false;
  isScheduledToReconnect = false;
  totalFailures = 0;
  totalReconnectsAttempted = 0;
  totalReconnectsSuccess = 0;
  reconnect: number;
  failures: number;
  failuresTimeout: number;
  retry: number;
  remove: boolean;
  failOverServers: string[] | null;
  private failuresResetId: NodeJS.Timeout | undefined;

  constructor(config: IssueConfig, private readonly attempt: () => Promise<void>) {
    super();
    this.config = config;
    this.server = config.server;
    this.tokens = config.tokens;
    this.reconnect = config.reconnect;
    this.failures = config.failures;
    this.failuresTimeout = config.failuresTimeout;
    this.retry = config.retry;
    this.remove = config.remove;
    this.failOverServers = config.failOverServers;
  }

  /** One failure of the server (2.2.2's `issues.log`); `message` is what 2.2.2 logged (`err.toString()`). */
  log(message: string): void {
    if (this.failed && this.locked) {
      this.messages.push(message); // inside the retry window: recorded, not counted again
      return;
    }
    this.failed = true;
    this.messages.push(message || 'No message specified');
    if (this.failures && this.failures === this.config.failures) {
      this.failuresResetId = later(() => this.failuresReset(), this.failuresTimeout);
    }
    if (this.failures && !this.locked) {
      this.locked = true;
      later(() => this.attemptRetry(), this.retry);
      this.emit('issue', this.details);
      return;
    }
    if (this.failuresResetId) clearTimeout(this.failuresResetId);
    if (this.remove) {
      this.emit('remove', this.details);
      return;
    }
    if (!this.isScheduledToReconnect) {
      this.isScheduledToReconnect = true;
      later(() => this.attemptReconnect(), Math.min(this.reconnect, MAX_RECONNECT_MS));
    }
  }

  /** 2.2.2's payload: counters while failures are left, reconnect figures once the server is dead. */
  get details(): IssueData {
    const res: IssueData = { server: this.server, tokens: this.tokens, messages: this.messages };
    if (this.failures) {
      res.failures = this.failures;
      res.totalFailures = this.totalFailures;
    } else {
      res.totalReconnectsAttempted = this.totalReconnectsAttempted;
      res.totalReconnectsSuccess = this.totalReconnectsSuccess;
      res.totalReconnectsFailed = this.totalReconnectsAttempted - this.totalReconnectsSuccess;
      res.totalDownTime = res.totalReconnectsFailed * this.reconnect + this.totalFailures * this.retry;
    }
    return res;
  }

  /** Back to the configured values (2.2.2: `failuresTimeout` after the first failure, and after a reconnect). */
  private failuresReset(): void {
    this.reconnect = this.config.reconnect;
    this.failures = this.config.failures;
    this.failuresTimeout = this.config.failuresTimeout;
    this.retry = this.config.retry;
    this.remove = this.config.remove;
  }

  private attemptRetry(): void {
    this.totalFailures++;
    this.failures--;
    this.failed = false;
    this.locked = false;
  }

  private attemptReconnect(): void {
    this.totalReconnectsAttempted++;
    this.emit('reconnecting', this.details);
    this.attempt().then(() => {
      this.emit('reconnected', this.details);
      this.totalReconnectsSuccess++;
      this.messages.length = 0;
      this.failed = false;
      this.isScheduledToReconnect = false;
      this.failuresReset();
    }, (err: Error) => {
      this.messages.push(err.message || 'No message specified');
      later(() => this.attemptReconnect(), Math.min(this.reconnect, MAX_RECONNECT_MS));
    });
  }
}

/** An unref'd timer: 2.2.2's kept the process alive after `end()`. */
function later(fn: () => void, ms: number): NodeJS.Timeout {
  const t = setTimeout(fn, delay(ms));
  t.unref();
  return t;
}

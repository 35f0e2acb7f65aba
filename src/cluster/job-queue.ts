import { now, type Outgoing, type RequestHandle } from '../connection/connection.js';
import { Deque } from '../connection/deque.js';
import type { MemclusterError } from '../errors.js';

/**
 * One request on its way to a server: what the connection writes (`Outgoing`: bytes, reply kind,
 * deadline, verify, the keys whose call order must hold, resolve/reject), plus its call's
 * cancellation when it has one. It settles with the reply or a typed error by `deadline`.
 */
export interface Job extends Outgoing {
  /** Set when the call can be aborted. */
  cancel?: Cancel | undefined;
}

/** How a call that can be aborted hears of its requests (see `CallCancel` in the client layer). */
export interface Cancel {
  readonly aborted: boolean;
  readonly reason: MemclusterError | undefined;
  /** A request of the call was written: abandon it on abort. */
  track(handle: RequestHandle): void;
  /** A request of the call waits in this server's queue: purge it on abort. */
  queuedOn(node: Purgeable): void;
}

/** Where a call's queued requests wait (a server): it drops them when the call is aborted. */
export interface Purgeable {
  purge(cancel: Cancel): void;
}

/**
 * The requests of one server that wait for a socket, in call order, each rejected by its own
 * deadline. One timer serves the whole queue, armed for the earliest deadline queued. Deadlines are
 * nearly always FIFO (calls with the same timeoutMs, queued in call order): while they are, the
 * head's is the earliest and every check is O(1). A call with a shorter per-call timeoutMs queued
 * behind a longer one breaks the order: the queue then keeps a lower bound of its deadlines, arms
 * the timer for it, and each expiry scans the queue once (rejecting every request past its
 * deadline, wherever it waits), which also learns whether the order holds again.
 */
export class JobQueue {
  private readonly jobs = new Deque<Job>();
  private timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for (-Infinity for the grace turn). */
  private timerAt = Infinity;
  private closed = false;
  /** True while deadlines never decrease from head to tail: the head's deadline is the earliest. */
  private sorted = true;
  /** While `sorted`: the tail's deadline (the latest queued). */
  private latest = -Infinity;
  /** While not `sorted`: a lower bound of the queued deadlines (exact after each scan). */
  private earliest = Infinity;

  /** @param timedOut the error for a request whose deadline passed while it waited. */
  constructor(private readonly timedOut: () => MemclusterError) {}

  get length(): number {
    return this.jobs.length;
  }

  /**
   * Queues a job (the caller checked `maxQueue`) and tells its call where it waits; `arm` starts its
   * clock. A job due before the one the timer waits for re-arms it now.
   */
  push(job: Job, owner: Purgeable): void {
    const d = job.deadline;
    if (this.jobs.length === 0) {
      this.sorted = true;
      this.latest = d;
    } else if (this.sorted) {
      if (d >= this.latest) this.latest = d;
      else {
        this.sorted = false;
        this.earliest = Math.min(this.jobs.peek()!.deadline, d);
      }
    } else if (d < this.earliest) {
      this.earliest = d;
    }
    this.jobs.push(job);
    job.cancel?.queuedOn(owner);
    if (this.timer && d < this.timerAt) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.arm();
    }
  }

  /**
   * The next job that can still be written, left at the head (`shift` takes it): jobs of aborted
   * calls and jobs past their deadline are rejected on the way, so none of them is ever written.
   * (Jobs past their deadline further back are rejected by the timer.)
   */
  peekLive(): Job | undefined {
    let t = 0;
    while (this.jobs.length > 0) {
      const job = this.jobs.peek()!;
      if (job.cancel?.aborted) {
        this.jobs.shift();
        job.reject(job.cancel.reason!);
      } else if (job.deadline <= (t ||= now())) {
        this.jobs.shift();
        job.reject(this.timedOut());
      } else {
        return job;
      }
    }
    return undefined;
  }

  shift(): Job | undefined {
    return this.jobs.shift();
  }

  /** Drops the jobs of an aborted call, each rejecting with the call's reason. */
  purge(cancel: Cancel): void {
    for (const job of this.keepIf((j) => j.cancel !== cancel)) job.reject(cancel.reason!);
  }

  /** Rejects the jobs whose deadline has passed with `err`; the others keep waiting. */
  rejectExpired(err: MemclusterError): void {
    const t = now();
    for (const job of this.keepIf((j) => j.deadline > t)) job.reject(err);
  }

  /** Rejects every queued job with `err`. */
  rejectAll(err: MemclusterError): void {
    for (const job of this.jobs.drain()) job.reject(err);
  }

  /** Rejects every queued job with `err` and stops the timer for good. */
  close(err: MemclusterError): void {
    this.closed = true;
    this.rejectAll(err);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Arms the timer for the earliest queued deadline (no-op when armed, empty or closed). */
  arm(): void {
    if (this.timer || this.jobs.length === 0 || this.closed) return;
    const at = this.firstDeadline();
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(false), Math.max(1, Math.ceil(at - now())));
    this.timer.unref();
  }

  /** The earliest queued deadline, or a lower bound of it while the order is broken (queue not empty). */
  private firstDeadline(): number {
    return this.sorted ? this.jobs.peek()!.deadline : this.earliest;
  }

  private expire(graced: boolean): void {
    this.timer = undefined;
    if (this.jobs.length === 0) return;
    const t = now();
    if (this.firstDeadline() <= t) {
      if (!graced) {
        // As on a connection: let one poll phase deliver a socket that is already on its way.
        this.timerAt = -Infinity;
        this.timer = setTimeout(() => this.expire(true), 0);
        this.timer.unref();
        return;
      }
      let expired: Job[];
      if (this.sorted) {
        expired = [];
        while (this.jobs.length > 0 && this.jobs.peek()!.deadline <= t) expired.push(this.jobs.shift()!);
      } else {
        expired = this.keepIf((job) => job.deadline > t);
      }
      // Rejected once the queue is consistent again: a rejection may queue the call's next request.
      for (const job of expired) job.reject(this.timedOut());
    }
    this.arm();
  }

  /**
   * Keeps the jobs for which `keep` holds, in order, and returns the others (for the caller to
   * reject after this returns, so a request queued by a rejection goes behind the kept ones).
   * Re-learns the deadline order on the way.
   */
  private keepIf(keep: (job: Job) => boolean): Job[] {
    const dropped: Job[] = [];
    let sorted = true;
    let latest = -Infinity;
    let earliest = Infinity;
    for (const job of this.jobs.drain()) {
      if (!keep(job)) {
        dropped.push(job);
        continue;
      }
      const d = job.deadline;
      if (d < latest) sorted = false;
      else latest = d;
      if (d < earliest) earliest = d;
      this.jobs.push(job);
    }
    this.sorted = sorted;
    this.latest = latest;
    this.earliest = earliest;
    return dropped;
  }
}

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
 * deadline. One timer serves the whole queue: deadlines are nearly FIFO, so the head is the one to
 * watch, and a request whose deadline passed further back is caught when it reaches the head
 * (`takeLive`), before anything is written for it.
 */
export class JobQueue {
  private readonly jobs = new Deque<Job>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** @param timedOut the error for a request whose deadline passed while it waited. */
  constructor(private readonly timedOut: () => MemclusterError) {}

  get length(): number {
    return this.jobs.length;
  }

  /** Queues a job (the caller checked `maxQueue`) and tells its call where it waits; `arm` starts its clock. */
  push(job: Job, owner: Purgeable): void {
    this.jobs.push(job);
    job.cancel?.queuedOn(owner);
  }

  /**
   * The next job that can still be written, left at the head (`shift` takes it): jobs of aborted
   * calls and jobs past their deadline are rejected on the way, so none of them is ever written.
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
    this.keepIf((job) => job.cancel !== cancel, (job) => job.reject(cancel.reason!));
  }

  /** Rejects the jobs whose deadline has passed with `err`; the others keep waiting. */
  rejectExpired(err: MemclusterError): void {
    const t = now();
    this.keepIf((job) => job.deadline > t, (job) => job.reject(err));
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

  /** Arms the timer for the head's deadline (no-op when armed, empty or closed). */
  arm(): void {
    if (this.timer || this.jobs.length === 0 || this.closed) return;
    const head = this.jobs.peek()!;
    this.timer = setTimeout(() => this.expire(false), Math.max(1, Math.ceil(head.deadline - now())));
    this.timer.unref();
  }

  private expire(graced: boolean): void {
    this.timer = undefined;
    const t = now();
    if (!graced && this.jobs.length > 0 && this.jobs.peek()!.deadline <= t) {
      // As on a connection: let one poll phase deliver a socket that is already on its way.
      this.timer = setTimeout(() => this.expire(true), 0);
      this.timer.unref();
      return;
    }
    while (this.jobs.length > 0 && this.jobs.peek()!.deadline <= t) this.jobs.shift()!.reject(this.timedOut());
    this.arm();
  }

  private keepIf(keep: (job: Job) => boolean, drop: (job: Job) => void): void {
    const kept: Job[] = [];
    for (const job of this.jobs.drain()) {
      if (keep(job)) kept.push(job);
      else drop(job);
    }
    for (const job of kept) this.jobs.push(job);
  }
}

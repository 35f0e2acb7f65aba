// @ts-check
/**
 * What the bench measures besides time and CPU: the event loop's worst delay, and the heap.
 *
 * The loop probe is a plain 1 ms `setTimeout`, re-armed every time it fires; each firing records
 * how late it fired (now - when it was due). The worst lateness over a window is the longest time
 * a timer (or an I/O callback) due in that window had to wait: a 40 ms synchronous stretch reads
 * about 40 ms, an idle loop about 0-1 ms. Why not `perf_hooks.monitorEventLoopDelay`: its samples
 * include its own resolution (an idle loop reads ~resolution), and after `reset()` it drops the
 * first interval, so a stall right at the start of a window (a large call's synchronous set-up)
 * could go unrecorded. The probe's timer is unref'd and costs one small callback per ms.
 *
 * On a machine busy with other work, a late firing may be the process waiting for a core rather
 * than the loop being busy. So the probe also reads the process CPU time (`process.cpuUsage`, all
 * threads: GC helpers included) at every late firing (over 2 ms) and every 10th firing otherwise
 * (a getrusage call each ms cost a few % of the client's CPU on a busy VM): `maxBusy` is the
 * largest CPU time between two readings, an upper bound (by up to ~10 ms) of the longest on-CPU
 * stretch. On a quiet machine delay and busy time agree; when the delay is much larger, the rest
 * was the scheduler's doing, not the client's.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A forced full GC, for heap figures and between runs (never inside a measured call). */
setFlagsFromString('--expose-gc');
/** @type {() => void} */
export const gc = runInNewContext('gc');

export class LoopProbe {
  constructor(intervalMs = 1) {
    this.intervalMs = intervalMs;
    this.max = 0;
    this.maxBusy = 0;
    this.due = 0;
    this.cpu = 0;
    this.quiet = 0;
    /** @type {NodeJS.Timeout | undefined} */
    this.timer = undefined;
    /** @type {Array<() => void>} */
    this.waiters = [];
    this.fire = () => {
      const now = performance.now();
      const late = now - this.due;
      if (late > this.max) this.max = late;
      if (late > 2 || ++this.quiet >= 10) {
        this.quiet = 0;
        const c = process.cpuUsage();
        const cpu = (c.user + c.system) / 1000;
        if (cpu - this.cpu > this.maxBusy) this.maxBusy = cpu - this.cpu;
        this.cpu = cpu;
      }
      this.arm(now);
      const w = this.waiters;
      if (w.length) {
        this.waiters = [];
        for (const f of w) f();
      }
    };
  }

  /** @param {number} now */
  arm(now) {
    if (this.timer === undefined) {
      const c = process.cpuUsage();
      this.cpu = (c.user + c.system) / 1000;
    }
    this.due = now + this.intervalMs;
    this.timer = setTimeout(this.fire, this.intervalMs);
    this.timer.unref();
  }

  start() {
    if (this.timer === undefined) this.arm(performance.now());
    return this;
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const f of this.waiters) f();
    this.waiters = [];
  }

  /** Starts a new window: forgets the worst delay seen so far. */
  reset() {
    this.max = 0;
    this.maxBusy = 0;
  }

  /**
   * Resolves after the probe fired once more, so a stall that ended just now (a call whose last
   * synchronous stretch resolved it) is recorded; then returns the window's worst delay in ms.
   * @returns {Promise<number>}
   */
  settle() {
    return new Promise((resolve) => {
      if (this.timer === undefined) return resolve(this.max);
      this.waiters.push(() => resolve(this.max));
      this.timer.ref(); // someone waits for the next firing: keep the process alive until it comes
    });
  }
}

/** Heap in use, in bytes. */
export const heapUsed = () => process.memoryUsage().heapUsed;

/**
 * A FIFO with O(1) push and shift. `Array#shift` is O(n) once V8 leaves its fast path, and a
 * pipelined connection or a busy server queue can hold thousands of entries.
 */
export class Deque<T> {
  private items_: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items_.length - this.head;
  }

  push(item: T): void {
    this.items_.push(item);
  }

  peek(): T | undefined {
    return this.items_[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items_.length) return undefined;
    const item = this.items_[this.head];
    this.items_[this.head++] = undefined;
    // Compact once the dead prefix dominates, so memory stays proportional to what is queued.
    if (this.head > 1024 && this.head * 2 > this.items_.length) {
      this.items_ = this.items_.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** The smallest `key(item)` over the queued items (Infinity when empty). O(n): for rare checks only. */
  min(key: (item: T) => number): number {
    let m = Infinity;
    for (let i = this.head; i < this.items_.length; i++) {
      const v = key(this.items_[i] as T);
      if (v < m) m = v;
    }
    return m;
  }

  /** The queued items, oldest first (do not push or shift while iterating). */
  *items(): IterableIterator<T> {
    for (let i = this.head; i < this.items_.length; i++) yield this.items_[i] as T;
  }

  /** Position of `item` from the head, or -1. O(n). */
  indexOf(item: T): number {
    const i = this.items_.indexOf(item, this.head);
    return i < 0 ? -1 : i - this.head;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out = this.items_.slice(this.head) as T[];
    this.items_ = [];
    this.head = 0;
    return out;
  }
}

/**
 * A FIFO with O(1) push and shift. `Array#shift` is O(n) once V8 leaves its fast path, and a
 * pipelined connection or a busy server queue can hold thousands of entries.
 */
export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact once the dead prefix dominates, so memory stays proportional to what is queued.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** The smallest `key(item)` over the queued items (Infinity when empty). O(n): for rare checks only. */
  min(key: (item: T) => number): number {
    let m = Infinity;
    for (let i = this.head; i < this.items.length; i++) {
      const v = key(this.items[i] as T);
      if (v < m) m = v;
    }
    return m;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }
}

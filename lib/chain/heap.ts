/**
 * A binary heap: the smallest item by `before` comes out first. For block templates (the best ready
 * transaction next), in O(log n) a step.
 * @module
 */

/** A binary min-heap ordered by `before(a, b)` (true when `a` must come out before `b`). */
export class Heap<T> {
  #items: T[];
  #before: (a: T, b: T) => boolean;

  /** A heap holding `items` (taken over, not copied), built in O(n). */
  constructor(before: (a: T, b: T) => boolean, items: T[] = []) {
    this.#before = before;
    this.#items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  /** Number of items. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds `item`. */
  push(item: T): void {
    const a = this.#items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.#before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  /** Removes and returns the first item, or undefined when empty. */
  pop(): T | undefined {
    const a = this.#items;
    if (a.length <= 1) return a.pop();
    const top = a[0];
    a[0] = a.pop()!;
    this.#down(0);
    return top;
  }

  #down(i: number): void {
    const a = this.#items, n = a.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.#before(a[l], a[m])) m = l;
      if (r < n && this.#before(a[r], a[m])) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m], a[i]];
      i = m;
    }
  }
}

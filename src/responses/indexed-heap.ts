/**
 * A binary min-heap whose items know their own position, so that any item can be removed or
 * re-prioritised in O(log n) (the response cache's expiry and renewal orders).
 */

/** How the heap reads an item's priority and keeps its position (−1 when not in the heap). */
export interface HeapSlot<T> {
  priority(item: T): number;
  position(item: T): number;
  setPosition(item: T, position: number): void;
}

export class IndexedHeap<T> {
  readonly #items: T[] = [];
  readonly #slot: HeapSlot<T>;

  constructor(slot: HeapSlot<T>) {
    this.#slot = slot;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The item with the lowest priority, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds `item`, which must not be in the heap. */
  push(item: T): void {
    this.#items.push(item);
    this.#slot.setPosition(item, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }

  /** Removes and returns the lowest item, or `undefined` when empty. */
  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item` if it is in the heap. */
  remove(item: T): void {
    const position = this.#slot.position(item);
    if (position < 0 || this.#items[position] !== item) return;
    const last = this.#items.pop()!;
    this.#slot.setPosition(item, -1);
    if (last === item) return;
    this.#items[position] = last;
    this.#slot.setPosition(last, position);
    this.#down(position);
    this.#up(this.#slot.position(last));
  }

  /** Restores order after `item`'s priority changed (adds it when absent). */
  update(item: T): void {
    const position = this.#slot.position(item);
    if (position < 0 || this.#items[position] !== item) {
      this.push(item);
      return;
    }
    this.#down(position);
    this.#up(this.#slot.position(item));
  }

  #up(position: number): void {
    const items = this.#items;
    const item = items[position]!;
    const priority = this.#slot.priority(item);
    while (position > 0) {
      const parentPosition = (position - 1) >> 1;
      const parent = items[parentPosition]!;
      if (this.#slot.priority(parent) <= priority) break;
      items[position] = parent;
      this.#slot.setPosition(parent, position);
      position = parentPosition;
    }
    items[position] = item;
    this.#slot.setPosition(item, position);
  }

  #down(position: number): void {
    const items = this.#items;
    const item = items[position]!;
    const priority = this.#slot.priority(item);
    for (;;) {
      const left = 2 * position + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.#slot.priority(items[right]!) < this.#slot.priority(items[left]!) ? right : left;
      const childItem = items[child]!;
      if (this.#slot.priority(childItem) >= priority) break;
      items[position] = childItem;
      this.#slot.setPosition(childItem, position);
      position = child;
    }
    items[position] = item;
    this.#slot.setPosition(item, position);
  }
}

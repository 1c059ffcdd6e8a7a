/**
 * The open connections of one listener, for its once-a-second deadline sweep and for its close: an
 * array with swap-removal, each connection knowing its own place in it.
 *
 * Not a Set: under one-connection-per-request load, connections held in a Set from accept to close
 * survived V8's young-generation collections (about 17 KB each: 34 MB promoted per scavenge at
 * 11,000 connections/s, scavenges of 6–10 ms and a full collection every 0.3 s), while the same
 * server keeping them in this array left scavenges with nothing but the live few (measured with
 * --trace-gc, P-256, wrk -c8 with `Connection: close`).
 */
export interface Listed {
  /** Its index in the list it is in; -1 when in none. Only OpenConnections writes it. */
  listIndex: number;
}

export class OpenConnections<T extends Listed> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  add(item: T): void {
    if (item.listIndex !== -1) return;
    item.listIndex = this.#items.length;
    this.#items.push(item);
  }

  delete(item: T): void {
    const index = item.listIndex;
    if (index === -1 || this.#items[index] !== item) return;
    const last = this.#items.pop()!;
    if (last !== item) {
      this.#items[index] = last;
      last.listIndex = index;
    }
    item.listIndex = -1;
  }

  /** Visits every item; `visit` may delete the one it is given (the walk runs from the end). */
  forEach(visit: (item: T) => void): void {
    for (let index = this.#items.length - 1; index >= 0; index--) {
      const item = this.#items[index];
      if (item !== undefined) visit(item);
    }
  }
}

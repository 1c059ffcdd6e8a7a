/**
 * Values offered under a key to whoever comes for them, each taken at most once: loads started
 * before the source that uses them exists (index-preload.ts, shared-crl-loads.ts). One that nobody
 * takes within `ttlMs` is dropped, so that what it holds (a loaded table) is not kept for nothing.
 */
export class ClaimOnce<T> {
  readonly #offered = new Map<string, T>();
  readonly #ttlMs: number;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  has(key: string): boolean {
    return this.#offered.has(key);
  }

  /** Offers `value` under `key` (replacing an earlier offer) until taken or `ttlMs` has passed. */
  offer(key: string, value: T): void {
    this.#offered.set(key, value);
    setTimeout(() => {
      if (this.#offered.get(key) === value) this.#offered.delete(key);
    }, this.#ttlMs).unref();
  }

  /** The value offered under `key`, once: later calls find nothing. */
  take(key: string): T | undefined {
    const value = this.#offered.get(key);
    this.#offered.delete(key);
    return value;
  }
}

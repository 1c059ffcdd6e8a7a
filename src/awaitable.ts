/**
 * A value now, or a promise of it. Layers that can answer at once (an in-memory index, an inline
 * ECDSA signature) hand back the value itself, so a request that never waits costs no promise and
 * no microtask; layers that must wait (a database, RSA on the thread pool, a PKCS#11 token) return a
 * promise. Callers in async code simply `await` either; the hot path checks with `isPromise`.
 */
export type Awaitable<T> = T | Promise<T>;

/** Whether `value` is still to come. Every promise here is a native one, so `instanceof` is exact. */
export function isPromise<T>(value: Awaitable<T>): value is Promise<T> {
  return value instanceof Promise;
}

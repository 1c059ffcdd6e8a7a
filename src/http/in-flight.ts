/**
 * Counts the requests that still use one generation of the service (its pipelines, sources, billing
 * sinks), so that a reload or a shutdown closes them only once the last such request is done.
 */
export interface InFlight {
  /** Marks one more user; returns the function that ends its use (calling it again does nothing). */
  hold(): () => void;
  /** Users now. */
  readonly count: number;
  /** Resolves once no user is left (at once when none is). Later holds are still counted. */
  idle(): Promise<void>;
}

/** Builds an InFlight counter, starting at zero. */
export function inFlight(): InFlight {
  let count = 0;
  let waiters: (() => void)[] = [];
  const release = () => {
    count--;
    if (count === 0 && waiters.length > 0) {
      const done = waiters;
      waiters = [];
      for (const resolve of done) resolve();
    }
  };
  return {
    hold() {
      count++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },
    get count() {
      return count;
    },
    idle: () => (count === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
  };
}

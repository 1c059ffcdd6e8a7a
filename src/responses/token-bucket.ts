import type { Clock } from "../clock.ts";
import { ConfigError } from "../errors.ts";

/** A token bucket: `perSecond` tokens a second, at most `burst` saved up (background signing's rate limit). */
export interface TokenBucket {
  /** Takes one token; false when none is left. */
  take(): boolean;
  /** Milliseconds until the next token (0 when one is there). */
  msUntilNext(): number;
}

/** Starts full. Throws ConfigError naming `perSecond` or `burst` when not positive (burst: an integer). */
export function tokenBucket(options: { readonly perSecond: number; readonly burst: number }, clock: Clock): TokenBucket {
  const { perSecond, burst } = options;
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new ConfigError("perSecond", "must be a positive number");
  if (!Number.isSafeInteger(burst) || burst < 1) throw new ConfigError("burst", "must be a positive integer");
  let tokens = burst;
  let last = clock.now();
  const refill = (): void => {
    const now = clock.now();
    if (now > last) tokens = Math.min(burst, tokens + ((now - last) * perSecond) / 1000);
    last = now;
  };
  return {
    take() {
      refill();
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    msUntilNext() {
      refill();
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / perSecond);
    },
  };
}

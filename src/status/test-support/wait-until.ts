/**
 * A bounded poll for tests of asynchronous behaviour (file watchers, reloads): retries a check
 * until it passes or a deadline passes, instead of sleeping a fixed time and hoping.
 */
import { setTimeout as delay } from "node:timers/promises";

/**
 * Calls `check` every `everyMs` until it returns a value other than `undefined`/`false`, and
 * resolves with that value. Rejects with an Error naming `what` after `attempts` tries.
 */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, attempts = 200, everyMs = 25): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const result = await check();
    if (result !== undefined && result !== false) return result;
    await delay(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

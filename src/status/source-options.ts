/**
 * Checks for the options objects of the status sources. The sources are built from parsed
 * configuration, but also directly by tests and embedders, so each factory re-checks its input
 * and names the offending field in a ConfigError instead of failing later with a TypeError.
 */
import { ConfigError } from "../errors.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/logger.ts";

/** Throws ConfigError(field) unless `value` is a non-empty string; returns it. */
export function requireFile(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw new ConfigError(field, "must be a file path");
  return value;
}

/** Throws ConfigError(field) unless `value` is a non-empty Buffer (a certificate's DER); returns it. */
export function requireDer(value: unknown, field: string): Buffer {
  if (!Buffer.isBuffer(value) || value.length === 0) throw new ConfigError(field, "must be the DER of a certificate");
  return value;
}

/** Throws ConfigError("clock") unless `value` has a `now()` method; returns it. */
export function requireClock(value: unknown): Clock {
  if (typeof value !== "object" || value === null || typeof (value as { now?: unknown }).now !== "function") {
    throw new ConfigError("clock", "must be a Clock");
  }
  return value as Clock;
}

/** Throws ConfigError("logger") unless `value` looks like a Logger; returns it. */
export function requireLogger(value: unknown): Logger {
  const methods = ["debug", "info", "warn", "error", "child"];
  if (typeof value !== "object" || value === null || methods.some((m) => typeof (value as Record<string, unknown>)[m] !== "function")) {
    throw new ConfigError("logger", "must be a Logger");
  }
  return value as Logger;
}

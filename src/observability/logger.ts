import { pino } from "pino";

/**
 * The logging surface Vouch uses: pino's, narrowed so that tests can pass a recorder.
 * Field names are fixed across the code base (STYLE convention 9; every one is documented in
 * docs/observability.md): `serial` (upper-case hex), `issuerKeyHash` (hex), `step`, `result`,
 * `responder`, `issuer`, `client`, `reason`, `file`, `err`.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  child(fields: Record<string, unknown>): Logger;
  /**
   * Sets the level of this logger and of every logger derived from it, before or after (a
   * configuration reload changes `log.level`). Optional: a test recorder keeps every record.
   */
  setLevel?(level: LogLevel): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/**
 * JSON lines on stdout (or a file descriptor), pino-formatted: `level` as its name ("info"),
 * `time` as ISO 8601 UTC, `msg`, then the record's fields.
 */
export function jsonLogger(level: LogLevel = "info", destination: number = 1): Logger {
  const root = pino(
    // pino filters nothing: the threshold below does, shared by the root and every child, so that one
    // setLevel reaches the loggers the running responders already hold (pino's children keep the level they were made with).
    { level: "debug", base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ dest: destination, sync: false }),
  );
  const threshold = { value: LEVEL_VALUES[level] };
  const wrap = (logger: pino.Logger): Logger => ({
    debug: (fields, message) => {
      if (threshold.value <= LEVEL_VALUES.debug) logger.debug(fields, message);
    },
    info: (fields, message) => {
      if (threshold.value <= LEVEL_VALUES.info) logger.info(fields, message);
    },
    warn: (fields, message) => {
      if (threshold.value <= LEVEL_VALUES.warn) logger.warn(fields, message);
    },
    error: (fields, message) => {
      if (threshold.value <= LEVEL_VALUES.error) logger.error(fields, message);
    },
    child: (fields) => wrap(logger.child(fields)),
    setLevel: (next) => {
      threshold.value = LEVEL_VALUES[next];
    },
  });
  return wrap(root);
}

const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = { debug: 20, info: 30, warn: 40, error: 50, silent: Number.POSITIVE_INFINITY };

/** A logger that keeps every record in memory, for tests that assert on what was logged. */
export interface RecordingLogger extends Logger {
  readonly records: { level: string; message: string; fields: Record<string, unknown> }[];
}

export function recordingLogger(): RecordingLogger {
  const records: RecordingLogger["records"] = [];
  const make = (bound: Record<string, unknown>): Logger => {
    const write = (level: string) => (fields: Record<string, unknown>, message: string) => {
      records.push({ level, message, fields: { ...bound, ...fields } });
    };
    return {
      debug: write("debug"),
      info: write("info"),
      warn: write("warn"),
      error: write("error"),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return Object.assign(make({}), { records });
}

/** Discards everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

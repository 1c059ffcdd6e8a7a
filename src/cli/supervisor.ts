/**
 * The supervisor of `vouch serve --workers N` (N > 1): the process the operator started. It serves
 * nothing itself; it starts N worker processes (serve-worker.ts) that each listen on every
 * configured address with SO_REUSEPORT, so the kernel spreads connections over them and a crash
 * (a native PKCS#11 module, say) takes one worker, not the service. With `--worker-threads` the
 * workers are threads of this process instead (thread-worker.ts): one process, the same workers.
 * It replaces a worker that exits, backing off while replacements keep dying; it validates the
 * configuration file on a reload and hands it, parsed, to every worker (a replaced worker starts
 * from the last good configuration); it stops them all on shutdown.
 *
 * Why processes with SO_REUSEPORT, not node:cluster: measured here (2 cores, wrk -c8, one
 * connection per request, a trivial handler, 2 workers) SO_REUSEPORT processes cost 94–116 µs of
 * CPU per request against 282–293 µs for cluster's round-robin, where the primary accepts every
 * connection and passes it over IPC (5,800–8,900 vs 3,100–3,200 req/s).
 */
import { fork } from "node:child_process";
import { readFile } from "node:fs/promises";
import { parseConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { PreloadedTables } from "../status/source-supply.ts";
import { describeReloadError, type ReloadOutcome } from "./reload-config.ts";
import { reloadSummaryMessage, workersReloadSummary, type ReloadSummary } from "./reload-summary.ts";
import { startThreadWorker, type WorkerHandle } from "./thread-worker.ts";
import { workerExecArgv } from "./worker-heap.ts";
import { askWorker, askWorkers, relaySiblingAsks, superviseWorkers } from "./worker-channel.ts";
import { RELOAD_KIND, type ControlMessage, type WorkerReport } from "./worker-messages.ts";

/** A reload loads every source anew (a million-entry index takes seconds); a worker silent this long is left out. */
const RELOAD_TIMEOUT_MS = 10 * 60_000;

export interface SupervisorOptions {
  readonly workers: number;
  /** Run the workers as threads of this process (`--worker-threads`) instead of as processes. */
  readonly threads?: boolean;
  /** Checks a configuration beyond its schema before a reload hands it on (throws ConfigError). */
  readonly check?: (config: Config) => void;
  /** Revocation tables in shared memory for the first worker threads (preload-tables.ts); threads only. */
  readonly preloadedTables?: PreloadedTables | undefined;
  readonly configFile: string;
  /** The configuration file, parsed and validated: what the workers are handed (they never parse it themselves). */
  readonly config: Config;
  readonly logger: Logger;
  /** Restart backoff: first delay after a quick death, cap, and how long a worker must live to reset it. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number; readonly stableMs: number };
  /** How long workers get to finish their requests on stop before they are killed (default 60 s). */
  readonly stopTimeoutMs?: number;
  /** Called each time a worker that exited is replaced (the `vouch_worker_restarts_total` counter). */
  readonly onWorkerReplaced?: () => void;
}

export interface Supervisor {
  /** The live workers' pids, in slot order. */
  readonly pids: readonly number[];
  /**
   * Re-reads the configuration file and reloads every worker; resolves with the outcome, which is
   * also logged as one summary line whatever the workers said. Never rejects.
   */
  reload(): Promise<ReloadSummary>;
  /** Stops every worker (they finish their requests in flight); resolves with the exit code to use. */
  stop(): Promise<number>;
}

interface Slot {
  readonly worker: number;
  child: WorkerHandle | undefined;
  /** Whether `child` reported ready. */
  ready: boolean;
  /** The configuration `child` serves (the very object: a reload parses a new one). */
  config: Config;
  startedAt: number;
  /** Consecutive deaths soon after start. */
  quickDeaths: number;
  restartTimer: NodeJS.Timeout | undefined;
}

const ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./serve-worker.ts" : "./serve-worker.js", import.meta.url);

/**
 * Starts the workers and resolves once every one is serving. Rejects with ConfigError (the first
 * failing worker's reason) when one cannot start; the others are then stopped.
 */
export async function startSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  const { configFile, logger } = options;
  const backoff = options.backoff ?? { initialMs: 250, maxMs: 30_000, stableMs: 10_000 };
  let config = options.config;
  // Only the first workers take them: kept for replacements, they would hold tables the workers have since let go.
  let startTables = options.threads === true ? options.preloadedTables : undefined;
  let stopping = false;
  const slots: Slot[] = Array.from({ length: options.workers }, (_, index) => ({
    worker: index + 1,
    child: undefined,
    ready: false,
    config,
    startedAt: 0,
    quickDeaths: 0,
    restartTimer: undefined,
  }));
  const readyWorkers = () => slots.flatMap((slot) => (slot.child !== undefined && slot.ready ? [slot.child] : []));
  superviseWorkers(readyWorkers);

  /** Forks the slot's worker; resolves when it is ready, rejects (ConfigError) when it fails or dies first. */
  const spawnWorker = (slot: Slot): Promise<void> => {
    const child = options.threads === true ? startThreadWorker(ENTRY) : fork(ENTRY, [], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: workerExecArgv() });
    slot.child = child;
    slot.ready = false;
    // A worker about to answer with changed revocation data asks the others to hold those answers (compose/sibling-holds.ts).
    relaySiblingAsks(child, readyWorkers);
    slot.config = config;
    slot.startedAt = Date.now();
    const start: ControlMessage = { vouch: "start", configFile, config, worker: slot.worker, tables: startTables };
    child.send(start, () => {});
    const started = new Promise<void>((resolve, reject) => {
      const onMessage = (received: unknown) => {
        const message = received as WorkerReport;
        if (message.vouch === "ready") {
          child.off("message", onMessage);
          slot.ready = true;
          logger.info({ worker: slot.worker, pid: child.pid }, "worker started");
          resolve();
          // Started from an older configuration while a reload was adopted: bring it up to date.
          if (slot.config !== config) {
            const target = config;
            void askWorker(child, RELOAD_KIND, { payload: target, timeoutMs: RELOAD_TIMEOUT_MS }).then((answer) => {
              if ((answer?.value as ReloadOutcome | undefined)?.ok === true) slot.config = target;
            });
          }
        } else if (message.vouch === "failed") {
          child.off("message", onMessage);
          // `error` already names the file and the field.
          reject(new ConfigError("", message.error));
        }
      };
      child.on("message", onMessage);
      child.once("exit", (code, signal) => reject(new Error(`worker ${slot.worker} exited during start-up (${signal ?? `code ${code}`})`)));
    });
    child.once("exit", (code, signal) => onExit(slot, child, code, signal));
    return started;
  };

  const onExit = (slot: Slot, child: WorkerHandle, code: number | null, signal: NodeJS.Signals | null) => {
    if (slot.child !== child) return;
    slot.child = undefined;
    slot.ready = false;
    if (stopping) return;
    const lived = Date.now() - slot.startedAt;
    slot.quickDeaths = lived < backoff.stableMs ? slot.quickDeaths + 1 : 0;
    // The first death after a long life is replaced at once; quick deaths in a row back off
    // exponentially, so a worker that cannot start does not turn into a fork storm.
    const delay = slot.quickDeaths === 0 ? 0 : Math.min(backoff.maxMs, backoff.initialMs * 2 ** (slot.quickDeaths - 1));
    logger.warn({ worker: slot.worker, pid: child.pid, code, signal, restartInMs: delay }, "worker exited; replacing it");
    options.onWorkerReplaced?.();
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (stopping) return;
      spawnWorker(slot).catch((error: unknown) => {
        logger.error({ worker: slot.worker, err: error instanceof Error ? error.message : String(error) }, "replacement worker failed to start");
      });
    }, delay);
  };

  const reloadWorkers = async (): Promise<ReloadSummary> => {
    const target = config;
    const asked = slots.filter((slot) => slot.ready).length;
    const answers = (await askWorkers(RELOAD_KIND, { payload: target, timeoutMs: RELOAD_TIMEOUT_MS })) as ReloadOutcome[];
    for (const slot of slots) if (slot.ready) slot.config = target;
    return workersReloadSummary(asked, answers, RELOAD_TIMEOUT_MS);
  };

  let reloading: Promise<unknown> = Promise.resolve();
  const reload = async (): Promise<ReloadSummary> => {
    let parsed: Config;
    try {
      parsed = parseConfig(await readFile(configFile, "utf8"), configFile);
      options.check?.(parsed);
    } catch (error) {
      const problem = error instanceof ConfigError ? error.describe() : describeReloadError(error, configFile);
      const summary: ReloadSummary = { result: "refused", error: problem, workers: { applied: 0, refused: 0, silent: 0 } };
      logger.error({ file: configFile, ...(error instanceof ConfigError ? { field: error.field } : {}), result: summary.result, err: problem }, reloadSummaryMessage(summary));
      return summary;
    }
    const previous = config;
    config = parsed;
    const summary = await reloadWorkers();
    if (summary.result === "refused") {
      // No worker took it (each logged why): replacements keep starting from the old configuration.
      config = previous;
      for (const slot of slots) if (slot.ready) slot.config = previous;
    } else {
      logger.setLevel?.(parsed.log.level);
    }
    // One line for every reload, whatever the workers said.
    const fields = { config: configFile, result: summary.result, ...summary.workers, ...(summary.error === undefined ? {} : { err: summary.error }) };
    if (summary.result === "applied") logger.info(fields, reloadSummaryMessage(summary));
    else if (summary.result === "partial") logger.warn(fields, reloadSummaryMessage(summary));
    else logger.error(fields, reloadSummaryMessage(summary));
    return summary;
  };

  try {
    await Promise.all(slots.map((slot) => spawnWorker(slot)));
  } catch (error) {
    stopping = true;
    await stopAll(slots, options.stopTimeoutMs ?? 60_000);
    throw error;
  } finally {
    startTables = undefined;
  }
  return {
    get pids() {
      return slots.flatMap((slot) => (slot.child?.pid === undefined ? [] : [slot.child.pid]));
    },
    reload: () => {
      const run = reloading.then(reload);
      reloading = run;
      return run;
    },
    stop: async () => {
      stopping = true;
      return stopAll(slots, options.stopTimeoutMs ?? 60_000);
    },
  };
}

/** Asks every worker to stop, kills those still running after `timeoutMs`; 0 when all exited cleanly. */
async function stopAll(slots: readonly Slot[], timeoutMs: number): Promise<number> {
  for (const slot of slots) clearTimeout(slot.restartTimer);
  const exits = slots.flatMap((slot) => {
    const child = slot.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return [];
    const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
    const stop: ControlMessage = { vouch: "stop" };
    if (child.connected) child.send(stop, () => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    return [exited.finally(() => clearTimeout(timer))];
  });
  const codes = await Promise.all(exits);
  return codes.every((code) => code === 0) ? 0 : 1;
}

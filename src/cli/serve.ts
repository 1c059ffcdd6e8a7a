import { Registry, collectDefaultMetrics } from "../observability/prom-client.ts";
import { systemClock } from "../clock.ts";
import type { Config } from "../config/schema.ts";
import type { Service } from "../compose/start-service.ts";
import { ConfigError } from "../errors.ts";
import { readAdminToken, startAdminServer } from "../operations/admin-server.ts";
import { PURGE_ASK, purgeScope, sumPurgeResults, type PurgeRequest, type PurgeResult } from "../responses/cache-purge.ts";
import { jsonLogger, type Logger } from "../observability/logger.ts";
import type { MetricsJson } from "../observability/aggregate.ts";
import { workersObservability } from "../operations/worker-observability.ts";
import { removePidFile, writePidFile } from "./pid-file.ts";
import { namingConfigFile, planServe, type ServeOptions } from "./serve-plan.ts";
import { claimAddresses } from "./single-instance.ts";
import { reloadService } from "./reload-config.ts";
import { reloadReporter } from "./reload-report.ts";
import { singleReloadSummary } from "./reload-summary.ts";
import { reloadCounter, workerRestartCounter } from "../observability/supervision-metrics.ts";
import { stopGracefully } from "./stop-gracefully.ts";
import { startSupervisor } from "./supervisor.ts";
import { askWorkers } from "./worker-channel.ts";

/**
 * `vouch serve --config FILE [--workers N [--worker-threads]] [--pid-file FILE]`: runs until SIGTERM
 * or SIGINT; SIGHUP reloads the configuration file. With one worker this process serves; with more
 * it supervises worker processes, or threads (supervisor.ts), and passes reloads and stops on to all
 * of them. Throws ConfigError for a bad file, for several workers on port 0, or when the service
 * cannot start.
 */
export async function runServe(configFile: string, options: ServeOptions = {}): Promise<void> {
  const { config, workers, threads, checkReload: check } = await planServe(configFile, options);
  // Held for the life of the process: a second serve of these addresses is refused (single-instance.ts).
  await claimAddresses(config, configFile);
  if (workers === 1) {
    await serveConfig(config, configFile, { pidFile: options.pidFile });
    return;
  }
  const logger = jsonLogger(config.log.level).child({ supervisor: process.pid });
  guardProcess(logger);
  // From the start: SIGHUP's default action would kill the process. One that comes while the
  // workers start is ignored (they start from the file as it was read above).
  let reload = () => logger.warn({}, "SIGHUP while starting: ignored");
  process.on("SIGHUP", () => reload());
  // Worker threads answer from one copy of each index and CRL table, loaded here once (preload-tables.ts).
  // The supervisor of worker processes never loads the serving code (~9 MB of its RSS); threads need the tables.
  const preloadedTables = threads ? await (await import("../compose/preload-tables.ts")).preloadTables(config, Date.now()) : undefined;
  if (preloadedTables !== undefined && preloadedTables.indexes.length + preloadedTables.crls.length > 0) {
    logger.info({ files: [...preloadedTables.indexes, ...preloadedTables.crls].map((load) => load.file) }, "revocation tables loaded once for the worker threads");
  }
  // The supervisor's own counters (reloads, worker restarts), beside the workers' registries; with
  // threads, the process's figures too, collected only for an admin listener to show (issue 18).
  const own = threads && config.admin !== undefined ? processWideRegistry() : new Registry();
  const supervisor = await startSupervisor({ workers, threads, check, preloadedTables, configFile, config, logger, onWorkerReplaced: workerRestartCounter(own) });
  // The admin listener lives in the supervisor: Prometheus scraping a port the workers share would
  // see one worker at random; here every worker's registry is aggregated (docs/observability.md).
  const admin =
    config.admin === undefined
      ? undefined
      : await startAdminServer({
          listen: config.admin.listen,
          ...workersObservability((kind) => askWorkers(kind), observedSupervisor(own, threads)),
          purge: await purgeEndpoint(config.admin.tokenFile, async (request) => {
            purgeScope(request);
            const answers = (await askWorkers(PURGE_ASK, { payload: request, timeoutMs: 10_000 })) as PurgeResult[];
            return { ...sumPurgeResults(answers), workers: supervisor.pids.length };
          }),
          logger,
        }).catch(async (error: unknown) => {
          await supervisor.stop();
          throw error instanceof ConfigError ? new ConfigError(error.field, error.message, { file: configFile, cause: error.cause }) : error;
        });
  const reports = reloadReporter({ pidFile: options.pidFile, count: reloadCounter(own), logger });
  reload = () => {
    const askedAt = Date.now();
    void supervisor.reload().then((summary) => reports.record(summary, askedAt));
  };
  if (options.pidFile !== undefined) await writePidFile(options.pidFile);
  logger.info({ config: configFile, workers, ...(threads ? { threads } : { pids: supervisor.pids }) }, "ready");
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: supervisor.pids.length }, "stopping: every worker finishes its requests in flight");
    void supervisor.stop().then(async (code) => {
      await admin?.close();
      await reports.remove();
      if (options.pidFile !== undefined) await removePidFile(options.pidFile);
      process.exit(code);
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/**
 * Serves a loaded configuration in this process and wires process signals: SIGHUP reloads
 * `configFile`, SIGTERM and SIGINT stop gracefully. Also used by `vouch demo`.
 * Throws ConfigError (naming `configFile`) when the service cannot start.
 */
export async function serveConfig(config: Config, configFile: string, options: { readonly pidFile?: string | undefined } = {}): Promise<Service> {
  const logger = jsonLogger(config.log.level);
  guardProcess(logger);
  let reload = () => logger.warn({}, "SIGHUP while starting: ignored");
  process.on("SIGHUP", () => reload());
  let service: Service;
  let closeAdmin = async () => {};
  try {
    service = await (await import("../compose/start-service.ts")).startService(config, systemClock, logger);
    const admin = config.admin;
    if (admin !== undefined) {
      const running = service;
      // One process: its own registry and readiness (with --workers, the supervisor combines its workers').
      const server = await startAdminServer({
        listen: admin.listen,
        metrics: () => running.observability.metrics.text(),
        ready: () => running.observability.ready(),
        purge: await purgeEndpoint(admin.tokenFile, async (request) => ({ ...sumPurgeResults([await running.purge(request)]), workers: 1 })),
        logger,
      }).catch(
        async (error: unknown) => {
          await running.close();
          throw error;
        },
      );
      closeAdmin = server.close;
    }
  } catch (error) {
    throw namingConfigFile(error, configFile);
  }
  const pidFile = options.pidFile;
  if (pidFile !== undefined) await writePidFile(pidFile);
  logger.info({ config: configFile }, "ready");
  const reports = reloadReporter({ pidFile, count: reloadCounter(service.observability.metrics.registry), logger });
  const stop = stopGracefully(service, logger, {
    beforeExit: async () => {
      await closeAdmin();
      await reports.remove();
      if (pidFile !== undefined) await removePidFile(pidFile);
    },
  });
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  let reloads: Promise<unknown> = Promise.resolve();
  reload = () => {
    const askedAt = Date.now();
    // One at a time (the service would queue them anyway), so that reports follow in order.
    reloads = reloads.then(async () => reports.record(singleReloadSummary(await reloadService(service, configFile, logger)), askedAt));
  };
  return service;
}

/** The admin listener's purge endpoint when a token is configured (admin.tokenFile), else none. */
async function purgeEndpoint(tokenFile: string | undefined, run: (request: PurgeRequest) => Promise<unknown>): Promise<{ token: string; run: (request: PurgeRequest) => Promise<unknown> } | undefined> {
  return tokenFile === undefined ? undefined : { token: await readAdminToken(tokenFile), run };
}

/** With worker threads, a registry of the process's own CPU, memory and descriptors (see workersObservability). */
function processWideRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** What the admin listener adds to the workers' metrics: the supervisor's counters, and with threads the process's figures. */
function observedSupervisor(own: Registry, threads: boolean): { supervisor: () => Promise<MetricsJson>; processWide?: () => Promise<MetricsJson> } {
  const json = () => own.getMetricsAsJSON() as Promise<MetricsJson>;
  return threads ? { supervisor: json, processWide: json } : { supervisor: json };
}

/** A fault that escapes every handler is logged, never allowed to take the responders down. */
function guardProcess(logger: Logger): void {
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));
  process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception"));
}


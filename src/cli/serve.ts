import { Worker } from "node:worker_threads";
import { systemClock } from "../clock.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { startService, type Service } from "../compose/start-service.ts";
import { ConfigError } from "../errors.ts";
import { startAdminServer } from "../observability/admin-server.ts";
import { jsonLogger, type Logger } from "../observability/logger.ts";

/**
 * `vouch serve --config FILE [--threads N]`: runs until SIGTERM or SIGINT. With several threads,
 * each serves every listener on the same ports (SO_REUSEPORT), so all cores sign. Throws ConfigError
 * for a bad file.
 */
export async function runServe(configFile: string, threads = 1): Promise<void> {
  const config = await loadConfig(configFile);
  if (threads > 1) {
    const zeroPort = config.responders.findIndex((responder) => responder.listen.port === 0);
    if (zeroPort !== -1) throw new ConfigError(`responders[${zeroPort}].listen.port`, "--threads needs fixed ports (0 would give each thread its own)", { file: configFile });
  }
  const workers: Worker[] = [];
  // On SIGTERM every thread finishes its requests in flight (and their billing) before the process exits.
  const stopWorkers = () =>
    Promise.all(
      workers.map((worker) => {
        const exited = new Promise((resolve) => worker.once("exit", resolve));
        worker.postMessage("stop");
        return exited;
      }),
    ).then(() => undefined);
  await serveConfig(config, configFile, threads > 1, stopWorkers);
  for (let thread = 1; thread < threads; thread++) workers.push(await startThread(configFile, thread));
}

function startThread(configFile: string, thread: number): Promise<Worker> {
  const entry = new URL(import.meta.url.endsWith(".ts") ? "./serve-worker.ts" : "./serve-worker.js", import.meta.url);
  const worker = new Worker(entry, { workerData: { configFile, thread } });
  return new Promise((resolve, reject) => {
    worker.once("message", () => {
      // A thread that dies later is logged by the process guard; replacing it is issue #5's --workers.
      worker.on("error", (error) => process.emit("uncaughtException", error));
      resolve(worker);
    });
    worker.once("error", reject);
  });
}

/** Starts the service for a loaded configuration and wires process signals and fault logging. */
export async function serveConfig(config: Config, configFile: string, reusePort = false, beforeExit: () => Promise<void> = async () => {}): Promise<Service> {
  const logger = jsonLogger(config.log.level);
  guardProcess(logger);
  let service: Service;
  let closeAdmin = async () => {};
  try {
    service = await startService(config, systemClock, logger, { reusePort });
    if (config.admin !== undefined) {
      // One process: its own registry and readiness (with --workers, the supervisor combines its workers').
      const admin = await startAdminServer({
        listen: config.admin.listen,
        metrics: () => service.observability.metrics.text(),
        ready: () => service.observability.ready(),
        logger,
      }).catch(async (error: unknown) => {
        await service.close();
        throw error;
      });
      closeAdmin = admin.close;
    }
  } catch (error) {
    // Name the configuration file first; a data file at fault (an index, a CRL) is named in the message.
    if (error instanceof ConfigError && error.file !== configFile) {
      const message = error.file === undefined ? error.message : `${error.file}: ${error.message}`;
      throw new ConfigError(error.field, message, { file: configFile, cause: error.cause });
    }
    throw error;
  }
  logger.info({ config: configFile }, "ready");
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: finishing requests in flight");
    void Promise.all([service.close(), closeAdmin(), beforeExit()]).then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  return service;
}

/** A fault that escapes every handler is logged, never allowed to take the responders down. */
function guardProcess(logger: Logger): void {
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));
  process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception"));
}

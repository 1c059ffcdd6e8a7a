/**
 * One serving thread of `vouch serve --threads N`: loads the same configuration and serves it on the
 * same ports (SO_REUSEPORT), so the kernel spreads connections over the threads. Started by
 * serve.ts; stops when the main thread posts "stop".
 */
import { parentPort, workerData } from "node:worker_threads";
import { systemClock } from "../clock.ts";
import { loadConfig } from "../config/load.ts";
import { startService } from "../compose/start-service.ts";
import { jsonLogger } from "../observability/logger.ts";

const { configFile, thread } = workerData as { configFile: string; thread: number };
const config = await loadConfig(configFile);
const logger = jsonLogger(config.log.level).child({ thread });
// As in the main thread: a fault that escapes every handler is logged, and the thread keeps serving.
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));
process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception"));
const service = await startService(config, systemClock, logger, { reusePort: true });
parentPort!.postMessage("ready");
parentPort!.on("message", (message) => {
  if (message === "stop") void service.close().then(() => process.exit(0));
});

/**
 * One worker of `vouch serve --workers N`, started by supervisor.ts as a process (or, with
 * `--worker-threads`, as a thread of the supervisor's process): serves the parsed configuration the
 * supervisor sends on every configured address with SO_REUSEPORT. It reloads when the supervisor
 * asks (or on its own SIGHUP, from the file), and stops gracefully on the supervisor's "stop", on
 * SIGTERM, or when the supervisor goes away. SIGINT is left to the supervisor (a terminal's Ctrl-C
 * reaches every process of the group; the supervisor stops all of them). A thread gets no signals:
 * its supervisor passes them on as messages.
 */
import { systemClock } from "../clock.ts";
import type { Config } from "../config/schema.ts";
import { startService, type Service } from "../compose/start-service.ts";
import { jsonLogger } from "../observability/logger.ts";
import { answerObservabilityAsks } from "../operations/worker-observability.ts";
import { describeReloadError, reloadService } from "./reload-config.ts";
import { stopGracefully } from "./stop-gracefully.ts";
import { RELOAD_KIND, type ControlMessage, type WorkerReport } from "./worker-messages.ts";
import { supervisorLink } from "./supervisor-link.ts";
import { askSiblings, onSupervisorAsk } from "./worker-channel.ts";
import { HOLD_ASK, type HoldRequest, type Siblings } from "../compose/sibling-holds.ts";
import { PURGE_ASK, type PurgeRequest } from "../responses/cache-purge.ts";

const link = supervisorLink!;
/**
 * How long a change waits for the sibling workers to say they hold (a worker busy for longer is
 * left out, and warned about): they answer from their message handler, within a millisecond or two
 * on a quiet machine. Generous, because a sibling left out may say good after this one said revoked;
 * a dead sibling is left out at once (worker-channel.ts), so only a live but stuck one costs this.
 */
const SIBLING_HOLD_TIMEOUT_MS = 5000;
const report = (message: WorkerReport) => link.send(message);
process.on("SIGINT", () => {});
let service: Service | undefined;
let reloadFromFile = () => {};
// Before the service runs a SIGHUP has nothing to reload (and must not kill the worker).
process.on("SIGHUP", () => reloadFromFile());

// Listening from the first moment: a stop may come while the service is still starting.
const stopping: { stop?: (reason: string) => void; requested?: string } = {};
const requestStop = (reason: string) => (stopping.stop === undefined ? (stopping.requested ??= reason) : stopping.stop(reason));
const start = await new Promise<Extract<ControlMessage, { vouch: "start" }>>((resolve) => {
  link.onMessage((message) => {
    const control = message as ControlMessage;
    if (control.vouch === "start") resolve(control);
    else if (control.vouch === "stop") requestStop("supervisor");
  });
  process.on("SIGTERM", () => requestStop("SIGTERM"));
  link.onGone(() => requestStop("supervisor gone"));
});
// Parsed and validated by the supervisor: this worker loads no configuration parser unless its own SIGHUP asks it to re-read the file.
const { configFile, worker, config } = start;
const logger = jsonLogger(config.log.level).child({ worker, pid: process.pid });
// A fault that escapes every handler is logged; the worker keeps serving.
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));
process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception"));
// Before this worker's sources answer with a change, the others hold their answers for it (compose/sibling-holds.ts).
const siblings: Siblings = {
  async hold(request) {
    const { asked, answers } = await askSiblings(HOLD_ASK, request, SIBLING_HOLD_TIMEOUT_MS);
    return { asked, holding: answers.length };
  },
};
let holdChanged: (request: HoldRequest) => number = () => 0;
onSupervisorAsk(HOLD_ASK, (request) => holdChanged(request as HoldRequest));
try {
  // Each worker bills into files of its own (file-billing-sink.ts `writer`); its replacement takes them over.
  // Worker 1 alone renews signers: a renewal must run once per service, not once per worker. Worker
  // threads: the revocation tables the supervisor loaded once into shared memory, for the sources built first.
  service = await startService(config, systemClock, logger, { reusePort: true, billingWriter: `w${worker}`, renewSigners: worker === 1, tables: start.tables, siblings });
} catch (error) {
  report({ vouch: "failed", error: describeReloadError(error, configFile) });
  link.leave();
  process.exit(2);
}
const running = service;
holdChanged = (request) => running.holdChanged(request);
reloadFromFile = () => void reloadService(running, configFile, logger);
onSupervisorAsk(RELOAD_KIND, (parsed) => reloadService(running, configFile, logger, parsed as Config));
// `vouch cache purge` through the supervisor's admin listener: every worker drops from its own memory tiers (and Redis).
onSupervisorAsk(PURGE_ASK, (request) => running.purge(request as PurgeRequest));
// The supervisor's admin listener aggregates every worker's metrics and readiness.
answerObservabilityAsks(onSupervisorAsk, () => running);
stopping.stop = stopGracefully(running, logger);
if (stopping.requested === undefined) report({ vouch: "ready" });
else stopping.stop(stopping.requested);

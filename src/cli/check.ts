/**
 * `vouch check --config FILE [--workers N [--worker-threads]]`: judges a configuration exactly as
 * `vouch serve` would start it, without serving: the same reading and validation (serve-plan.ts),
 * then the same build of everything short of listening (build-generation.ts: every certificate, key,
 * PIN, index, CRL and store loaded and checked, signers tried, billing sinks opened), closed again.
 * Nothing listens and no CRL URL is fetched (the state folder's last good CRLs are checked instead;
 * check-fetches.ts says what serve will fetch), so it may run beside the serve it checks, before a
 * reload or a restart, and without network.
 */
import { systemClock } from "../clock.ts";
import { buildGeneration } from "../compose/build-generation.ts";
import { jsonLogger } from "../observability/logger.ts";
import { createMetrics } from "../observability/metrics.ts";
import { namingConfigFile, planServe, type ServeOptions } from "./serve-plan.ts";
import { crlFetchSummary } from "./check-fetches.ts";

/**
 * Prints one line saying what the configuration serves, or throws the ConfigError `vouch serve`
 * would stop with (main.ts prints it, exit 2). Warnings of the build go to standard error as log lines.
 */
export async function runCheck(configFile: string, options: Omit<ServeOptions, "pidFile">): Promise<void> {
  const { config, workers, threads } = await planServe(configFile, options);
  // Standard output carries the verdict; what the build logs below a warning is start-up chatter.
  const logger = jsonLogger(config.log.level === "error" || config.log.level === "silent" ? config.log.level : "warn", 2);
  let generation;
  try {
    generation = await buildGeneration(config, systemClock, logger, createMetrics({ clock: systemClock }));
  } catch (error) {
    throw namingConfigFile(error, configFile);
  }
  await generation.close();
  const issuers = config.responders.reduce((count, responder) => count + responder.issuers.length, 0);
  const addresses = [...generation.addresses.values()].map((address) => `${address.settings.tls === undefined ? "http" : "https"}://${address.host}:${address.port}`);
  const admin = config.admin === undefined ? "" : `, admin on ${config.admin.listen.host}:${config.admin.listen.port}`;
  const running = workers === 1 ? "one process" : `${workers} worker ${threads ? "threads" : "processes"}`;
  process.stdout.write(
    `${configFile}: valid: ${config.responders.length} responder${config.responders.length === 1 ? "" : "s"}, ${issuers} issuer${issuers === 1 ? "" : "s"}, on ${addresses.join(", ")}${admin} (${running})\n`,
  );
  const fetches = await crlFetchSummary(config);
  if (fetches !== undefined) process.stdout.write(`${fetches}\n`);
}

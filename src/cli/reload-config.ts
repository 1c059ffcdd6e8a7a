import type { Config } from "../config/schema.ts";
import type { Service } from "../compose/start-service.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";

/** How a reload ended: `error` is the one-line reason when the running configuration stayed. */
export type ReloadOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * Re-reads and validates `configFile` (or takes `parsed`, the file as the supervisor read and
 * validated it) and swaps it into `service`. Never rejects: a configuration that is invalid or cannot
 * be built keeps the running one, and one error line names the file, the field and the problem.
 */
export async function reloadService(service: Service, configFile: string, logger: Logger, parsed?: Config): Promise<ReloadOutcome> {
  try {
    // Loaded only when this process reads the file itself: a worker handed parsed configurations never loads yaml and zod.
    const config = parsed ?? (await (await import("../config/load.ts")).loadConfig(configFile));
    await service.reload(config);
    logger.setLevel?.(config.log.level);
  } catch (error) {
    const problem = describeReloadError(error, configFile);
    logger.error({ file: configFile, ...(error instanceof ConfigError ? { field: error.field } : {}), err: problem }, `reload refused, the running configuration stays: ${problem}`);
    return { ok: false, error: problem };
  }
  logger.info({ config: configFile }, "reloaded");
  return { ok: true };
}

/** "vouch.yaml: responders[0].issuers[0].signer.key: /x.pem: file not found", for any reload failure. */
export function describeReloadError(error: unknown, configFile: string): string {
  if (!(error instanceof ConfigError)) return `${configFile}: ${error instanceof Error ? error.message : String(error)}`;
  // A data file at fault (an index, a CRL) is named in the message, after the configuration file.
  const message = error.file === undefined || error.file === configFile ? error.message : `${error.file}: ${error.message}`;
  return new ConfigError(error.field, message, { file: configFile }).describe();
}

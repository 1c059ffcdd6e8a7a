import type { Clock } from "../clock.ts";
import type { SourceConfig } from "../config/schema.ts";
import { ConfigError, assertNever } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import { openCrlSource } from "../status/crl/crl-source.ts";
import { openIndexSource } from "../status/index/index-source.ts";
import { openSqlSource } from "../status/sql/sql-source.ts";
import type { OpenedSource } from "../status/status-source.ts";

/**
 * Opens one configured revocation source for `issuer`. Resolves once its first data is loaded.
 * `responseValidityMs` (the issuer's) is how long an sql source's data may go unconfirmed unless it
 * sets `maxStaleness`. Throws ConfigError with the field path under `field` (e.g. `…sources[0].files[1]`).
 */
export async function buildSource(config: SourceConfig, issuer: Buffer, field: string, clock: Clock, logger: Logger, responseValidityMs: number): Promise<OpenedSource> {
  try {
    switch (config.type) {
      case "index":
        return await openIndexSource({ file: config.file, issuer, clock, logger, pollIntervalMs: config.pollInterval });
      case "crl":
        return await openCrlSource({ files: config.files, issuer, clock, logger, pollIntervalMs: config.pollInterval });
      case "sql":
        return await openSqlSource({
          database: config.database,
          schema: config.schema,
          issuer,
          clock,
          logger,
          pollIntervalMs: config.pollInterval,
          maxStalenessMs: config.maxStaleness ?? responseValidityMs,
        });
      default:
        return assertNever(config);
    }
  } catch (error) {
    throw error instanceof ConfigError ? error.within(field) : error;
  }
}

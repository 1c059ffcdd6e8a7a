import type { Clock } from "../clock.ts";
import type { SourceConfig } from "../config/schema.ts";
import { ConfigError, assertNever } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import { openCrlSource } from "../status/crl/crl-loader.ts";
import { crlFetchOptions } from "./crl-fetch-options.ts";
import { openIndexSource } from "../status/index/index-loader.ts";
import { openSqlSource } from "../status/sql/sql-loader.ts";
import { openIssuedFolder } from "../status/known/issued-folder-loader.ts";
import { withKnownSerials } from "../status/known/known-serials.ts";
import type { SourceSupply } from "../status/source-supply.ts";
import type { OpenedSource } from "../status/status-source.ts";

/**
 * Opens one configured revocation source for `issuer`. Resolves once its first data is loaded.
 * `responseValidityMs` (the issuer's) is how long an sql source's data may go unconfirmed unless it
 * sets `maxStaleness`. `supply` is what the process hands its sources: the thread reloads run on, and
 * tables loaded before them. Throws ConfigError with the field path under `field` (e.g. `…sources[0].files[1]`).
 */
export async function buildSource(
  config: SourceConfig,
  issuer: Buffer,
  field: string,
  clock: Clock,
  logger: Logger,
  responseValidityMs: number,
  supply: SourceSupply,
): Promise<OpenedSource> {
  try {
    switch (config.type) {
      case "index":
        return await openIndexSource({ file: config.file, issuer, clock, logger, pollIntervalMs: config.pollInterval, reloads: supply.reloads, tables: supply.tables });
      case "crl": {
        const crl = await openCrlSource({
          files: config.files,
          folder: config.folder,
          urls: config.urls,
          lists: config.lists,
          fetch: config.fetch === undefined ? undefined : { ...(await crlFetchOptions(config.fetch)), offline: supply.offline, listedIssuers: supply.listedCrlIssuers },
          issuer,
          clock,
          logger,
          pollIntervalMs: config.pollInterval,
          tables: supply.tables,
        });
        if (config.knownSerials === undefined) return crl;
        const { folder, database, schema, pollInterval } = config.knownSerials;
        try {
          const known =
            folder !== undefined
              ? await openIssuedFolder({ folder, issuer, clock, logger, pollIntervalMs: pollInterval })
              : await openSqlSource({ database: database!, schema, issuer, clock, logger, pollIntervalMs: pollInterval, maxStalenessMs: responseValidityMs });
          return withKnownSerials(crl, known);
        } catch (error) {
          await crl.close();
          throw error instanceof ConfigError ? error.within("knownSerials") : error;
        }
      }
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


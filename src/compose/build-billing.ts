import type { BillingSink } from "../billing/billing-sink.ts";
import { fileBillingSink } from "../billing/file-billing-sink.ts";
import type { Clock } from "../clock.ts";
import type { BillingConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";

/**
 * Opens a responder's billing sink; `writer` names this process's own files when several processes
 * bill into one folder. Throws ConfigError naming the field when it cannot be opened.
 */
export async function buildBillingSink(config: BillingConfig, field: string, clock: Clock, logger: Logger, writer?: string): Promise<BillingSink> {
  try {
    if (config.sink === "file") return fileBillingSink({ directory: config.directory!, clock, logger, ...(writer === undefined ? {} : { writer }) });
    // pg loads only when billing goes to PostgreSQL.
    const { postgresBillingSink } = await import("../billing/postgres-billing-sink.ts");
    return await postgresBillingSink({ connectionString: config.connectionString!, table: config.table, clock, logger });
  } catch (error) {
    if (error instanceof ConfigError) throw error.within(field);
    const where = config.sink === "file" ? "directory" : "connectionString";
    throw new ConfigError(`${field}.${where}`, `cannot open the ${config.sink} billing sink: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

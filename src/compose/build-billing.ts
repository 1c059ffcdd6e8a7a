import { billingHealth, type BillingHealth } from "../billing/billing-health.ts";
import type { BillingSink } from "../billing/billing-sink.ts";
import { fileBillingSink } from "../billing/file-billing-sink.ts";
import type { Clock } from "../clock.ts";
import type { BillingConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { OperationsMetrics } from "../observability/operations-metrics.ts";

/** A responder's billing sink and what readiness reads of it. */
export interface BuiltBillingSink {
  readonly sink: BillingSink;
  readonly health: BillingHealth;
}

/**
 * Opens a responder's billing sink; `writer` names this process's own files when several processes
 * bill into one folder. Its batches are counted in `metrics` (durable or failed) and feed its health.
 * Throws ConfigError naming the field when it cannot be opened.
 */
export async function buildBillingSink(
  config: BillingConfig,
  field: string,
  clock: Clock,
  logger: Logger,
  options: { readonly responder: string; readonly writer?: string | undefined; readonly metrics?: OperationsMetrics | undefined },
): Promise<BuiltBillingSink> {
  const { writer, metrics } = options;
  const count = (result: "durable" | "failed") => {
    const labels = { responder: options.responder, sink: config.sink, result };
    const batches = metrics?.billingBatches.child(labels);
    const records = metrics?.billingRecords.child(labels);
    return (size: number) => {
      batches?.inc();
      for (let i = 0; i < size; i++) records?.inc();
    };
  };
  const [durable, failed] = [count("durable"), count("failed")];
  let sink: BillingSink | undefined;
  const health = billingHealth(async () => sink?.probe?.(), clock);
  const observe = {
    onFlush: (records: number) => {
      durable(records);
      health.batch();
    },
    onFailure: (records: number, error: unknown) => {
      failed(records);
      health.batch(error);
    },
  };
  try {
    if (config.sink === "file") sink = fileBillingSink({ directory: config.directory!, clock, logger, ...(writer === undefined ? {} : { writer }), ...observe });
    else {
      // pg loads only when billing goes to PostgreSQL.
      const { postgresBillingSink } = await import("../billing/postgres-billing-sink.ts");
      sink = await postgresBillingSink({ connectionString: config.connectionString!, table: config.table, clock, logger, ...observe });
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error.within(field);
    const where = config.sink === "file" ? "directory" : "connectionString";
    throw new ConfigError(`${field}.${where}`, `cannot open the ${config.sink} billing sink: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { sink, health };
}

import { OcspError } from "../errors.ts";
import type { Clock } from "../clock.ts";
import { logSampler, type LogSampler } from "../observability/log-sampler.ts";
import type { Logger } from "../observability/logger.ts";
import { decodeWithRules, type RequestRules } from "./decode.ts";
import type { Exchange } from "./exchange.ts";
import type { Step } from "./step.ts";
import { errorReply } from "./steps/10-send.ts";

/** Runs one responder's steps over an exchange. */
export interface Pipeline {
  /** The step names, in the order they run (for logs and tests). */
  readonly steps: readonly string[];
  /** Never rejects: every failure becomes `exchange.error`, and `exchange.reply` is always set. */
  run(exchange: Exchange): Promise<void>;
}

export interface PipelineOptions {
  /** Steps 1–8 that apply, in SPEC order; they run until one produces `exchange.response`. */
  readonly deciding: readonly Step[];
  /** Steps 9 and 10 that apply; they always run. */
  readonly finishing: readonly Step[];
  readonly rules: RequestRules;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Refusal log lines let through per second (default 20); internal errors are always logged. */
  readonly refusalLogsPerSecond?: number;
}

/**
 * The request workflow (SPEC §2) for one logical responder: decode, the deciding steps until an
 * answer exists, then the finishing steps. Built once; the step list comes from the responder type.
 */
export function pipeline(options: PipelineOptions): Pipeline {
  const { deciding, finishing, rules, logger } = options;
  const sampler = logSampler(options.refusalLogsPerSecond ?? 20, options.clock);
  return {
    steps: [...deciding, ...finishing].map((step) => step.name),
    async run(exchange) {
      let current = "decode";
      try {
        exchange.request = decodeWithRules(exchange.received, rules);
        for (const step of deciding) {
          current = step.name;
          await step.run(exchange);
          if (exchange.response !== undefined) break;
        }
      } catch (error) {
        recordFailure(exchange, current, error, logger, sampler);
      }
      for (const step of finishing) {
        try {
          await step.run(exchange);
        } catch (error) {
          recordFailure(exchange, step.name, error, logger, sampler);
          exchange.response = undefined;
        }
      }
      if (exchange.reply === undefined) {
        // Only reachable when the send step itself failed: the wire still gets an OCSP error.
        exchange.reply = errorReply("internalError");
      }
    },
  };
}

function recordFailure(exchange: Exchange, step: string, error: unknown, logger: Logger, sampler: LogSampler): void {
  if (error instanceof OcspError) {
    exchange.error = { status: error.status, cause: error };
    // Refusals are the client's doing and can come in floods: sampled.
    const dropped = sampler.admit();
    if (dropped !== undefined) {
      logger.info({ step, result: error.status, client: exchange.clientAddress, reason: error.message, ...(dropped > 0 ? { dropped } : {}) }, "request refused");
    }
  } else {
    exchange.error = { status: "internalError", cause: error };
    logger.error({ step, result: "internalError", client: exchange.clientAddress, err: error }, "request failed");
  }
}

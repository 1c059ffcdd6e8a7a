import { OcspError, type OcspErrorStatus } from "../errors.ts";
import type { Clock } from "../clock.ts";
import { logSampler, type LogSampler } from "../observability/log-sampler.ts";
import type { Logger } from "../observability/logger.ts";
import { NO_STEP_RESULTS, type StepResultRecorder } from "../observability/step-results.ts";
import { decodeWithRules, type RequestRules } from "./decode.ts";
import { serialKeyFromInteger } from "../status/serial-key.ts";
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
  /** Counts each step's result (observability/step-results.ts); called once per step at build time. */
  readonly stepResults?: (step: string) => StepResultRecorder;
}

/**
 * The request workflow (SPEC §2) for one logical responder: decode, the deciding steps until an
 * answer exists, then the finishing steps. Built once; the step list comes from the responder type.
 */
export function pipeline(options: PipelineOptions): Pipeline {
  const { deciding, finishing, rules, logger } = options;
  const sampler = logSampler(options.refusalLogsPerSecond ?? 20, options.clock);
  const recorder = (name: string) => options.stepResults?.(name) ?? NO_STEP_RESULTS;
  // Bound once: index 0 is the decoding, then each deciding step (STYLE convention 9).
  const decidingResults = [recorder("decode"), ...deciding.map((step) => recorder(step.name))];
  const finishingResults = finishing.map((step) => recorder(step.name));
  return {
    steps: [...deciding, ...finishing].map((step) => step.name),
    async run(exchange) {
      let current = 0;
      try {
        exchange.request = decodeWithRules(exchange.received, rules);
        decidingResults[0]!.passed();
        for (let index = 0; index < deciding.length; index++) {
          current = index + 1;
          // A step that finished synchronously costs no microtask (most do, on a cache hit all).
          const pending = deciding[index]!.run(exchange);
          if (pending !== undefined) await pending;
          if (exchange.response !== undefined) {
            decidingResults[current]!.answered();
            break;
          }
          decidingResults[current]!.passed();
        }
      } catch (error) {
        const name = current === 0 ? "decode" : deciding[current - 1]!.name;
        decidingResults[current]!.failed(recordFailure(exchange, name, error, logger, sampler));
      }
      for (let index = 0; index < finishing.length; index++) {
        const step = finishing[index]!;
        try {
          const pending = step.run(exchange);
          if (pending !== undefined) await pending;
          finishingResults[index]!.passed();
        } catch (error) {
          finishingResults[index]!.failed(recordFailure(exchange, step.name, error, logger, sampler));
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

/** Sets `exchange.error`, logs it (refusals sampled) and returns its OCSP status. */
function recordFailure(exchange: Exchange, step: string, error: unknown, logger: Logger, sampler: LogSampler): OcspErrorStatus {
  if (error instanceof OcspError) {
    exchange.error = { status: error.status, cause: error };
    // Refusals are the client's doing and can come in floods: sampled.
    const dropped = sampler.admit();
    if (dropped !== undefined) {
      logger.info(
        { step, result: error.status, client: exchange.clientAddress, ...certificateFields(exchange), reason: error.message, ...(dropped > 0 ? { dropped } : {}) },
        "request refused",
      );
    }
    return error.status;
  }
  exchange.error = { status: "internalError", cause: error };
  logger.error({ step, result: "internalError", client: exchange.clientAddress, ...certificateFields(exchange), err: error }, "request failed");
  return "internalError";
}

/**
 * The log fields naming what was asked (docs/observability.md): the first single request's
 * `serial` (upper-case hex, as `openssl x509 -serial` prints it) and `issuerKeyHash` (hex), and
 * `requests` when there were several. Nothing before the request decoded.
 */
function certificateFields(exchange: Exchange): { serial?: string; issuerKeyHash?: string; requests?: number } {
  const requests = exchange.request?.requests;
  const first = requests?.[0];
  if (first === undefined) return {};
  const fields = { serial: serialKeyFromInteger(first.certId.serialNumber), issuerKeyHash: first.certId.issuerKeyHash.toString("hex") };
  return requests!.length > 1 ? { ...fields, requests: requests!.length } : fields;
}

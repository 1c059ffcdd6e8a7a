import { OcspError, type OcspErrorStatus } from "../errors.ts";
import type { Clock } from "../clock.ts";
import { logSampler, type LogSampler } from "../observability/log-sampler.ts";
import type { Logger } from "../observability/logger.ts";
import { NO_STEP_RESULTS, type StepResultRecorder } from "../observability/step-results.ts";
import { decodeWithRules, servedIssuersOf, type RequestRules } from "./decode.ts";
import type { IssuerDirectory } from "../issuers/issuer-directory.ts";
import { serialText } from "../status/serial-key.ts";
import type { Exchange } from "./exchange.ts";
import type { Step } from "./step.ts";
import { errorReply } from "./steps/10-send.ts";

/** Runs one responder's steps over an exchange. */
export interface Pipeline {
  /** The step names, in the order they run (for logs and tests). */
  readonly steps: readonly string[];
  /**
   * Never throws or rejects: every failure becomes `exchange.error`, and `exchange.reply` is set once
   * it returns (undefined: every step finished at once, the common case) or its promise resolves.
   */
  run(exchange: Exchange): void | Promise<void>;
}

export interface PipelineOptions {
  /** Steps 1–8 that apply, in SPEC order; they run until one produces `exchange.response`. */
  readonly deciding: readonly Step[];
  /** Steps 9 and 10 that apply; they always run. */
  readonly finishing: readonly Step[];
  readonly rules: RequestRules;
  /** The issuers the responder serves: each single request's is looked up once, after decoding. */
  readonly issuers: IssuerDirectory;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Refusal log lines let through per second (default 20); internal errors are always logged. */
  readonly refusalLogsPerSecond?: number;
  /** Counts each step's result (observability/step-results.ts); called once per step at build time. */
  readonly stepResults?: (step: string) => StepResultRecorder;
}

/**
 * The request workflow (SPEC §2) for one logical responder: decode (and look up each single
 * request's served issuer, once), the deciding steps until an answer exists, then the finishing steps. Built once; the step list comes from the responder type.
 */
export function pipeline(options: PipelineOptions): Pipeline {
  const { deciding, finishing, rules, issuers, logger } = options;
  const sampler = logSampler(options.refusalLogsPerSecond ?? 20, options.clock);
  const recorder = (name: string) => options.stepResults?.(name) ?? NO_STEP_RESULTS;
  // Bound once: index 0 is the decoding, then each deciding step (STYLE convention 9).
  const decidingResults = [recorder("decode"), ...deciding.map((step) => recorder(step.name))];
  const finishingResults = finishing.map((step) => recorder(step.name));
  /** Records deciding step `index`'s result; true when it answered. */
  const decided = (exchange: Exchange, index: number): boolean => {
    if (exchange.response !== undefined) {
      decidingResults[index + 1]!.answered();
      return true;
    }
    decidingResults[index + 1]!.passed();
    return false;
  };
  const decideFailed = (exchange: Exchange, index: number, error: unknown): void | Promise<void> => {
    decidingResults[index + 1]!.failed(recordFailure(exchange, deciding[index]!.name, error, logger, sampler));
    return finishFrom(exchange, 0);
  };
  /**
   * The deciding steps from `from` on, until one answers or fails, then the finishing steps. It stays
   * synchronous while the steps do (a basic responder signing P-256 inline never waits): each step
   * that returns a promise costs a microtask, and only that one.
   */
  const decideFrom = (exchange: Exchange, from: number): void | Promise<void> => {
    for (let index = from; index < deciding.length; index++) {
      let pending: void | Promise<void>;
      try {
        pending = deciding[index]!.run(exchange);
      } catch (error) {
        return decideFailed(exchange, index, error);
      }
      if (pending !== undefined) {
        return pending.then(
          () => (decided(exchange, index) ? finishFrom(exchange, 0) : decideFrom(exchange, index + 1)),
          (error: unknown) => decideFailed(exchange, index, error),
        );
      }
      if (decided(exchange, index)) break;
    }
    return finishFrom(exchange, 0);
  };
  const finishFailed = (exchange: Exchange, index: number, error: unknown): void => {
    finishingResults[index]!.failed(recordFailure(exchange, finishing[index]!.name, error, logger, sampler));
    exchange.response = undefined;
  };
  /** The finishing steps from `from` on: each runs, whatever the ones before it did. */
  const finishFrom = (exchange: Exchange, from: number): void | Promise<void> => {
    for (let index = from; index < finishing.length; index++) {
      let pending: void | Promise<void>;
      try {
        pending = finishing[index]!.run(exchange);
      } catch (error) {
        finishFailed(exchange, index, error);
        continue;
      }
      if (pending !== undefined) {
        return pending.then(
          () => {
            finishingResults[index]!.passed();
            return finishFrom(exchange, index + 1);
          },
          (error: unknown) => {
            finishFailed(exchange, index, error);
            return finishFrom(exchange, index + 1);
          },
        );
      }
      finishingResults[index]!.passed();
    }
    // Only unset when the send step itself failed: the wire still gets an OCSP error.
    exchange.reply ??= errorReply("internalError");
  };
  return {
    steps: [...deciding, ...finishing].map((step) => step.name),
    run(exchange) {
      let request;
      try {
        request = decodeWithRules(exchange.received, rules);
      } catch (error) {
        decidingResults[0]!.failed(recordFailure(exchange, "decode", error, logger, sampler));
        return finishFrom(exchange, 0);
      }
      exchange.request = request;
      // The one issuer lookup of each single request: the steps read it from the exchange.
      exchange.servedIssuers = servedIssuersOf(request, issuers);
      decidingResults[0]!.passed();
      return decideFrom(exchange, 0);
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
  const fields = { serial: serialText(first.certId.serialNumber), issuerKeyHash: first.certId.issuerKeyHash.toString("hex") };
  return requests!.length > 1 ? { ...fields, requests: requests!.length } : fields;
}

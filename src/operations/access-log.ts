/**
 * The access log (`log.access`, off by default): one JSON line per OCSP request, for every request
 * or a share of them, on stdout or appended to a file:
 *
 * ```json
 * {"time":"2026-12-07T10:00:00.000Z","responder":"main","client":"192.0.2.7","requestor":null,"method":"POST",
 *  "serials":["05"],"statuses":["good"],"outcome":"successful","source":"local","code":200,"durationMs":0.41}
 * ```
 *
 * It wraps a responder's RequestObserver, so a responder without it pays nothing per request; with
 * it, a request that is not sampled costs one addition. Sampling is deterministic: with `sample`
 * 0.25 exactly every fourth request of a process is logged.
 */
import { mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { pino } from "pino";
import { ConfigError } from "../errors.ts";
import type { Exchange } from "../pipeline/exchange.ts";
import { serialText } from "../status/serial-key.ts";
import type { Logger } from "../observability/logger.ts";
import type { RequestObserver } from "./request-metrics.ts";

export interface AccessLogOptions {
  readonly output: "stdout" | "file";
  /** With output file. */
  readonly file?: string | undefined;
  /** 0 < sample ≤ 1. */
  readonly sample: number;
  /** Where write errors of the access log itself are reported. */
  readonly logger: Logger;
}

/** One access log destination, shared by the responders of a configuration. */
export interface AccessLog {
  /** `observer` with every sampled exchange of `responder` also written as a line. */
  observe(observer: RequestObserver, responder: string): RequestObserver;
  /** Writes what is buffered and releases the file (stdout stays open). */
  close(): Promise<void>;
}

/** The JSON of one line; fields always present, absent values null, in this order. */
interface AccessLine {
  time: string;
  responder: string;
  client: string;
  requestor: string | null;
  method: string;
  serials: string[];
  statuses: string[];
  outcome: string;
  source: string | null;
  code: number;
  durationMs: number;
}

/**
 * Opens the destination: stdout, or the file (and its folder), created when missing and appended to.
 * Throws ConfigError naming `log.access.file` when the file cannot be opened.
 */
export function accessLog(options: AccessLogOptions): AccessLog {
  let fd = 1;
  if (options.output === "file") {
    const file = options.file!;
    try {
      mkdirSync(dirname(file), { recursive: true });
      fd = openSync(file, "a", 0o640);
    } catch (error) {
      throw new ConfigError("log.access.file", `cannot open ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
    }
  }
  // Asynchronous writes in batches, whole lines each: several processes may append to one file.
  const destination = pino.destination({ fd, sync: false });
  destination.on("error", (error: unknown) => options.logger.error({ err: error, file: options.file ?? "stdout" }, "access log write failed"));
  const { sample } = options;
  let credit = 0;
  return {
    observe(observer, responder) {
      return {
        exchange(exchange, statusCode, seconds) {
          observer.exchange(exchange, statusCode, seconds);
          credit += sample;
          if (credit < 1) return;
          credit -= 1;
          destination.write(`${JSON.stringify(accessLine(exchange, statusCode, seconds, responder))}\n`);
        },
        refused: (method, code) => observer.refused(method, code),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        destination.once("close", () => resolve());
        destination.end();
      }),
  };
}

function accessLine(exchange: Exchange, statusCode: number, seconds: number, responder: string): AccessLine {
  const requests = exchange.request?.requests ?? [];
  const answers = exchange.error === undefined ? exchange.answers : undefined;
  return {
    time: new Date(exchange.startedAt).toISOString(),
    responder,
    client: exchange.clientAddress,
    // As billed (SPEC step 9): the request signer's subject, else the TLS client's.
    requestor: exchange.authenticated.find((certificate) => certificate.via === "signature")?.subject ?? exchange.tlsClient?.subject ?? null,
    method: exchange.method,
    serials: requests.map((single) => serialText(single.certId.serialNumber)),
    statuses: answers?.map((answer) => answer.status.kind) ?? [],
    outcome: exchange.error?.status ?? (exchange.response === undefined ? "internalError" : "successful"),
    source: exchange.error === undefined ? (exchange.source ?? null) : null,
    code: statusCode,
    durationMs: Math.round(seconds * 1e6) / 1000,
  };
}

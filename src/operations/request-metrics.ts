/**
 * What the HTTP layer reports about each OCSP request of one responder:
 * `vouch_requests_total{responder,type,method,outcome,status,code}`, the latency histogram and the
 * certificate statuses answered. Label sets are bound when the responder is built, or on first use
 * for the rarer combinations, and kept.
 */
import type { Exchange } from "../pipeline/exchange.ts";
import type { BoundCounter, VouchMetrics } from "../observability/metrics.ts";

/** Bound to one responder; called by http/ocsp-handler.ts. */
export interface RequestObserver {
  /** An exchange has its reply, of HTTP status `statusCode`; `seconds` from the complete request to the reply. */
  exchange(exchange: Exchange, statusCode: number, seconds: number): void;
  /** A request refused at the HTTP level, before any OCSP exchange (405 method, 413 too large). */
  refused(method: string | undefined, code: number): void;
}

/**
 * `outcome` is where a successful answer came from (`local`, `cache`, `forward`), `error` for an
 * OCSP error response, `rejected` for an HTTP-level refusal; `status` is the OCSPResponseStatus
 * (`successful`, `malformedRequest`, …, or `none` when no OCSP response was sent); `code` the HTTP
 * status (200, 304, 405, 413). `method` is GET, POST or other.
 */
export function requestObserver(metrics: VouchMetrics, responder: string, type: string): RequestObserver {
  const children = new Map<string, BoundCounter>();
  const bound = (method: string, outcome: string, status: string, code: number): BoundCounter => {
    const key = `${method} ${outcome} ${status} ${code}`;
    let child = children.get(key);
    if (child === undefined) {
      child = metrics.requests.child({ responder, type, method, outcome, status, code: String(code) });
      children.set(key, child);
    }
    return child;
  };
  // Traffic repeats one combination over and over: the last one is kept to skip building its key.
  let last = { method: "", outcome: "", status: "", code: 0, child: undefined as BoundCounter | undefined };
  const count = (method: string, outcome: string, status: string, code: number): void => {
    if (last.child !== undefined && last.code === code && last.method === method && last.outcome === outcome && last.status === status) {
      last.child.inc();
      return;
    }
    const child = bound(method, outcome, status, code);
    last = { method, outcome, status, code, child };
    child.inc();
  };
  // The common case, bound now so that it is exported at 0 from the start.
  for (const method of ["GET", "POST"]) bound(method, "local", "successful", 200);
  const duration = metrics.requestDuration.labels({ responder });
  const answers = {
    good: metrics.answers.child({ responder, status: "good" }),
    revoked: metrics.answers.child({ responder, status: "revoked" }),
    unknown: metrics.answers.child({ responder, status: "unknown" }),
  };
  return {
    exchange(exchange, statusCode, seconds) {
      duration.observe(seconds);
      if (exchange.error !== undefined || exchange.response === undefined) {
        count(exchange.method, "error", exchange.error?.status ?? "internalError", statusCode);
        return;
      }
      count(exchange.method, exchange.source ?? "local", "successful", statusCode);
      if (exchange.source === "local" && exchange.answers !== undefined) {
        for (const answer of exchange.answers) answers[answer.status.kind].inc();
      }
    },
    refused(method, code) {
      count(method === "GET" || method === "POST" ? method : "other", "rejected", "none", code);
    },
  };
}

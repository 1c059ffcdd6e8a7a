import type { Awaitable } from "../awaitable.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/logger.ts";
import type { RequestObserver } from "../operations/request-metrics.ts";
import { createExchange, type AuthenticatedCertificate, type Exchange } from "../pipeline/exchange.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { errorReply } from "../pipeline/steps/10-send.ts";
import type { Prepared } from "./connection.ts";
import { decodeGetPath } from "./get-path.ts";
import type { RequestHead } from "./request-head.ts";
import { httpReply } from "./ocsp-reply.ts";
import type { Reply } from "./reply.ts";
import { textReply } from "./write-reply.ts";

/** What the HTTP layer needs of one logical responder. */
export interface OcspEndpoint {
  readonly name: string;
  /** URL path prefix, normalised without a trailing slash ("" for the root). */
  readonly prefix: string;
  readonly pipeline: Pipeline;
  readonly maxRequestBytes: number;
  /** Counts requests and their latency (operations/request-metrics.ts), when metrics are on. */
  readonly observer?: RequestObserver | undefined;
}

const NEVER_ABORTED = new AbortController().signal;

/** Where a request came from, and what the listener holds for it until the reply is written. */
export interface RequestContext {
  /** Called at most once, when something reads the exchange's clientAddress (see ExchangeInit). */
  readonly clientAddress: () => string;
  readonly tlsClient: AuthenticatedCertificate | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Ends the listener's hold on the endpoint's generation (called once, by the connection). */
  readonly release: () => void;
}

const METHOD_NOT_ALLOWED = textReply(405, "method not allowed\n", { allow: "GET, POST" });
const TOO_LARGE = textReply(413, "request too large\n");

/**
 * Serves OCSP over HTTP for one endpoint (RFC 6960 Appendix A): POST with the DER body, or GET with
 * the base64 request in the path. HTTP-level refusals (method, size) get HTTP statuses; everything
 * about the OCSP request itself is answered by the pipeline with an OCSP response.
 */
export function prepareOcsp(endpoint: OcspEndpoint, head: RequestHead, pathname: string, context: RequestContext): Prepared {
  const method = head.method;
  if (method === "GET") {
    const decoded = decodeGetPath(pathname.slice(endpoint.prefix.length));
    const job = new OcspJob(endpoint, "GET", head, context, decoded ?? EMPTY);
    if (decoded !== undefined && decoded.length > endpoint.maxRequestBytes) return { reply: job.tooLarge(), close: true, release: context.release };
    // Undecodable base64 is still an OCSP exchange: the pipeline answers malformedRequest.
    return job;
  }
  if (method !== "POST") {
    endpoint.observer?.refused(method, 405);
    return { reply: METHOD_NOT_ALLOWED, release: context.release };
  }
  return new OcspJob(endpoint, "POST", head, context, undefined);
}

const EMPTY = Buffer.alloc(0);

/** One routed OCSP request, as the connection reads its body and asks for its reply (no closure per request). */
class OcspJob {
  readonly #endpoint: OcspEndpoint;
  readonly #method: "GET" | "POST";
  readonly #head: RequestHead;
  readonly #context: RequestContext;
  /** A GET's request, from its path; undefined for a POST, whose request is its body. */
  readonly #fromPath: Buffer | undefined;

  constructor(endpoint: OcspEndpoint, method: "GET" | "POST", head: RequestHead, context: RequestContext, fromPath: Buffer | undefined) {
    this.#endpoint = endpoint;
    this.#method = method;
    this.#head = head;
    this.#context = context;
    this.#fromPath = fromPath;
  }

  get limit(): number {
    return this.#endpoint.maxRequestBytes;
  }

  run(body: Buffer): Awaitable<Reply> {
    return runExchange(this.#endpoint, this.#method, this.#fromPath ?? body, this.#head, this.#context);
  }

  tooLarge(): Reply {
    this.#endpoint.observer?.refused(this.#method, 413);
    return TOO_LARGE;
  }

  release(): void {
    this.#context.release();
  }
}

/** The pipeline's reply to one OCSP request: synchronous when the pipeline finished at once. */
function runExchange(endpoint: OcspEndpoint, method: "GET" | "POST", received: Buffer, head: RequestHead, context: RequestContext): Awaitable<Reply> {
  const started = endpoint.observer === undefined ? 0 : performance.now();
  const exchange = createExchange({
    received,
    method,
    clientAddress: context.clientAddress,
    ifNoneMatch: head.ifNoneMatch,
    signal: NEVER_ABORTED,
    startedAt: context.clock.now(),
    tlsClient: context.tlsClient,
  });
  let pending: void | Promise<void>;
  try {
    pending = endpoint.pipeline.run(exchange);
  } catch (error) {
    return failed(endpoint, exchange, context, started, error);
  }
  if (pending === undefined) return finished(endpoint, exchange, started);
  // Learnt while the connection is surely open: a client that leaves before its reply still has one in the logs.
  void exchange.clientAddress;
  return pending.then(
    () => finished(endpoint, exchange, started),
    (error: unknown) => failed(endpoint, exchange, context, started, error),
  );
}

function finished(endpoint: OcspEndpoint, exchange: Exchange, started: number): Reply {
  const reply = httpReply(exchange.reply!);
  endpoint.observer?.exchange(exchange, reply.statusCode, (performance.now() - started) / 1000);
  return reply;
}

/** The pipeline never throws or rejects; this guards the process against a bug there. */
function failed(endpoint: OcspEndpoint, exchange: Exchange, context: RequestContext, started: number, error: unknown): Reply {
  context.logger.error({ responder: endpoint.name, err: error }, "pipeline failed");
  exchange.error = { status: "internalError", cause: error };
  exchange.reply = errorReply("internalError");
  return finished(endpoint, exchange, started);
}

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/logger.ts";
import type { RequestObserver } from "../observability/request-metrics.ts";
import { createExchange, type AuthenticatedCertificate, type Reply } from "../pipeline/exchange.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { errorReply } from "../pipeline/steps/10-send.ts";
import { decodeGetPath } from "./get-path.ts";

/** What the HTTP layer needs of one logical responder. */
export interface OcspEndpoint {
  readonly name: string;
  /** URL path prefix, normalised without a trailing slash ("" for the root). */
  readonly prefix: string;
  readonly pipeline: Pipeline;
  readonly maxRequestBytes: number;
  /** Counts requests and their latency (observability/request-metrics.ts), when metrics are on. */
  readonly observer?: RequestObserver | undefined;
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * Serves OCSP over HTTP for one endpoint (RFC 6960 Appendix A): POST with the DER body, or GET with
 * the base64 request in the path. HTTP-level refusals (method, size) get HTTP statuses; everything
 * about the OCSP request itself is answered by the pipeline with an OCSP response.
 */
export function handleOcsp(
  endpoint: OcspEndpoint,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
  tlsClient: AuthenticatedCertificate | undefined,
  clock: Clock,
  logger: Logger,
): void {
  const method = request.method;
  if (method === "GET") {
    const decoded = decodeGetPath(pathname.slice(endpoint.prefix.length));
    if (decoded !== undefined && decoded.length > endpoint.maxRequestBytes) {
      endpoint.observer?.refused(method, 413);
      writeTooLarge(response);
      return;
    }
    // Undecodable base64 is still an OCSP exchange: the pipeline answers malformedRequest.
    void runExchange(endpoint, request, response, "GET", decoded ?? Buffer.alloc(0), tlsClient, clock, logger);
    return;
  }
  if (method !== "POST") {
    endpoint.observer?.refused(method, 405);
    response.writeHead(405, { allow: "GET, POST", "content-type": "text/plain", "content-length": "19" }).end("method not allowed\n");
    return;
  }
  const declared = request.headers["content-length"];
  if (declared !== undefined && Number(declared) > endpoint.maxRequestBytes) {
    endpoint.observer?.refused(method, 413);
    writeTooLarge(response);
    request.resume();
    return;
  }
  const chunks: Buffer[] = [];
  let length = 0;
  let refused = false;
  request.on("data", (chunk: Buffer) => {
    if (refused) return;
    length += chunk.length;
    if (length > endpoint.maxRequestBytes) {
      refused = true;
      endpoint.observer?.refused(method, 413);
      writeTooLarge(response);
      return;
    }
    chunks.push(chunk);
  });
  request.on("end", () => {
    if (refused) return;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
    void runExchange(endpoint, request, response, "POST", body, tlsClient, clock, logger);
  });
  request.on("error", () => {
    // The client went away mid-body; there is nobody to answer.
    refused = true;
  });
}

async function runExchange(
  endpoint: OcspEndpoint,
  request: IncomingMessage,
  response: ServerResponse,
  method: "GET" | "POST",
  received: Buffer,
  tlsClient: AuthenticatedCertificate | undefined,
  clock: Clock,
  logger: Logger,
): Promise<void> {
  const started = endpoint.observer === undefined ? 0 : performance.now();
  const exchange = createExchange({
    received,
    method,
    clientAddress: request.socket.remoteAddress ?? "",
    ifNoneMatch: request.headers["if-none-match"],
    signal: NEVER_ABORTED,
    startedAt: clock.now(),
    tlsClient,
  });
  let reply: Reply;
  try {
    await endpoint.pipeline.run(exchange);
    reply = exchange.reply!;
  } catch (error) {
    // The pipeline never rejects; this guards the process against a bug there.
    logger.error({ responder: endpoint.name, err: error }, "pipeline failed");
    exchange.error = { status: "internalError", cause: error };
    reply = errorReply("internalError");
  }
  endpoint.observer?.exchange(exchange, reply, (performance.now() - started) / 1000);
  if (response.destroyed) return;
  response.writeHead(reply.statusCode, { ...reply.headers, "content-length": String(reply.body.length) });
  response.end(reply.body);
}

function writeTooLarge(response: ServerResponse): void {
  if (response.headersSent) return;
  response.shouldKeepAlive = false;
  response.writeHead(413, { "content-type": "text/plain", "content-length": "18", connection: "close" }).end("request too large\n");
}

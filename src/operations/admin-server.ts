/**
 * The admin listener (`admin.listen`): GET /metrics (Prometheus text format), /readyz and /healthz
 * for the operator's monitoring. What it serves comes from injected functions, so that one process
 * serves its own registry and readiness, and a supervisor serves its workers' combined (see
 * aggregate.ts and readiness.ts `combineReadyReports`).
 */
import { timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { prometheusContentType } from "../observability/prom-client.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { ReadyReport } from "./readiness.ts";

export interface AdminServerOptions {
  readonly listen: { readonly host: string; readonly port: number };
  /** The metrics in the Prometheus text exposition format. */
  readonly metrics: () => Promise<string>;
  /** The readiness verdict. */
  readonly ready: () => Promise<ReadyReport>;
  readonly logger: Logger;
  /**
   * `POST /cache/purge` (`vouch cache purge`, docs/revocation-propagation.md), served only with a
   * token: `run` gets the JSON body and resolves with the JSON answer; it throws TypeError for a
   * malformed request (400).
   */
  readonly purge?: { readonly token: string; run(request: AdminPurgeRequest): Promise<unknown> } | undefined;
}

/** The fields of a purge request body (responses/cache-purge.ts `PurgeRequest` says what they mean). */
export interface AdminPurgeRequest {
  readonly responder?: string | undefined;
  readonly issuer?: string | undefined;
  readonly serial?: string | undefined;
}

/** The largest purge request body read (an issuer certificate in base64 and a serial). */
const MAX_PURGE_BODY = 64 * 1024;

/**
 * The token in `file` (its first line, trimmed). Throws ConfigError("admin.tokenFile") when it cannot
 * be read or is shorter than 16 characters (a guessable token would open the cache to anyone who reaches the listener).
 */
export async function readAdminToken(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError("admin.tokenFile", `${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const token = (text.split("\n")[0] ?? "").trim();
  if (token.length < 16) throw new ConfigError("admin.tokenFile", `${file}: the token must be at least 16 characters`);
  return token;
}

/** A running admin listener. */
export interface AdminServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting and closes idle connections; resolves when the server has closed. */
  close(): Promise<void>;
}

/**
 * Starts the admin listener. Answers:
 * - `GET /metrics`: 200 with the text exposition;
 * - `GET /readyz`: 200 `ready` when every issuer is ready and every component works; 200 with JSON
 *   `{"ready":true,"degraded":[{"responder","component","problems":[…]}]}` when ready but a
 *   component is degraded (Redis down); else 503 with JSON `{"ready":false,"failing":[…]}`, each
 *   entry `{"responder","issuer","problems"}` or `{"responder","component","problems"}` (a billing
 *   sink that cannot write), and `degraded` as above when there are any. Issuer warnings (a signer
 *   expiring with no successor, a rejected signer file, a failing renewal) never change the status:
 *   when there are some the answer is JSON with `"warnings":[{"responder","issuer","warnings":[…]}]`;
 * - `GET /healthz`: 200 `ok` (the process answers);
 * - `POST /cache/purge` with `Authorization: Bearer <token>` and a JSON PurgeRequest, only when
 *   `purge` is given: 200 with its JSON answer, 401 without the right token, 400 for a malformed request;
 * - anything else: 404, or 405 for methods other than GET and HEAD.
 * A metrics or readiness function that throws gives 500 (and an error log), never a crash.
 * Logs "admin listening" with `host` and `port` once bound. Rejects with ConfigError("admin.listen")
 * when the address cannot be bound.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { logger } = options;
  // node:http only when there is an admin listener (the responders' HTTP server is Vouch's own).
  const server = process.getBuiltinModule("node:http").createServer((request, response) => {
    void route(request, response, options).catch((error: unknown) => {
      logger.error({ path: request.url, err: error }, "admin request failed");
      if (!response.headersSent) write(response, 500, "text/plain; charset=utf-8", "internal error\n");
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: options.listen.host, port: options.listen.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    const { host, port } = options.listen;
    throw new ConfigError("admin.listen", `cannot listen on ${host}:${port} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  server.on("error", (error) => logger.error({ err: error }, "admin listener error"));
  const address = server.address() as AddressInfo;
  logger.info({ host: address.address, port: address.port }, "admin listening");
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function route(request: IncomingMessage, response: ServerResponse, options: AdminServerOptions): Promise<void> {
  const url = request.url ?? "/";
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  if (path === "/cache/purge" && options.purge !== undefined) {
    await purge(request, response, options.purge);
    return;
  }
  if (path !== "/metrics" && path !== "/readyz" && path !== "/healthz") {
    write(response, 404, "text/plain; charset=utf-8", "not found\n");
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    write(response, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  if (path === "/healthz") {
    write(response, 200, "text/plain; charset=utf-8", "ok\n");
    return;
  }
  if (path === "/metrics") {
    write(response, 200, prometheusContentType, await options.metrics());
    return;
  }
  const report = await options.ready();
  const components = report.components ?? [];
  const degraded = components.filter((health) => health.state === "degraded").map(({ responder, component, problems }) => ({ responder, component, problems }));
  const warnings = report.issuers.filter((issuer) => issuer.warnings !== undefined).map(({ responder, issuer, warnings: some }) => ({ responder, issuer, warnings: some }));
  const notes = { ...(degraded.length === 0 ? {} : { degraded }), ...(warnings.length === 0 ? {} : { warnings }) };
  if (report.ready) {
    if (degraded.length + warnings.length === 0) write(response, 200, "text/plain; charset=utf-8", "ready\n");
    else write(response, 200, "application/json", `${JSON.stringify({ ready: true, ...notes })}\n`);
    return;
  }
  const failing = [
    ...report.issuers.filter((issuer) => !issuer.ready).map(({ responder, issuer, problems }) => ({ responder, issuer, problems })),
    ...components.filter((health) => health.state === "failing").map(({ responder, component, problems }) => ({ responder, component, problems })),
  ];
  write(response, 503, "application/json", `${JSON.stringify({ ready: false, failing, ...notes })}\n`);
}

async function purge(request: IncomingMessage, response: ServerResponse, purging: NonNullable<AdminServerOptions["purge"]>): Promise<void> {
  if (request.method !== "POST") {
    response.setHeader("allow", "POST");
    write(response, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  const presented = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "");
  const expected = Buffer.from(purging.token);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    response.setHeader("www-authenticate", "Bearer");
    write(response, 401, "text/plain; charset=utf-8", "unauthorized\n");
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PURGE_BODY) {
      write(response, 413, "text/plain; charset=utf-8", "request too large\n");
      return;
    }
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    write(response, 400, "text/plain; charset=utf-8", "not JSON\n");
    return;
  }
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const text = (name: string): string | undefined => (typeof fields[name] === "string" ? (fields[name] as string) : undefined);
  try {
    const answer = await purging.run({ responder: text("responder"), issuer: text("issuer"), serial: text("serial") });
    write(response, 200, "application/json", `${JSON.stringify(answer)}\n`);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    write(response, 400, "text/plain; charset=utf-8", `${error.message}\n`);
  }
}

function write(response: ServerResponse, status: number, contentType: string, body: string): void {
  const bytes = Buffer.from(body);
  response.writeHead(status, { "content-type": contentType, "content-length": String(bytes.length), "cache-control": "no-store" });
  response.end(response.req.method === "HEAD" ? undefined : bytes);
}

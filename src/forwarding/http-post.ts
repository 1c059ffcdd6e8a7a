import type { IncomingMessage } from "node:http";

/** Why one POST to a remote responder produced no body. */
export type PostFailure = "timeout" | "connection" | "http-status" | "too-large" | "aborted";

/** The outcome of one POST: the body as received, or why there is none. */
export type PostResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly failure: PostFailure; readonly detail: string };

/** Keep-alive connections to remote responders, shared by every POST of one responder. */
export interface HttpPoster {
  /**
   * POSTs `body` as `application/ocsp-request` to `url` and resolves with the response body exactly
   * as received, when the remote answered HTTP 200 within `timeoutMs` and within `maxResponseBytes`.
   * Never rejects: every failure is a PostResult, so that the caller can decide what comes next.
   */
  post(url: URL, body: Buffer, options: { readonly timeoutMs: number; readonly maxResponseBytes: number; readonly signal: AbortSignal }): Promise<PostResult>;
  /** Closes idle connections. */
  close(): void;
}

/**
 * A poster over node:http and node:https with keep-alive agents (no connection set-up per
 * request once a remote has been reached). TLS to an https remote is verified against Node's
 * default CA store. The deadline covers connect, send and the whole response body.
 */
export function httpPoster(options: { readonly maxSockets?: number } = {}): HttpPoster {
  // Idle connections are closed after 30 s, so that a reload that drops this poster leaves nothing behind for long.
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, scheduling: "lifo" as const, timeout: 30_000 };
  // node:http and node:https are loaded by the first poster, not by every process that could forward.
  const { Agent: HttpAgent, request: httpRequest } = process.getBuiltinModule("node:http");
  const { Agent: HttpsAgent, request: httpsRequest } = process.getBuiltinModule("node:https");
  const http = new HttpAgent(agentOptions);
  const https = new HttpsAgent(agentOptions);
  return {
    post(url, body, { timeoutMs, maxResponseBytes, signal }) {
      return new Promise<PostResult>((resolve) => {
        let settled = false;
        const finish = (result: PostResult): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          resolve(result);
        };
        const fail = (failure: PostFailure, detail: string): void => {
          finish({ ok: false, failure, detail });
          request.destroy();
        };
        const onAbort = (): void => fail("aborted", "the exchange was aborted");
        const secure = url.protocol === "https:";
        const request = (secure ? httpsRequest : httpRequest)(url, {
          method: "POST",
          agent: secure ? https : http,
          headers: { "content-type": "application/ocsp-request", accept: "application/ocsp-response", "content-length": String(body.length) },
        });
        // Listening first: destroying the request (deadline, abort, size) may emit an error of its own.
        request.on("error", (error: NodeJS.ErrnoException) => fail("connection", error.code ?? error.message));
        const timer = setTimeout(() => fail("timeout", `no complete answer within ${timeoutMs} ms`), timeoutMs);
        if (signal.aborted) {
          onAbort();
          return;
        }
        signal.addEventListener("abort", onAbort, { once: true });
        request.on("response", (response: IncomingMessage) => {
          if (response.statusCode !== 200) {
            response.resume();
            fail("http-status", `HTTP ${response.statusCode ?? "?"}`);
            return;
          }
          const declared = Number(response.headers["content-length"] ?? 0);
          if (declared > maxResponseBytes) {
            fail("too-large", `the response declares ${declared} octets (limit ${maxResponseBytes})`);
            return;
          }
          const chunks: Buffer[] = [];
          let length = 0;
          response.on("data", (chunk: Buffer) => {
            length += chunk.length;
            if (length > maxResponseBytes) fail("too-large", `the response exceeds ${maxResponseBytes} octets`);
            else chunks.push(chunk);
          });
          response.on("error", (error: NodeJS.ErrnoException) => fail("connection", error.code ?? error.message));
          response.on("end", () => finish({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length) }));
        });
        request.end(body);
      });
    },
    close() {
      http.destroy();
      https.destroy();
    },
  };
}

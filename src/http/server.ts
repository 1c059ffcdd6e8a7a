import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/logger.ts";
import type { AuthenticatedCertificate } from "../pipeline/exchange.ts";
import type { InFlight } from "./in-flight.ts";
import { handleOcsp, type OcspEndpoint } from "./ocsp-handler.ts";
import { REFUSED, authenticateTlsClient, type ClientAuthOptions } from "./tls-client-auth.ts";

/** HTTPS settings of a listener. */
export interface ListenerTls {
  /** PEM server certificate (and chain) and key. */
  readonly certificate: Buffer;
  readonly key: Buffer;
  /** Client authentication (SPEC step 1); undefined when off. */
  readonly clientAuth: ClientAuthOptions | undefined;
}

/** A responder as a listener routes to it; `inFlight`, when set, counts the requests it serves until their responses close. */
export type RoutedEndpoint = OcspEndpoint & { readonly inFlight?: InFlight };

/** What a running listener serves; a reload swaps it (Listener.update). */
export interface ListenerSettings {
  /** The responders on this address; the longest matching path prefix wins. */
  readonly endpoints: readonly RoutedEndpoint[];
  readonly timeouts: { readonly headersMs: number; readonly requestMs: number; readonly keepAliveMs: number };
  /** Serve HTTPS instead of HTTP. */
  readonly tls?: ListenerTls | undefined;
}

export interface ListenerOptions extends ListenerSettings {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Share the port with other threads or processes (SO_REUSEPORT; the kernel spreads connections). */
  readonly reusePort?: boolean;
}

/** A listening HTTP server. */
export interface Listener {
  readonly host: string;
  readonly port: number;
  /**
   * "http", "https" or "https+client-auth": what `update` cannot change (the socket's protocol and
   * whether the TLS handshake asks for a client certificate); a reload replaces the listener instead.
   */
  readonly kind: string;
  /**
   * Serves `settings` from the next request on; requests already routed finish with what they had.
   * A new TLS certificate and key apply to the next handshakes. Throws RangeError when
   * `listenerKind(settings.tls)` differs from `kind`.
   */
  update(settings: ListenerSettings): void;
  /**
   * Stops accepting, lets requests in flight finish (their keep-alive connections are then closed,
   * and later requests on them are answered with `connection: close`), closes idle connections.
   */
  close(): Promise<void>;
}

/** The `kind` of a listener serving with these TLS settings. */
export function listenerKind(tls: ListenerTls | undefined): string {
  return tls === undefined ? "http" : tls.clientAuth === undefined ? "https" : "https+client-auth";
}

function sortedEndpoints(endpoints: readonly RoutedEndpoint[]): readonly RoutedEndpoint[] {
  return [...endpoints].sort((a, b) => b.prefix.length - a.prefix.length);
}

/**
 * Starts one HTTP listener. Slow or silent clients cost a socket and nothing else: header and
 * whole-request deadlines are enforced by node:http (checked every second), idle sockets are closed,
 * and a client that connects and leaves without a request is simply forgotten.
 * Rejects when the address cannot be bound.
 */
export async function startListener(options: ListenerOptions): Promise<Listener> {
  const { clock, logger, timeouts } = options;
  const kind = listenerKind(options.tls);
  // Swapped whole by update(): a request reads it once, in route().
  let endpoints = sortedEndpoints(options.endpoints);
  let clientAuth = options.tls?.clientAuth;
  let closing = false;
  const httpOptions = {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // node:http checks the two deadlines above on this interval (default 30 s: far too lax).
    connectionsCheckingInterval: 1000,
    maxHeaderSize: 16 * 1024,
  };
  const route = (request: IncomingMessage, response: ServerResponse, client: AuthenticatedCertificate | undefined) => {
    const url = request.url ?? "/";
    const query = url.indexOf("?");
    const pathname = query === -1 ? url : url.slice(0, query);
    if (pathname === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain", "content-length": "3", "cache-control": "no-store" }).end("ok\n");
      return;
    }
    const endpoint = endpoints.find((candidate) => pathname === candidate.prefix || pathname.startsWith(`${candidate.prefix}/`));
    if (endpoint === undefined) {
      response.writeHead(404, { "content-type": "text/plain", "content-length": "10" }).end("not found\n");
      return;
    }
    if (closing) response.shouldKeepAlive = false;
    // Held from routing (the body may still be arriving) until the response is done or abandoned.
    if (endpoint.inFlight !== undefined) response.once("close", endpoint.inFlight.hold());
    handleOcsp(endpoint, request, response, pathname, client, clock, logger);
  };
  // SPEC step 1 runs at the handshake; each request waits for its connection's verdict.
  const verdicts = new WeakMap<Socket, Promise<AuthenticatedCertificate | undefined | typeof REFUSED>>();
  const server: Server =
    options.tls === undefined
      ? createServer(httpOptions, (request, response) => route(request, response, undefined))
      : createHttpsServer(
          { ...httpOptions, cert: options.tls.certificate, key: options.tls.key, requestCert: kind === "https+client-auth", rejectUnauthorized: false },
          (request, response) => {
            const verdict = verdicts.get(request.socket);
            if (verdict === undefined) {
              route(request, response, undefined);
              return;
            }
            void verdict.then((client) => {
              if (client !== REFUSED && !request.socket.destroyed) route(request, response, client);
            });
          },
        );
  if (kind === "https+client-auth") {
    server.on("secureConnection", (socket: TLSSocket) => {
      verdicts.set(socket, authenticateTlsClient(socket, clientAuth!));
    });
  }
  // A socket idle this long with no request in progress is closed (covers connect-and-wait clients).
  server.timeout = timeouts.requestMs;
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    logger.debug({ err: error.code ?? error.message }, "client error");
    if (socket.writable && error.code !== "ECONNRESET") {
      const status = error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: options.port, reusePort: options.reusePort === true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => logger.error({ err: error }, "listener error"));
  const address = server.address() as AddressInfo;
  const applyTimeouts = (next: ListenerSettings["timeouts"]) => {
    server.headersTimeout = next.headersMs;
    server.requestTimeout = next.requestMs;
    server.keepAliveTimeout = next.keepAliveMs;
    server.timeout = next.requestMs;
  };
  return {
    host: address.address,
    port: address.port,
    kind,
    update(settings) {
      const next = listenerKind(settings.tls);
      if (next !== kind) throw new RangeError(`a ${kind} listener cannot become ${next}`);
      endpoints = sortedEndpoints(settings.endpoints);
      applyTimeouts(settings.timeouts);
      if (settings.tls !== undefined) {
        (server as ReturnType<typeof createHttpsServer>).setSecureContext({ cert: settings.tls.certificate, key: settings.tls.key });
        clientAuth = settings.tls.clientAuth;
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        // node:http closes idle connections once, at close(); a keep-alive connection whose request
        // finishes later would stay open until its idle timeout, holding the process. Sweep them.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

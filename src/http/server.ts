import { createServer, type AddressInfo, type Socket } from "node:net";
import type { SecureContext, TLSSocket } from "node:tls";
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/logger.ts";
import type { AuthenticatedCertificate } from "../pipeline/exchange.ts";
import type { InFlight } from "./in-flight.ts";
import { Connection, type ConnectionHost, type Prepared } from "./connection.ts";
import { OpenConnections, type Listed } from "./open-connections.ts";
import { prepareOcsp, type OcspEndpoint } from "./ocsp-handler.ts";
import type { RequestHead } from "./request-head.ts";
import { textReply } from "./write-reply.ts";
import { REFUSED, authenticateTlsClient, logRefusedClient, type ClientAuthOptions } from "./tls-client-auth.ts";
import { TlsHandshake } from "./tls-handshake.ts";

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
  /** Client connections open now (the `vouch_open_connections` gauge). */
  readonly openConnections: number;
  /**
   * Serves `settings` from the next request on; requests already routed finish with what they had.
   * A new TLS certificate and key apply to the next handshakes. Throws RangeError when
   * `listenerKind(settings.tls)` differs from `kind`.
   */
  update(settings: ListenerSettings): void;
  /** What the listener holds now, for observability and tests. */
  stats(): ListenerStats;
  /**
   * Stops accepting, lets requests in flight finish (their keep-alive connections are then closed,
   * and later requests on them are answered with `connection: close`), closes idle connections.
   */
  close(): Promise<void>;
}

/** A listener's open sockets and what they hold. */
export interface ListenerStats {
  /** Connections reading or answering requests. */
  readonly connections: number;
  /** TLS handshakes (client authentication included) not over yet. */
  readonly handshakes: number;
  /** Connections not read until their client takes its replies (connection.ts MAX_UNSENT). */
  readonly blocked: number;
  /** Octets of replies written but not yet taken by the kernel, over all connections. */
  readonly unsentBytes: number;
}

/** The `kind` of a listener serving with these TLS settings. */
export function listenerKind(tls: ListenerTls | undefined): string {
  return tls === undefined ? "http" : tls.clientAuth === undefined ? "https" : "https+client-auth";
}

type SortedEndpoint = RoutedEndpoint & { readonly prefixSlash: string };

function sortedEndpoints(endpoints: readonly RoutedEndpoint[]): readonly SortedEndpoint[] {
  return [...endpoints].sort((a, b) => b.prefix.length - a.prefix.length).map((endpoint) => ({ ...endpoint, prefixSlash: `${endpoint.prefix}/` }));
}

const NO_RELEASE = (): void => {};

/** What the deadline sweep and a closing listener see: connections, and TLS handshakes before them. */
type Tracked = Listed & { expire(now: number): void; closeIfIdle(): void };

/** The secure context of a listener's TLS settings. */
function secureContextOf(tls: ListenerTls): SecureContext {
  // node:tls loads only for a TLS listener: ~3.7 MiB in every process otherwise (issue 18).
  return process.getBuiltinModule("node:tls").createSecureContext({
    cert: tls.certificate,
    key: tls.key,
    // As node:tls's Server: the server's cipher order, and a session ID context, without which OpenSSL
    // refuses to resume a session whose client certificate it was asked to verify.
    honorCipherOrder: true,
    sessionIdContext: "vouch",
  });
}

const HEALTHY = textReply(200, "ok\n", { "cache-control": "no-store" });
const NOT_FOUND = textReply(404, "not found\n");
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * Starts one HTTP listener: Vouch's own HTTP/1.1 server on node:net / node:tls sockets (connection.ts),
 * which answers a cached OCSP response with about half the CPU of node:http (bench/README.md).
 * Slow or silent clients cost a socket and nothing else: TLS handshake (client authentication
 * included; `timeouts.headersMs`), header, whole-request and keep-alive deadlines are checked by one
 * sweep a second, and a client that connects and leaves, during the handshake or without a request,
 * is simply forgotten. Rejects when the address cannot be bound.
 */
export async function startListener(options: ListenerOptions): Promise<Listener> {
  const { clock, logger } = options;
  const kind = listenerKind(options.tls);
  // Swapped whole by update(): a request reads them once, when its head is parsed.
  let endpoints = sortedEndpoints(options.endpoints);
  let clientAuth = options.tls?.clientAuth;
  const connections = new OpenConnections<Tracked>();
  const clients = new WeakMap<Socket, AuthenticatedCertificate>();
  const prepare = (head: RequestHead, socket: Socket): Prepared => {
    const target = head.target;
    const query = target.indexOf("?");
    let pathname = query === -1 ? target : target.slice(0, query);
    // Absolute-form (from a proxy): the path starts after the authority.
    if (!pathname.startsWith("/")) {
      const scheme = pathname.indexOf("://");
      const slash = scheme === -1 ? -1 : pathname.indexOf("/", scheme + 3);
      pathname = slash === -1 ? "/" : pathname.slice(slash);
    }
    if (pathname === "/healthz") return { reply: HEALTHY };
    const endpoint = endpoints.find((candidate) => pathname === candidate.prefix || pathname.startsWith(candidate.prefixSlash));
    if (endpoint === undefined) return { reply: NOT_FOUND };
    // Held from routing (the body may still be arriving) until the reply is written or abandoned.
    const release = endpoint.inFlight?.hold() ?? NO_RELEASE;
    const clientAddress = () => socket.remoteAddress ?? "";
    return prepareOcsp(endpoint, head, pathname, { clientAddress, tlsClient: clients.get(socket), clock, logger, release });
  };
  const host: ConnectionHost & { closing: boolean; timeouts: ListenerSettings["timeouts"] } = {
    maxHeadBytes: MAX_HEAD_BYTES,
    timeouts: options.timeouts,
    closing: false,
    prepare,
    forget: (connection) => connections.delete(connection),
  };
  const attach = (socket: Socket) => {
    const connection = new Connection(socket, host);
    connections.add(connection);
    if (host.closing) connection.closeIfIdle();
  };
  let secureContext = options.tls === undefined ? undefined : secureContextOf(options.tls);
  // SPEC step 1 runs once the handshake is over; the connection reads no request before its verdict.
  const secure = (handshake: TlsHandshake) => {
    const socket = handshake.socket;
    if (kind !== "https+client-auth") {
      handshake.release();
      attach(socket);
      return;
    }
    void authenticateTlsClient(socket, clientAuth!).then((client) => {
      if (socket.destroyed) return;
      if (client === REFUSED) {
        handshake.refuse();
        return;
      }
      if (client !== undefined) clients.set(socket, client);
      handshake.release();
      attach(socket);
    });
  };
  const failed = (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    // OpenSSL ended the handshake of a client without the certificate it had to send (certificate_required).
    if (error.code === "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE") logRefusedClient(logger, socket.remoteAddress, "no client certificate");
    else logger.debug({ err: error.code ?? error.message }, "TLS client error");
  };
  const handshake = (raw: Socket) => {
    const tracked = new TlsHandshake(raw, {
      context: secureContext!,
      clientCertificate: kind === "https+client-auth" ? clientAuth!.mode : undefined,
      deadline: Date.now() + host.timeouts.headersMs,
      secure,
      failed,
      forget: (done) => connections.delete(done),
    });
    connections.add(tracked);
    if (host.closing) tracked.closeIfIdle();
  };
  // node:net for both: TLS sockets are made here (tls-handshake.ts), not by node:tls's Server. Nagle's
  // algorithm is off for TLS from the start (handshake flights); a plain connection turns it off
  // itself once it is kept after a reply (connection.ts): one setsockopt fewer for a connection per request.
  const server = createServer({ allowHalfOpen: true, noDelay: options.tls !== undefined }, options.tls === undefined ? attach : handshake);
  const sweep = setInterval(() => {
    const now = Date.now();
    connections.forEach((connection) => connection.expire(now));
  }, 1000);
  sweep.unref();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: options.port, reusePort: options.reusePort === true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => logger.error({ err: error }, "listener error"));
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    kind,
    get openConnections() {
      return connections.size;
    },
    update(settings) {
      const next = listenerKind(settings.tls);
      if (next !== kind) throw new RangeError(`a ${kind} listener cannot become ${next}`);
      endpoints = sortedEndpoints(settings.endpoints);
      host.timeouts = settings.timeouts;
      if (settings.tls !== undefined) {
        secureContext = secureContextOf(settings.tls);
        clientAuth = settings.tls.clientAuth;
      }
    },
    stats() {
      let count = 0;
      let blocked = 0;
      let unsentBytes = 0;
      connections.forEach((tracked) => {
        if (!(tracked instanceof Connection)) return;
        count++;
        if (tracked.blocked) blocked++;
        unsentBytes += tracked.unsentBytes;
      });
      return { connections: count, handshakes: connections.size - count, blocked, unsentBytes };
    },
    close: () =>
      new Promise<void>((resolve) => {
        host.closing = true;
        // Connections busy now close once their reply is written; idle ones and TLS handshakes now,
        // and any that become idle (a keep-alive connection whose request finishes later) at the next sweep.
        const idleSweep = setInterval(() => {
          connections.forEach((connection) => connection.closeIfIdle());
        }, 50);
        server.close(() => {
          clearInterval(idleSweep);
          clearInterval(sweep);
          resolve();
        });
        connections.forEach((connection) => connection.closeIfIdle());
      }),
  };
}

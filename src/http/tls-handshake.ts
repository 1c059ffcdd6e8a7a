import type { Socket } from "node:net";
import type { SecureContext, TLSSocket } from "node:tls";
import type { Listed } from "./open-connections.ts";

export interface TlsHandshakeOptions {
  readonly context: SecureContext;
  /** Ask for a client certificate; "required" makes OpenSSL end a handshake without one (certificate_required). */
  readonly clientCertificate: "optional" | "required" | undefined;
  /** When the handshake, client authentication included, must be over. */
  readonly deadline: number;
  /** The handshake is done: decide, then `release()` the socket to a connection or `refuse()` it. */
  readonly secure: (handshake: TlsHandshake) => void;
  /** The handshake failed (its socket is destroyed), e.g. a client without a required certificate. */
  readonly failed: (error: NodeJS.ErrnoException, socket: TLSSocket) => void;
  /** Called once the handshake leaves the listener's list: released, or its socket closed. */
  readonly forget: (handshake: TlsHandshake) => void;
}

/**
 * The TLS side of one accepted TCP connection, from accept until a Connection takes the socket over:
 * the handshake, then client authentication. node:tls's own Server is not used because it hides the
 * socket until the handshake is over: a client that sent its FIN mid-handshake (as any client that
 * rejects the server certificate does) was never noticed, its `tlsClientError` at the handshake
 * timeout left the socket open, and a closing listener could not close what it could not see (issue
 * 12: one file descriptor leaked per aborted client, and every stop waited for them). Here the
 * listener holds the socket from accept: a peer that leaves is forgotten at once, one that stalls is
 * closed at the deadline by the listener's sweep, and a closing listener closes it.
 */
export class TlsHandshake implements Listed {
  listIndex = -1;
  readonly socket: TLSSocket;
  readonly #options: TlsHandshakeOptions;
  #released = false;
  readonly #onEnd = (): void => {
    this.socket.destroy();
  };
  readonly #onError = (error: NodeJS.ErrnoException): void => {
    this.socket.destroy();
    if (!this.#secure) this.#options.failed(error, this.socket);
  };
  #secure = false;

  constructor(raw: Socket, options: TlsHandshakeOptions) {
    this.#options = options;
    // node:tls is loaded by the listener's secure context (server.ts) before any handshake.
    const socket = new (process.getBuiltinModule("node:tls").TLSSocket)(raw, {
      isServer: true,
      secureContext: options.context,
      requestCert: options.clientCertificate !== undefined,
      // Not a JS-side check (the socket is not node:tls's Server's): to OpenSSL it means
      // SSL_VERIFY_FAIL_IF_NO_PEER_CERT, so a client without a certificate hears certificate_required.
      // Node's verify callback accepts every chain it is shown; the validation process decides.
      rejectUnauthorized: options.clientCertificate === "required",
    });
    this.socket = socket;
    // Nothing is read before the handshake is over, so a FIN mid-handshake shows as an 'end' at once.
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    // A TLS error after the handshake (a bad record) is only reported as '_tlsError' on a socket
    // that node:tls's Server did not hand over; left alone, the socket would stay open.
    socket.on("_tlsError", () => socket.destroy());
    socket.once("close", () => this.#leave());
    socket.once("secure", () => {
      this.#secure = true;
      options.secure(this);
    });
  }

  /** Closes the socket when the handshake (or the client's authentication) is not over by its deadline. */
  expire(now: number): void {
    if (now >= this.#options.deadline) this.socket.destroy();
  }

  /** A handshake has nothing in progress that closing would lose: the listener is closing. */
  closeIfIdle(): void {
    this.socket.destroy();
  }

  /** The client is admitted: the caller's connection reads the socket from now on. */
  release(): void {
    this.socket.off("end", this.#onEnd);
    this.socket.off("error", this.#onError);
    this.#leave();
  }

  /**
   * The client is refused after the handshake: ends the TLS session with close_notify (after the
   * handshake, the one alert node:tls can send), reads and drops whatever the client still sends so
   * that closing does not reset the connection before the client has read it, and closes at the
   * client's FIN or at the deadline.
   */
  refuse(): void {
    this.socket.end();
    this.socket.resume();
  }

  #leave(): void {
    if (this.#released) return;
    this.#released = true;
    this.#options.forget(this);
  }
}

import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";

/**
 * A TCP relay a test can cut and restore, to break a database connection mid-run without touching
 * the shared database itself.
 */
export interface TcpProxy {
  readonly port: number;
  /** Refuses new connections and cuts the open ones. */
  stop(): Promise<void>;
  /** Accepts again, on the same port, and forwards new connections (after stop, reset or silence). */
  start(): Promise<void>;
  /** Resets (RST) the open connections, and every new one, until `start`: a database that went away. */
  reset(): void;
  /**
   * Stops forwarding bytes without closing anything: the open connections stay silent for good (as
   * when a middlebox lost their state), and new ones are accepted but never connected on, until
   * `start`. Nothing the client sends is answered and nothing tells it so: only its own timeouts can.
   */
  silence(): void;
}

type Mode = "forward" | "reset" | "silent";

/** Relays 127.0.0.1:<some free port> to 127.0.0.1:`targetPort`. */
export async function tcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  /** The connections whose bytes still flow; silence() empties it for good. */
  const live = new Set<Socket>();
  let mode: Mode = "forward";
  let server: Server | undefined;
  let port = 0;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      live.delete(socket);
    });
  };

  const relay = (client: Socket): void => {
    track(client);
    if (mode === "reset") {
      client.resetAndDestroy();
      return;
    }
    if (mode === "silent") {
      // Accepted, read and dropped: the client waits for an answer that never comes.
      client.on("data", () => {});
      client.on("error", () => {});
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    track(upstream);
    live.add(client);
    live.add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", cut);
    upstream.on("error", cut);
    // Byte by byte decisions rather than pipe(): a silenced pair must drop what is already in flight.
    client.on("data", (chunk) => {
      if (live.has(client)) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (live.has(upstream)) client.write(chunk);
    });
    client.on("end", () => live.has(client) && upstream.end());
    upstream.on("end", () => live.has(upstream) && client.end());
  };

  const listen = async () => {
    mode = "forward";
    if (server !== undefined) return;
    const next = createServer(relay);
    await new Promise<void>((resolve, reject) => {
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => resolve());
    });
    const address = next.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no TCP address");
    port = address.port;
    server = next;
  };
  await listen();
  return {
    get port() {
      return port;
    },
    async stop() {
      const closing = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (closing !== undefined) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start: listen,
    reset() {
      mode = "reset";
      for (const socket of sockets) socket.resetAndDestroy();
    },
    silence() {
      mode = "silent";
      live.clear();
    },
  };
}

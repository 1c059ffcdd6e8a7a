import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";

/** A TCP relay a test can cut and restore, to break a database connection mid-run. */
export interface TcpProxy {
  readonly port: number;
  /** Refuses new connections and cuts the open ones. */
  stop(): Promise<void>;
  /** Accepts again, on the same port. */
  start(): Promise<void>;
}

/** Relays 127.0.0.1:<some free port> to 127.0.0.1:`targetPort`. */
export async function tcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    const next = createServer((client) => {
      const upstream = connect(targetPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
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
  };
}

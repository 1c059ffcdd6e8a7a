/**
 * TLS clients that go away during or right after the handshake (issue 12 item 5), for the listener's
 * unit test and the end-to-end descriptor count.
 */
import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";

/** The first bytes of a ClientHello record: a handshake begun and never finished. */
const CLIENT_HELLO_START = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);

/** A Node client that does not know the server's CA: it aborts the handshake (as `vouch query` without the CA does). */
export function rejectingClient(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connectTls({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    socket.on("close", () => resolve());
  });
}

/** A Node client that takes any certificate and destroys its socket as soon as the handshake is over. */
export function destroyingClient(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connectTls({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => socket.destroy());
    socket.on("error", () => {});
    socket.on("close", () => resolve());
  });
}

/** A TCP client that sends the start of a ClientHello and no more; resolves once it is sent. */
export function stalledClient(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, "127.0.0.1", () => socket.write(CLIENT_HELLO_START, () => resolve(socket)));
    socket.on("error", () => {});
  });
}

/** A client that gives up mid-handshake: the start of a ClientHello, then its FIN; resolves once both are sent. */
export async function leavingClient(port: number): Promise<Socket> {
  const socket = await stalledClient(port);
  socket.resume();
  await new Promise<void>((resolve) => socket.end(resolve));
  return socket;
}

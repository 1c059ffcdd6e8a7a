import type { Socket } from "node:net";
import { sharedReply, type Reply } from "./reply.ts";

const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  304: "Not Modified",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  417: "Expectation Failed",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

let dateSecond = -1;
let dateLine = "";

/** The Date header line, formatted once per second (RFC 9110 §6.6.1). */
function currentDateLine(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `date: ${new Date(second * 1000).toUTCString()}\r\n`;
  }
  return dateLine;
}

function encodeHead(reply: Reply, keepAlive: boolean, keepAliveSeconds: number): Buffer {
  let head = `HTTP/1.1 ${reply.statusCode} ${REASONS[reply.statusCode] ?? "Unknown"}\r\n`;
  const headers = reply.headers;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += currentDateLine();
  head += keepAlive ? `connection: keep-alive\r\nkeep-alive: timeout=${keepAliveSeconds}\r\n\r\n` : "connection: close\r\n\r\n";
  return Buffer.from(head, "latin1");
}

/** The head bytes of `reply`: encoded once a second into its shared head when it has one, else each time. */
function headOf(reply: Reply, keepAlive: boolean, keepAliveSeconds: number): Buffer {
  const shared = reply.sharedHead;
  if (shared === undefined) return encodeHead(reply, keepAlive, keepAliveSeconds);
  const second = Math.floor(Date.now() / 1000);
  if (shared.second !== second || shared.keepAliveSeconds !== keepAliveSeconds) {
    shared.second = second;
    shared.keepAliveSeconds = keepAliveSeconds;
    shared.keepAlive = undefined;
    shared.close = undefined;
  }
  if (keepAlive) return (shared.keepAlive ??= encodeHead(reply, true, keepAliveSeconds));
  return (shared.close ??= encodeHead(reply, false, keepAliveSeconds));
}

/**
 * What becomes of the connection after a reply: `keep-alive` keeps it for the next request; `linger`
 * ends our side after the bytes and lets the socket close once the client ends its own (what it sends
 * meanwhile is read and dropped: closing on unread bytes would make the kernel send a reset, which can
 * destroy the reply in the client's buffers before it reads it, RFC 9112 §9.6); `close` closes the
 * socket as soon as the kernel has taken the whole reply, for a connection whose every byte has been
 * read: the kernel still sends the reply and then FIN, and nothing of the connection is left to the
 * process (no shutdown, no wake-up for the client's FIN). A `close` whose reply the kernel did not
 * take at once lingers.
 */
export type AfterReply = "keep-alive" | "linger" | "close";

/**
 * Writes `reply` as one HTTP/1.1 response in a single buffer (one write, one syscall on the hot path).
 * Other than `keep-alive`, it adds `connection: close`; `keepAliveSeconds` tells a keep-alive client
 * how long the connection may stay idle. A reply with a shared head (reply.ts `sharedReply`) has its
 * head encoded once a second and copied from then on.
 */
export function writeReply(socket: Socket, reply: Reply, after: AfterReply, keepAliveSeconds: number): void {
  const keepAlive = after === "keep-alive";
  const head = headOf(reply, keepAlive, keepAliveSeconds);
  const out = Buffer.allocUnsafe(head.length + reply.body.length);
  head.copy(out, 0);
  reply.body.copy(out, head.length);
  if (keepAlive) {
    socket.write(out);
    return;
  }
  if (after === "linger") {
    socket.end(out);
    return;
  }
  socket.write(out);
  // Taken by the kernel in this write (nothing left in the stream's buffer): close(2) sends it, then FIN.
  if (socket.writableLength === 0) socket.destroy();
  else socket.end();
}

/** A short text/plain reply for HTTP-level outcomes (errors, health). */
export function textReply(statusCode: number, text: string, extra: Readonly<Record<string, string>> = {}): Reply {
  const body = Buffer.from(text, "latin1");
  return sharedReply(statusCode, { "content-type": "text/plain", ...extra, "content-length": String(body.length) }, body);
}

import type { Socket } from "node:net";
import type { Reply } from "../pipeline/exchange.ts";

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

/**
 * Writes `reply` as one HTTP/1.1 response in a single buffer (one write, one syscall on the hot path).
 * `keepAlive` false adds `connection: close` and ends the socket after the bytes; `keepAliveSeconds`
 * tells a keep-alive client how long the connection may stay idle.
 */
export function writeReply(socket: Socket, reply: Reply, keepAlive: boolean, keepAliveSeconds: number): void {
  let head = `HTTP/1.1 ${reply.statusCode} ${REASONS[reply.statusCode] ?? "Unknown"}\r\n`;
  const headers = reply.headers;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += currentDateLine();
  head += keepAlive ? `connection: keep-alive\r\nkeep-alive: timeout=${keepAliveSeconds}\r\n\r\n` : "connection: close\r\n\r\n";
  const headLength = head.length;
  const out = Buffer.allocUnsafe(headLength + reply.body.length);
  out.write(head, 0, headLength, "latin1");
  reply.body.copy(out, headLength);
  if (keepAlive) socket.write(out);
  else socket.end(out);
}

/** A short text/plain reply for HTTP-level outcomes (errors, health). */
export function textReply(statusCode: number, text: string, extra: Readonly<Record<string, string>> = {}): Reply {
  const body = Buffer.from(text, "latin1");
  return { statusCode, headers: { "content-type": "text/plain", ...extra, "content-length": String(body.length) }, body };
}

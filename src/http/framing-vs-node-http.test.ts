/**
 * Vouch's HTTP/1.1 server (connection.ts) is hand-written for speed; node:http (llhttp) is the
 * reference it is tested against: for each raw request below both servers must agree on whether it is
 * served, and on the body a served request carries. Where Vouch is deliberately stricter (it refuses
 * what llhttp serves), the request is listed in STRICTER with the reason, and the test checks both
 * that llhttp still serves it (else the entry belongs in CORPUS) and that Vouch refuses it.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { systemClock } from "../clock.ts";
import { silentLogger } from "../observability/logger.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { startListener, type Listener } from "./server.ts";

const echo: Pipeline = {
  steps: [],
  async run(exchange) {
    exchange.reply = { body: exchange.received, cache: undefined, at: 0, notModified: false, reuseHead: false };
  },
};

let ours: Listener;
let reference: Server;
let referencePort: number;

before(async () => {
  ours = await startListener({
    host: "127.0.0.1",
    port: 0,
    endpoints: [{ name: "echo", prefix: "", pipeline: echo, maxRequestBytes: 4096 }],
    timeouts: { headersMs: 2000, requestMs: 2000, keepAliveMs: 2000 },
    clock: systemClock,
    logger: silentLogger,
  });
  reference = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      response.writeHead(200, { "content-length": String(body.length) }).end(body);
    });
  });
  await new Promise<void>((resolve) => reference.listen(0, "127.0.0.1", resolve));
  referencePort = (reference.address() as AddressInfo).port;
});
after(async () => {
  await ours.close();
  reference.closeAllConnections();
  await new Promise((resolve) => reference.close(resolve));
});

/** The status codes and bodies a server sends back for `raw`, read until it closes (or 1.5 s). */
async function outcome(port: number, raw: string): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(Buffer.from(raw, "latin1"));
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1500))]);
  socket.destroy();
  const text = Buffer.concat(chunks).toString("latin1");
  // One entry per response: "200:<body>" when served, "refused" for any 4xx/5xx.
  const replies: string[] = [];
  for (const match of text.matchAll(/HTTP\/1\.1 (\d{3})[^\r]*\r\n((?:[^\r]+\r\n)*)\r\n/g)) {
    const status = Number(match[1]);
    const length = Number(/content-length: *(\d+)/i.exec(match[2]!)?.[1] ?? 0);
    const start = match.index + match[0].length;
    replies.push(status === 200 ? `200:${text.slice(start, start + length)}` : "refused");
  }
  return replies.join(" | ") || "nothing";
}

const CORPUS: readonly string[] = [
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nhost: x\r\ncontent-length:5\r\nconnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nCONTENT-LENGTH:   3   \r\nConnection: close\r\n\r\nabc",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nde",
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;name=value\r\nde\r\n0\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
  "POST / HTTP/1.0\r\nContent-Length: 4\r\n\r\nabcd",
  "\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nz",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\nConnection: close\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nFolded: a\r\n b\r\nConnection: close\r\n\r\n",
  "NOT-HTTP\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\nX: a\u0001b\r\n\r\nab",
  // Issue 12: a length is digits with only SP/HTAB around them, given once.
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\x0b\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\xa0\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \x0c5\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 \t\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0005\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\nConnection: close\r\n\r\nhello",
  // Transfer-Encoding: a final chunked, applied once.
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked \r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \x0bchunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  // Controls at a value's ends are refused, not trimmed; NBSP is obs-text, part of the value.
  "POST / HTTP/1.1\r\nHost: x\r\nX-A: a\x0b\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nX-A: \x0ca\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: x\r\nX-A: \xa0a\xa0\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
];

/** What llhttp serves and Vouch refuses on purpose, and why. */
const STRICTER: readonly [string, string][] = [
  [
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "llhttp hands the still gzip-coded body on; Vouch decodes no coding but chunked (501, RFC 9112 §6.1)",
  ],
  [
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "an empty coding is no client's doing, and a proxy may read the list otherwise",
  ],
  [
    "POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "HTTP/1.0 has no transfer codings: RFC 9112 §6.1 calls this faulty framing, which a proxy may read by other rules",
  ],
];

test("Vouch's server and node:http agree on which requests are served, and on their bodies", async () => {
  for (const raw of CORPUS) {
    const expected = await outcome(referencePort, raw);
    const actual = await outcome(ours.port, raw);
    assert.equal(actual, expected, JSON.stringify(raw));
  }
});

test("where Vouch is stricter than node:http, node:http serves the request and Vouch refuses it", async () => {
  for (const [raw, why] of STRICTER) {
    assert.match(await outcome(referencePort, raw), /^200:/, `node:http serves it, else move it to CORPUS: ${JSON.stringify(raw)}`);
    assert.equal(await outcome(ours.port, raw), "refused", `${why}: ${JSON.stringify(raw)}`);
  }
});

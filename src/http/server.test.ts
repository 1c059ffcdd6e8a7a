import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { systemClock } from "../clock.ts";
import { silentLogger } from "../observability/logger.ts";
import type { Exchange } from "../pipeline/exchange.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { inFlight } from "./in-flight.ts";
import { startListener, type Listener } from "./server.ts";

/** Answers every exchange with its received bytes reversed, so each reply names its request. */
const echoPipeline: Pipeline = {
  steps: [],
  async run(exchange: Exchange) {
    const body = Buffer.from(exchange.received).reverse();
    exchange.reply = { body, cache: undefined, at: 0, notModified: false, reuseHead: false };
  },
};

/** The same, answering at once (no promise), as a basic responder's pipeline does; "throw" makes it throw. */
const syncEchoPipeline: Pipeline = {
  steps: [],
  run(exchange: Exchange) {
    if (exchange.received.toString() === "throw") throw new Error("a bug in a step");
    const body = Buffer.from(exchange.received).reverse();
    exchange.reply = { body, cache: undefined, at: 0, notModified: false, reuseHead: false };
  },
};

const held = inFlight();
let listener: Listener;

before(async () => {
  listener = await startListener({
    host: "127.0.0.1",
    port: 0,
    endpoints: [
      { name: "echo", prefix: "/ocsp", pipeline: echoPipeline, maxRequestBytes: 64, inFlight: held },
      { name: "sync", prefix: "/sync", pipeline: syncEchoPipeline, maxRequestBytes: 64, inFlight: held },
    ],
    timeouts: { headersMs: 500, requestMs: 800, keepAliveMs: 600 },
    clock: systemClock,
    logger: silentLogger,
  });
});
after(() => listener.close());

/** Sends `raw` on a new connection and collects everything until the server closes or `waitMs` passes. */
async function exchangeRaw(raw: string | Buffer | (string | Buffer)[], waitMs = 2500): Promise<{ text: string; closed: boolean }> {
  const socket: Socket = connect(listener.port, "127.0.0.1");
  const parts = Array.isArray(raw) ? raw : [raw];
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  socket.on("error", () => {});
  const closing = new Promise<true>((resolve) => socket.once("close", () => resolve(true)));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  for (const part of parts) {
    // latin1: each char one octet, so that "\xa0" is the octet 0xa0.
    socket.write(typeof part === "string" ? Buffer.from(part, "latin1") : part);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([closing, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)))]);
  clearTimeout(timer);
  socket.destroy();
  return { text: Buffer.concat(received).toString("latin1"), closed };
}

/** Resolves once `done` holds, checked every 5 ms; fails after 2 s. */
async function waitFor(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 5) {
    if (waited > 2000) assert.fail("not within 2 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const post = (body: string, extra = "") => `POST /ocsp HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
const bodiesOf = (text: string) => text.split(/\r\n\r\n/).slice(1).map((rest) => rest.split("HTTP/1.1")[0]);

describe("Vouch's HTTP/1.1 server", () => {
  test("pipelined requests are answered in order on one connection", async () => {
    const { text } = await exchangeRaw(post("abc") + post("defg") + post("hi", "connection: close\r\n"));
    assert.deepEqual(statuses(text), [200, 200, 200]);
    assert.deepEqual(bodiesOf(text), ["cba", "gfed", "ih"]);
    assert.match(text, /connection: close\r\n\r\nih$/);
  });

  test("pipelined requests answered at once are answered in order too, a long run of them included", async () => {
    const bodies = Array.from({ length: 300 }, (_, index) => `r${index}`);
    const raw = bodies.map((body) => post(body).replace("/ocsp", "/sync")).join("") + post("end", "connection: close\r\n").replace("/ocsp", "/sync");
    const { text } = await exchangeRaw(raw);
    assert.deepEqual(bodiesOf(text), [...bodies, "end"].map((body) => [...body].reverse().join("")));
    assert.equal(held.count, 0);
  });

  test("a pipeline that throws at once is answered internalError, and the requests after it still are", async () => {
    const raw = post("ok").replace("/ocsp", "/sync") + post("throw").replace("/ocsp", "/sync") + post("late", "connection: close\r\n").replace("/ocsp", "/sync");
    const { text, closed } = await exchangeRaw(raw);
    assert.deepEqual(statuses(text), [200, 200, 200]);
    assert.deepEqual(bodiesOf(text), ["ko", "\x30\x03\x0a\x01\x02", "etal"]);
    assert.equal(closed, true);
    assert.equal(held.count, 0);
  });

  test("a request split into many small writes is put back together", async () => {
    const raw = post("split");
    const pieces = raw.match(/[^]{1,8}/g)!;
    const { text } = await exchangeRaw(pieces, 3000);
    assert.deepEqual(bodiesOf(text), ["tilps"]);
  });

  test("HTTP/1.0 closes after the reply unless keep-alive was asked for", async () => {
    const plain = await exchangeRaw("POST /ocsp HTTP/1.0\r\ncontent-length: 2\r\n\r\nab");
    assert.equal(plain.closed, true);
    assert.match(plain.text, /connection: close/);
    const kept = await exchangeRaw("POST /ocsp HTTP/1.0\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nab", 300);
    assert.equal(kept.closed, false);
    assert.match(kept.text, /connection: keep-alive/);
  });

  test("Expect: 100-continue gets an interim 100 before the body is sent", async () => {
    const { text } = await exchangeRaw(["POST /ocsp HTTP/1.1\r\ncontent-length: 3\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n", "xyz"]);
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    assert.match(text, /zyx$/);
  });

  test("a chunked body is decoded, extensions and trailers dropped", async () => {
    const { text } = await exchangeRaw("POST /ocsp HTTP/1.1\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2;ext=1\r\nab\r\n1\r\nc\r\n0\r\ntrailer: x\r\n\r\n");
    assert.deepEqual(statuses(text), [200]);
    assert.deepEqual(bodiesOf(text), ["cba"]);
  });

  test("ambiguous or malformed framing is refused and the connection closed", async () => {
    const cases: [string, number][] = [
      ["POST /ocsp HTTP/1.1\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\nab", 400],
      ["POST /ocsp HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc", 400],
      ["POST /ocsp HTTP/1.1\r\ncontent-length: -1\r\n\r\n", 400],
      ["POST /ocsp HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\n\r\n", 501],
      ["POST /ocsp HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n", 400],
      ["POST /ocsp HTTP/1.1\r\ntransfer-encoding: chunked, gzip\r\n\r\n", 400],
      ["POST /ocsp HTTP/1.1\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n", 400],
      // Issue 12: a length followed by VT, NBSP or FF, a repeated or listed length.
      ["POST /ocsp HTTP/1.1\r\ncontent-length: 2\x0b\r\n\r\nab", 400],
      ["POST /ocsp HTTP/1.1\r\ncontent-length: 2\xa0\r\n\r\nab", 400],
      ["POST /ocsp HTTP/1.1\r\ncontent-length: \x0c2\r\n\r\nab", 400],
      ["POST /ocsp HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nab", 400],
      ["POST /ocsp HTTP/1.1\r\ncontent-length: 2, 2\r\n\r\nab", 400],
      ["POST /ocsp HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 400],
      ["POST /ocsp HTTP/1.1\r\nfolded: a\r\n b\r\n\r\n", 400],
      ["GARBAGE\r\n\r\n", 400],
      ["GET /ocsp HTTP/2.0\r\n\r\n", 505],
      ["POST /ocsp HTTP/1.1\r\nexpect: something\r\n\r\n", 417],
      [`GET /ocsp HTTP/1.1\r\nx: ${"a".repeat(17 * 1024)}\r\n\r\n`, 431],
    ];
    for (const [raw, status] of cases) {
      const { text, closed } = await exchangeRaw(raw);
      assert.deepEqual(statuses(text), [status], raw.slice(0, 60));
      assert.equal(closed, true, raw.slice(0, 60));
    }
  });

  test("a body over the endpoint's limit gets 413, declared or chunked", async () => {
    const declared = await exchangeRaw(post("x".repeat(65)));
    assert.deepEqual(statuses(declared.text), [413]);
    const chunked = await exchangeRaw(`POST /ocsp HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n40\r\n${"x".repeat(64)}\r\n1\r\nx\r\n0\r\n\r\n`);
    assert.deepEqual(statuses(chunked.text), [413]);
    assert.equal(chunked.closed, true);
  });

  test("health, unknown paths and other methods get their HTTP statuses", async () => {
    const { text } = await exchangeRaw("GET /healthz HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\nPUT /ocsp HTTP/1.1\r\nconnection: close\r\n\r\n");
    assert.deepEqual(statuses(text), [200, 404, 405]);
    assert.match(text, /allow: GET, POST/);
  });

  test("a half-sent request gets 408 at its deadline; an idle keep-alive connection is closed silently", async () => {
    const partial = await exchangeRaw("POST /ocsp HTTP/1.1\r\ncontent-le", 4000);
    assert.deepEqual(statuses(partial.text), [408]);
    assert.equal(partial.closed, true);
    const body = await exchangeRaw("POST /ocsp HTTP/1.1\r\ncontent-length: 9\r\n\r\nabc", 4000);
    assert.deepEqual(statuses(body.text), [408]);
    const idle = await exchangeRaw(post("ok"), 4000);
    assert.deepEqual(statuses(idle.text), [200]);
    assert.equal(idle.closed, true);
  });

  test("a connection-per-request client is let go once its reply is sent, though it keeps its side open", async () => {
    // Half-open allowed: Node's client would otherwise end its side as soon as the server ends its own.
    const client = connect({ port: listener.port, host: "127.0.0.1", allowHalfOpen: true });
    const received: Buffer[] = [];
    client.on("data", (chunk: Buffer) => received.push(chunk));
    const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    await waitFor(() => listener.openConnections === 1);
    client.write("POST /sync HTTP/1.0\r\ncontent-length: 2\r\n\r\nab");
    await ended;
    assert.match(Buffer.concat(received).toString("latin1"), /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\nba$/);
    // The client has not ended its side: the server closed its socket anyway, nothing left unread.
    await waitFor(() => listener.openConnections === 0);
    client.destroy();
  });

  test("a reply that leaves bytes unread lingers: a client still sending reads all of it, then ends", async () => {
    // Half-open allowed: Node's client would otherwise end its side as soon as the server ends its own.
    const client = connect({ port: listener.port, host: "127.0.0.1", allowHalfOpen: true });
    const received: Buffer[] = [];
    client.on("data", (chunk: Buffer) => received.push(chunk));
    let reset = false;
    client.on("error", () => (reset = true));
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    client.write("POST /sync HTTP/1.0\r\ncontent-length: 100000\r\n\r\n");
    await waitFor(() => received.length > 0);
    // Body octets keep coming after the 413: closing on them would reset the connection.
    for (let index = 0; index < 10; index++) {
      client.write("x".repeat(1000));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(listener.openConnections, 1, "kept until the client ends");
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.end();
    await closed;
    assert.equal(reset, false);
    assert.match(Buffer.concat(received).toString("latin1"), /^HTTP\/1\.1 413 [^]*request too large\n$/);
    await waitFor(() => listener.openConnections === 0);
  });

  test("nothing is held once the connections are done", async () => {
    await exchangeRaw(post("a", "connection: close\r\n"));
    const client = connect(listener.port, "127.0.0.1");
    client.write("POST /ocsp HTTP/1.1\r\ncontent-length: 5\r\n\r\nab");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(held.count, 1, "a request whose body is still arriving is held");
    client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(held.count, 0);
  });
});

/**
 * The back-end client against real local servers: one that answers OCSP, one that answers
 * garbage, one that accepts connections and never answers, and a port nobody listens on.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { ERROR_RESPONSES } from "../ocsp/encode-response.ts";
import { circuitBreakers } from "./circuit-breaker.ts";
import { httpPoster } from "./http-post.ts";
import { remoteResponder, type RemoteAnswer } from "./remote-responder.ts";

const REQUEST = Buffer.from("3003300130", "hex");
const NEVER = new AbortController().signal;
const poster = httpPoster();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  poster.close();
  for (const close of closers) await close();
});

/** An HTTP server whose answer `reply` decides; counts requests and keeps the last body. */
async function httpServer(reply: () => { status: number; body: Buffer }) {
  const seen = { requests: 0, lastBody: Buffer.alloc(0), contentType: "" };
  const server: Server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      seen.requests++;
      seen.lastBody = Buffer.concat(chunks);
      seen.contentType = request.headers["content-type"] ?? "";
      const { status, body } = reply();
      response.writeHead(status, { "content-type": "application/ocsp-response", "content-length": body.length }).end(body);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  closers.push(() => new Promise((done) => server.close(() => done())));
  const port = (server.address() as { port: number }).port;
  return { url: new URL(`http://127.0.0.1:${port}/ocsp`), seen };
}

/** Accepts TCP connections and never says a word. */
async function silentServer() {
  const sockets: Socket[] = [];
  const server: TcpServer = createTcpServer((socket) => sockets.push(socket));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((done) => server.close(done));
  });
  return { url: new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/`), sockets };
}

/** A URL on a port that was free a moment ago (nothing listens there). */
async function deadUrl(): Promise<URL> {
  const server = createTcpServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  await new Promise((done) => server.close(done));
  return new URL(`http://127.0.0.1:${port}/`);
}

function client(retries = 1, failures = 3) {
  const clock = fixedClock("2026-12-01T12:00:00Z");
  const breakers = circuitBreakers({ failureThreshold: failures, coolDownMs: 10_000, clock });
  return { clock, breakers, remote: remoteResponder({ poster, breakers, timeoutMs: 300, retries, maxResponseBytes: 4096 }) };
}

const failureOf = (answer: RemoteAnswer) => (answer.ok ? `ok:${answer.response.status}` : answer.failure);

describe("remoteResponder", () => {
  test("posts the request bytes unchanged as application/ocsp-request and decodes the answer", async () => {
    const { url, seen } = await httpServer(() => ({ status: 200, body: ERROR_RESPONSES.get("unauthorized")! }));
    const answer = await client().remote.ask(url, REQUEST, NEVER);
    assert.equal(failureOf(answer), "ok:unauthorized");
    assert.ok(answer.ok && answer.response.der.equals(ERROR_RESPONSES.get("unauthorized")!), "the body exactly as received");
    assert.deepEqual(seen.lastBody, REQUEST);
    assert.equal(seen.contentType, "application/ocsp-request");
  });

  test("garbage is retried the configured number of times, then reported", async () => {
    const { url, seen } = await httpServer(() => ({ status: 200, body: Buffer.from("<html>hello</html>") }));
    const answer = await client(2).remote.ask(url, REQUEST, NEVER);
    assert.equal(failureOf(answer), "garbage");
    assert.equal(answer.attempts, 3);
    assert.equal(seen.requests, 3);
  });

  test("an HTTP error, a body over the limit, a dead port and a silent server are each reported as such", async () => {
    const errors = await httpServer(() => ({ status: 503, body: Buffer.from("busy") }));
    const large = await httpServer(() => ({ status: 200, body: Buffer.alloc(5000) }));
    const silent = await silentServer();
    const { remote } = client(0);
    assert.equal(failureOf(await remote.ask(errors.url, REQUEST, NEVER)), "http-status");
    assert.equal(failureOf(await remote.ask(large.url, REQUEST, NEVER)), "too-large");
    assert.equal(failureOf(await remote.ask(await deadUrl(), REQUEST, NEVER)), "connection");
    assert.equal(failureOf(await remote.ask(silent.url, REQUEST, NEVER)), "timeout");
    assert.equal(silent.sockets.length, 1, "the silent server was reached");
  });

  test("the circuit opens after consecutive failures: the remote is not contacted until the cool-down, then one trial closes it", async () => {
    let healthy = false;
    const { url, seen } = await httpServer(() => (healthy ? { status: 200, body: ERROR_RESPONSES.get("unauthorized")! } : { status: 500, body: Buffer.from("down") }));
    const { clock, breakers, remote } = client(0, 3);
    for (let i = 0; i < 3; i++) assert.equal(failureOf(await remote.ask(url, REQUEST, NEVER)), "http-status");
    assert.equal(breakers.state(url.href), "open");
    assert.equal(failureOf(await remote.ask(url, REQUEST, NEVER)), "circuit-open");
    assert.equal(seen.requests, 3, "an open circuit sends nothing");
    healthy = true;
    clock.advance(10_000);
    assert.equal(failureOf(await remote.ask(url, REQUEST, NEVER)), "ok:unauthorized");
    assert.equal(breakers.state(url.href), "closed");
    assert.equal(seen.requests, 4);
  });

  test("a remote that answers tryLater is unwell: the answer comes back, and it counts towards opening", async () => {
    const { url } = await httpServer(() => ({ status: 200, body: ERROR_RESPONSES.get("tryLater")! }));
    const { breakers, remote } = client(1, 2);
    assert.equal(failureOf(await remote.ask(url, REQUEST, NEVER)), "ok:tryLater");
    assert.equal(failureOf(await remote.ask(url, REQUEST, NEVER)), "ok:tryLater");
    assert.equal(breakers.state(url.href), "open");
  });

  test("retries stop when the circuit opens", async () => {
    const { url, seen } = await httpServer(() => ({ status: 500, body: Buffer.alloc(0) }));
    const answer = await client(5, 2).remote.ask(url, REQUEST, NEVER);
    assert.equal(failureOf(answer), "http-status");
    assert.equal(seen.requests, 2);
  });

  test("an aborted exchange stops at once and does not count against the remote", async () => {
    const silent = await silentServer();
    const { breakers, remote } = client(3, 1);
    const controller = new AbortController();
    const pending = remote.ask(silent.url, REQUEST, controller.signal);
    controller.abort();
    const answer = await pending;
    assert.equal(failureOf(answer), "aborted");
    assert.equal(answer.attempts, 1);
    assert.equal(breakers.state(silent.url.href), "closed");
    const already = await remote.ask(silent.url, REQUEST, AbortSignal.abort());
    assert.equal(failureOf(already), "aborted", "an exchange aborted before the attempt");
    assert.equal(already.attempts, 1);
  });
});

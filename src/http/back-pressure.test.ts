/**
 * A client that pipelines requests and never reads its replies (issue 12 item 9): the server stops
 * reading the connection while more than MAX_UNSENT octets of replies wait to be sent, goes on when
 * the client reads, and closes the connection when it stays blocked past the request deadline.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { systemClock } from "../clock.ts";
import { silentLogger } from "../observability/logger.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { MAX_UNSENT } from "./connection.ts";
import { startListener, type Listener } from "./server.ts";

/** The largest reply below: the bound may be passed by the one reply that crosses it. */
const REPLY_BYTES = 600;
let answered = 0;

/** Answers at once, as a basic responder does, with a body the size of an OCSP response. */
const pipeline: Pipeline = {
  steps: [],
  run(exchange) {
    answered++;
    // The head (status, OCSP content type, no-cache, length, date, keep-alive) takes about 210 of them.
    exchange.reply = { body: Buffer.alloc(REPLY_BYTES - 240, 0x61), cache: undefined, at: 0, notModified: false, reuseHead: false };
  },
};

let listener: Listener;

before(async () => {
  listener = await startListener({
    host: "127.0.0.1",
    port: 0,
    endpoints: [{ name: "ocsp", prefix: "/ocsp", pipeline, maxRequestBytes: 1024 }],
    timeouts: { headersMs: 2000, requestMs: 2000, keepAliveMs: 2000 },
    clock: systemClock,
    logger: silentLogger,
  });
});
after(() => listener.close());

const GET = Buffer.from("GET /ocsp/MFQwUjBQME4wTDAJBgUrDgMCGgUABBQ HTTP/1.1\r\nhost: x\r\n\r\n", "latin1");

/** Connects and writes `count` pipelined GETs in large writes, reading nothing. */
async function pipelineWithoutReading(count: number): Promise<Socket> {
  const socket = connect(listener.port, "127.0.0.1");
  socket.on("error", () => {});
  socket.pause();
  await new Promise((resolve) => socket.once("connect", resolve));
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => GET));
  for (let sent = 0; sent < count; sent += 1000) socket.write(batch);
  return socket;
}

/** Waits until the server has answered nothing more for 500 ms (it stopped reading, or ran out of requests). */
async function whenAnsweringStops(): Promise<void> {
  for (let last = -1; answered !== last; ) {
    last = answered;
    await sleep(500);
  }
}

describe("a client that pipelines and never reads", () => {
  test("150,000 pipelined GETs: the server holds at most MAX_UNSENT octets of unsent replies, and stops reading", async () => {
    answered = 0;
    const socket = await pipelineWithoutReading(150_000);
    await whenAnsweringStops();
    const stats = listener.stats();
    assert.equal(stats.connections, 1);
    assert.ok(stats.unsentBytes <= MAX_UNSENT + REPLY_BYTES, `${stats.unsentBytes} octets of replies held`);
    assert.equal(stats.blocked, 1, "the connection is not read");
    assert.ok(answered < 150_000, `${answered} requests answered`);
    socket.destroy();
  });

  test("blocked past the request deadline, the connection is closed", async () => {
    const socket = await pipelineWithoutReading(150_000);
    const closed = await Promise.race([new Promise((resolve) => socket.once("close", () => resolve("closed"))), sleep(10_000, "open")]);
    assert.equal(closed, "closed");
    for (let waited = 0; waited < 2000 && listener.stats().connections > 0; waited += 50) await sleep(50);
    assert.equal(listener.stats().connections, 0);
  });

  test("a client that reads late gets every reply, in order", async () => {
    answered = 0;
    const count = 20_000;
    const socket = await pipelineWithoutReading(count);
    await sleep(300);
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    socket.resume();
    for (let waited = 0; waited < 20_000 && answered < count; waited += 100) await sleep(100);
    await sleep(200);
    socket.destroy();
    assert.equal(answered, count);
    assert.equal(text.split("HTTP/1.1 200 OK").length - 1, count);
  });
});

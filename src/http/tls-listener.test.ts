/**
 * HTTPS listeners against clients that go away or stall during and right after the TLS handshake
 * (issue 12 item 5): every such socket is closed and forgotten, at once when the peer leaves and at
 * the handshake deadline when it stalls, and a closing listener waits for none of them.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { connect as connectTcp, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as connectTls } from "node:tls";
import { systemClock } from "../clock.ts";
import { silentLogger } from "../observability/logger.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { openssl } from "../pki/openssl-pki.ts";
import { destroyingClient, leavingClient, rejectingClient, stalledClient } from "../../test/support/aborting-tls-clients.ts";
import { certificateCache } from "../trust/memory-certificate-cache.ts";
import { startListener, type Listener, type ListenerTls } from "./server.ts";

const okPipeline: Pipeline = {
  steps: [],
  run(exchange) {
    exchange.reply = { body: Buffer.from("ok\n"), cache: undefined, at: 0, notModified: false, reuseHead: false };
  },
};

let certificate: Buffer;
let key: Buffer;
/** A client's certificate and key (self-signed: the validator below admits anything). */
let client: { cert: Buffer; key: Buffer };
/** Another server certificate (CN=next), for a reload. */
let next: { certificate: Buffer; key: Buffer };
/** How many certificates the listeners' validator was asked about. */
let validations = 0;
const listeners: Listener[] = [];

before(async () => {
  const folder = await mkdtemp(join(tmpdir(), "vouch-tls-listener-"));
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(folder, "key.pem"), "-out", join(folder, "cert.pem"), "-subj", "/CN=127.0.0.1", "-days", "2"]);
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(folder, "client.key"), "-out", join(folder, "client.pem"), "-subj", "/CN=client", "-days", "2"]);
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(folder, "next.key"), "-out", join(folder, "next.pem"), "-subj", "/CN=next", "-days", "2"]);
  [certificate, key] = await Promise.all([readFile(join(folder, "cert.pem")), readFile(join(folder, "key.pem"))]);
  next = { certificate: await readFile(join(folder, "next.pem")), key: await readFile(join(folder, "next.key")) };
  client = { cert: await readFile(join(folder, "client.pem")), key: await readFile(join(folder, "client.key")) };
});
after(() => Promise.all(listeners.map((listener) => listener.close())));

/** A listener with `clientAuth` ("off", or a validator that admits every certificate) and deadlines of `headersMs`. */
async function listen(clientAuth: "off" | "optional" | "required", headersMs = 500): Promise<Listener> {
  const tls: ListenerTls = {
    certificate,
    key,
    clientAuth:
      clientAuth === "off"
        ? undefined
        : {
            mode: clientAuth,
            validator: {
              authenticate: async () => {
                validations++;
                return { ok: true, chain: [] };
              },
            },
            cache: certificateCache({ persistent: [], maxCount: 10, maxBytes: 100_000 }),
            logger: silentLogger,
          },
  };
  const listener = await startListener({
    host: "127.0.0.1",
    port: 0,
    endpoints: [{ name: "ok", prefix: "", pipeline: okPipeline, maxRequestBytes: 64 }],
    timeouts: { headersMs, requestMs: headersMs, keepAliveMs: headersMs },
    tls,
    clock: systemClock,
    logger: silentLogger,
  });
  listeners.push(listener);
  return listener;
}

const openDescriptors = (): number => readdirSync("/proc/self/fd").length;

/** The descriptors open once they stop falling (polled for up to 5 s): sockets the server closes go. */
async function settledDescriptors(baseline: number): Promise<number> {
  for (let waited = 0; waited < 5000 && openDescriptors() > baseline; waited += 50) await sleep(50);
  return openDescriptors();
}

/** Resolves once `socket` is closed; "open" if it still is after `limitMs`. */
function closedWithin(socket: Socket, limitMs: number): Promise<"closed" | "open"> {
  socket.on("error", () => {});
  socket.resume();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve("closed");
    const timer = setTimeout(() => resolve("open"), limitMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve("closed");
    });
  });
}

/** One request with a client certificate, resuming `session` if given; the status line, whether the session was resumed, and the session to resume. */
function requestWithSession(port: number, maxVersion: "TLSv1.2" | "TLSv1.3", session?: Buffer): Promise<{ status: string; resumed: boolean; session: Buffer | undefined }> {
  return new Promise((resolve) => {
    let next: Buffer | undefined;
    let resumed = false;
    let text = "";
    const socket = connectTls({ host: "127.0.0.1", port, rejectUnauthorized: false, ...client, maxVersion, session }, () => {
      resumed = socket.isSessionReused();
      socket.write("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    });
    socket.on("session", (ticket: Buffer) => (next = ticket));
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    socket.on("error", (error: NodeJS.ErrnoException) => (text += `error ${error.code}`));
    socket.on("close", () => resolve({ status: text.split("\r\n")[0]!, resumed, session: next }));
  });
}

test("update() with a new certificate and key: the next handshakes present them", async () => {
  const listener = await listen("off", 5000);
  const presented = () =>
    new Promise<string | undefined>((resolve) => {
      const socket = connectTls({ host: "127.0.0.1", port: listener.port, rejectUnauthorized: false }, () => {
        resolve(String(socket.getPeerCertificate().subject?.CN));
        socket.destroy();
      });
    });
  assert.equal(await presented(), "127.0.0.1");
  listener.update({
    endpoints: [{ name: "ok", prefix: "", pipeline: okPipeline, maxRequestBytes: 64 }],
    timeouts: { headersMs: 5000, requestMs: 5000, keepAliveMs: 5000 },
    tls: { ...next, clientAuth: undefined },
  });
  assert.equal(await presented(), "next");
});

describe("an HTTPS listener with client authentication required", () => {
  for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
    test(`${version}: a resumed session is served, and its certificate goes through the validation process again`, async () => {
      const listener = await listen("required", 5000);
      const first = await requestWithSession(listener.port, version);
      const before = validations;
      const second = await requestWithSession(listener.port, version, first.session);
      assert.deepEqual([first.status, second.status, second.resumed], ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", true]);
      assert.equal(validations, before + 1);
    });
  }
});

describe("an HTTPS listener and clients that abort the TLS handshake", () => {
  for (const clientAuth of ["off", "optional", "required"] as const) {
    test(`clientAuth ${clientAuth}: 200 clients that reject the server, destroy the socket or leave mid-handshake leave no socket open`, async () => {
      const listener = await listen(clientAuth, 60_000);
      const baseline = openDescriptors();
      for (let i = 0; i < 70; i++) await rejectingClient(listener.port);
      for (let i = 0; i < 70; i++) await destroyingClient(listener.port);
      const left: Socket[] = [];
      for (let i = 0; i < 60; i++) left.push(await leavingClient(listener.port));
      await Promise.all(left.map((socket) => closedWithin(socket, 5000)));
      // The deadline is a minute away: only noticing that the peer left closes these sockets.
      const settled = await settledDescriptors(baseline);
      assert.ok(settled <= baseline, `${settled} descriptors open, ${baseline} before`);
    });
  }

  test("a client that sends its FIN mid-handshake is closed at once, not at the deadline", async () => {
    const listener = await listen("off", 60_000);
    const socket = await leavingClient(listener.port);
    assert.equal(await closedWithin(socket, 5000), "closed");
  });

  test("a client that connects and sends nothing, or stalls mid-handshake, is closed at the handshake deadline", async () => {
    const listener = await listen("required", 500);
    const silent = connectTcp(listener.port, "127.0.0.1");
    const stalled = await stalledClient(listener.port);
    assert.deepEqual(await Promise.all([closedWithin(silent, 5000), closedWithin(stalled, 5000)]), ["closed", "closed"]);
  });

  test("after the handshake the header deadline applies: a client that sends no request is closed", async () => {
    const listener = await listen("off", 500);
    const socket = connectTls({ host: "127.0.0.1", port: listener.port, rejectUnauthorized: false });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    assert.equal(await closedWithin(socket, 5000), "closed");
  });

  test("a TLS record the server cannot decrypt after the handshake closes the connection", async () => {
    const listener = await listen("off", 60_000);
    const raw = connectTcp(listener.port, "127.0.0.1");
    const socket = connectTls({ socket: raw, rejectUnauthorized: false });
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    raw.write(Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20]), Buffer.alloc(0x20, 0x41)]));
    assert.equal(await closedWithin(socket, 5000), "closed");
  });

  test("the listener answers between aborted clients, and closes without waiting for stalled handshakes", async () => {
    const listener = await listen("off", 60_000);
    const stalled = await Promise.all([stalledClient(listener.port), stalledClient(listener.port), new Promise<Socket>((resolve) => resolve(connectTcp(listener.port, "127.0.0.1")))]);
    await rejectingClient(listener.port);
    const answer = await new Promise<string>((resolve) => {
      const socket = connectTls({ host: "127.0.0.1", port: listener.port, rejectUnauthorized: false }, () => socket.end("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"));
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
      socket.on("close", () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const closed = await Promise.race([listener.close().then(() => "closed"), sleep(10_000, "still waiting")]);
    assert.equal(closed, "closed", "the handshake deadline is a minute away");
    assert.deepEqual(await Promise.all(stalled.map((socket) => closedWithin(socket, 5000))), ["closed", "closed", "closed"]);
  });
});

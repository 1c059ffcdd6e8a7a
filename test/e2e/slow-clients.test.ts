/**
 * Robustness against clients that misbehave at the TCP level (issue: OpenSSL's responder freezes at
 * 100% CPU on the first of these): connect-and-close, idle, half a request, trickled bytes. While
 * they do it, a well-behaved client keeps getting its answers, and the slow ones are cut off by the
 * configured deadlines.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

let pki: Pki;
let vouch: VouchProcess;

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-slow-")), "pki") });
  vouch = await startVouch(vouchConfig({ responders: [testResponder("slow", [pkiIssuer(pki)], { timeouts: { headers: "PT1S", request: "PT2S", keepAlive: "PT1S" } })] }));
});

after(async () => {
  await vouch?.stop();
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(vouch.port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

/** Resolves with the milliseconds until the server closes the socket (or rejects after `limitMs`). */
function closedWithin(socket: Socket, limitMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
    socket.on("error", () => {});
    socket.resume();
  });
}

describe("clients that connect and stall never slow the others", () => {
  test("connect-and-close, idle, half-request and trickling clients, while openssl gets its answers", async () => {
    // Connect and close at once, many times (what wrk does at start and end).
    for (let index = 0; index < 50; index++) (await open()).destroy();
    const idle = await Promise.all(Array.from({ length: 30 }, () => open()));
    const halfRequest = await Promise.all(Array.from({ length: 10 }, () => open()));
    for (const socket of halfRequest) {
      socket.write("POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/ocsp-request\r\ncontent-length: 400\r\n\r\n0\x82\x01");
    }
    const headerHalf = await open();
    headerHalf.write("POST / HTTP/1.1\r\nhost: x\r\n");
    const trickler = await open();
    const trickle = setInterval(() => trickler.writable && trickler.write("P"), 100);

    const closings = [...idle, ...halfRequest, headerHalf, trickler].map((socket) => closedWithin(socket, 8000));
    // Meanwhile, a real client asks again and again, and each answer is prompt (≪ the 2 s deadlines).
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
    for (let index = 0; index < 20; index++) {
      const started = Date.now();
      const response = await postOcsp(`${vouch.baseUrl}/`, request);
      assert.deepEqual(certStatuses(response.body), ["good"]);
      assert.ok(Date.now() - started < 1000, `answer ${index} took ${Date.now() - started} ms while others stalled`);
      await sleep(50);
    }
    const viaOpenssl = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.match(viaOpenssl.output, /Response verify OK/);

    // Every stalled socket is cut off by the deadlines, the trickler included.
    const waited = await Promise.all(closings);
    clearInterval(trickle);
    assert.ok(waited.every((ms) => ms < 8000));
  });

  test("the process survives a burst of resets mid-request", async () => {
    for (let index = 0; index < 30; index++) {
      const socket = await open();
      socket.write("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0\x81");
      socket.resetAndDestroy();
    }
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked, "-no_nonce"]);
    assert.deepEqual(certStatuses((await postOcsp(`${vouch.baseUrl}/`, request)).body), ["revoked"]);
    assert.equal(vouch.child.exitCode, null);
  });
});

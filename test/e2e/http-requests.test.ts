/**
 * End to end over HTTP: GET forms that real clients send, malformed requests, size limits and the
 * SPEC §5 cache headers. Requests come from `openssl ocsp -reqout` (or the reference codec, for
 * shapes openssl cannot make); responses are read back with `openssl ocsp -respin`.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { getOcsp, opensslRequest, postOcsp, responseText } from "../support/openssl.ts";
import { withEmptyRequestList, withNonce, withUnknownExtension } from "../support/reference-requests.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

let pki: Pki;
let vouch: VouchProcess;
let url: string;

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-http-")), "pki") });
  vouch = await startVouch(
    vouchConfig({
      responders: [
        testResponder("http", [pkiIssuer(pki)], { path: "/ocsp", maxRequestBytes: 4096 }),
        testResponder("strict", [pkiIssuer(pki)], { path: "/strict", nonce: { policy: "required", maxLength: 16 }, nonIssued: "revoked" }),
      ],
    }),
  );
  url = `${vouch.baseUrl}/ocsp`;
});

after(async () => {
  await vouch?.stop();
});

// -no_nonce: with -respin there is no request of ours whose nonce openssl could compare.
const verifyArgs = () => ["-no_nonce", "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca];

/** A request for good.pem whose base64 has the characters a test needs (the nonce makes it vary). */
async function requestWhoseBase64(has: (base64: string) => boolean): Promise<Buffer> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const der = withNonce(await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]), randomBytes(16));
    if (has(der.toString("base64"))) return der;
  }
  throw new Error("no request with the wanted base64 shape in 200 tries");
}

describe("GET requests (RFC 6960 Appendix A.1) as real clients send them", () => {
  test("raw '+' and '/' in the path, percent-encoded, base64url, without padding, and after repeated slashes", async () => {
    const der = await requestWhoseBase64((b64) => b64.includes("+") && b64.includes("/") && b64.endsWith("="));
    const b64 = der.toString("base64");
    const forms: [string, string][] = [
      ["unescaped", `${url}/${b64}`],
      ["percent-encoded", `${url}/${encodeURIComponent(b64)}`],
      ["base64url", `${url}/${der.toString("base64url")}`],
      ["missing padding", `${url}/${b64.replace(/=+$/, "")}`],
      ["repeated slashes", `${url}//${b64}`],
    ];
    for (const [name, target] of forms) {
      const response = await getOcsp(target);
      assert.equal(response.status, 200, name);
      const text = await responseText(response.body, verifyArgs());
      assert.match(text.output, /Response verify OK/, name);
      assert.match(text.stdout, /: good/, name);
    }
  });

  test("a GET path that is not base64 is answered malformedRequest", async () => {
    const response = await getOcsp(`${url}/not*base64!`);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]));
  });
});

describe("malformed requests are answered malformedRequest (status 1), unsigned", () => {
  const MALFORMED = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]);
  const cases: [string, () => Promise<Buffer>][] = [
    ["garbage bytes", async () => Buffer.from("this is not DER")],
    ["an empty body", async () => Buffer.alloc(0)],
    ["a truncated request", async () => (await opensslRequest(["-issuer", pki.ca, "-cert", pki.good])).subarray(0, 40)],
    ["trailing bytes after the request", async () => Buffer.concat([await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]), Buffer.from([0x00])])],
    ["an empty request list", async () => withEmptyRequestList(await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]))],
    ["a 0-byte nonce", async () => withNonce(await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]), Buffer.alloc(0))],
    ["a 33-byte nonce (over the 32 default)", async () => withNonce(await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]), randomBytes(33))],
    ["an unknown critical extension", async () => withUnknownExtension(await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]), true)],
  ];
  for (const [name, make] of cases) {
    test(name, async () => {
      const response = await postOcsp(url, await make());
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, MALFORMED);
      assert.equal(response.headers.get("content-type"), "application/ocsp-response");
      assert.equal(response.headers.get("cache-control"), "no-cache, no-store, max-age=0");
      const text = await responseText(response.body);
      assert.match(text.output, /Responder Error: malformedrequest \(1\)/);
    });
  }

  test("an unknown non-critical extension is ignored", async () => {
    const response = await postOcsp(url, withUnknownExtension(await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]), false));
    const text = await responseText(response.body, verifyArgs());
    assert.match(text.stdout, /: good/);
  });

  test("a responder that requires a nonce refuses a request without one, and applies its own maximum length", async () => {
    const strict = `${vouch.baseUrl}/strict`;
    const without = await postOcsp(strict, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]));
    assert.deepEqual(without.body, MALFORMED);
    const long = await postOcsp(strict, withNonce(await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]), randomBytes(17)));
    assert.deepEqual(long.body, MALFORMED);
    const fine = await postOcsp(strict, withNonce(await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]), randomBytes(16)));
    assert.match((await responseText(fine.body, verifyArgs())).stdout, /: good/);
  });
});

describe("size limits", () => {
  test("a body over maxRequestBytes is refused with 413 (declared length)", async () => {
    const response = await postOcsp(url, Buffer.alloc(5000, 0x30));
    assert.equal(response.status, 413);
  });

  test("a chunked body that grows over maxRequestBytes is refused with 413", async () => {
    const reply = await rawExchange(vouch.port, [
      "POST /ocsp HTTP/1.1\r\nhost: x\r\ncontent-type: application/ocsp-request\r\ntransfer-encoding: chunked\r\n\r\n",
      ...Array.from({ length: 6 }, () => `400\r\n${"A".repeat(0x400)}\r\n`),
      "0\r\n\r\n",
    ]);
    assert.match(reply, /^HTTP\/1\.1 413/);
  });

  test("a GET request over maxRequestBytes is refused with 413", async () => {
    const response = await getOcsp(`${url}/${Buffer.alloc(5000, 0x30).toString("base64")}`);
    assert.equal(response.status, 413);
  });
});

describe("HTTP caching (SPEC §5)", () => {
  test("a response without a nonce carries max-age, ETag, Last-Modified and Expires", async () => {
    const der = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
    const response = await getOcsp(`${url}/${encodeURIComponent(der.toString("base64"))}`);
    const cacheControl = response.headers.get("cache-control") ?? "";
    const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1]);
    assert.match(cacheControl, /public, no-transform, must-revalidate/);
    assert.ok(maxAge > 3500 && maxAge <= 3600, `max-age ${maxAge} ≤ seconds to nextUpdate (1 h)`);
    const { createHash } = await import("node:crypto");
    assert.equal(response.headers.get("etag"), `"${createHash("sha256").update(response.body).digest("hex")}"`);
    const text = await responseText(response.body);
    const nextUpdate = Date.parse(/Next Update: (.+)/.exec(text.stdout)![1]!);
    const thisUpdate = Date.parse(/This Update: (.+)/.exec(text.stdout)![1]!);
    assert.equal(Date.parse(response.headers.get("expires")!), nextUpdate);
    assert.equal(Date.parse(response.headers.get("last-modified")!), thisUpdate);
  });

  test("a response with a nonce says no-cache", async () => {
    const response = await postOcsp(url, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]));
    assert.equal(response.headers.get("cache-control"), "no-cache, no-store, max-age=0");
    assert.equal(response.headers.get("etag"), null);
  });
});

describe("non-issued certificates", () => {
  test("with nonIssued: revoked, a serial the CA never issued is revoked, certificateHold, 1970, with extended-revoke", async () => {
    const der = await opensslRequest(["-issuer", pki.ca, "-serial", "0x0DEADBEEF0", "-no_nonce"]);
    const strictNoNonce = await postOcsp(`${vouch.baseUrl}/strict`, withNonce(der, randomBytes(8)));
    const text = await responseText(strictNoNonce.body, ["-no_nonce", "-CAfile", pki.root, "-verify_other", pki.ca, "-issuer", pki.ca, "-serial", "0x0DEADBEEF0"]);
    assert.match(text.output, /Response verify OK/);
    assert.match(text.stdout, /Cert Status: revoked/);
    assert.match(text.stdout, /Revocation Time: Jan {1,2}1 00:00:00 1970 GMT/);
    assert.match(text.stdout, /Revocation Reason: certificateHold/);
    // OpenSSL 3.0 names id-pkix-ocsp-extended-revoke (1.3.6.1.5.5.7.48.1.9) by its old short name "valid".
    assert.match(text.stdout, /Response Extensions:[\s\S]*\n {8}valid: /);
  });

  test("by default a serial the CA never issued is unknown", async () => {
    const response = await postOcsp(url, await opensslRequest(["-issuer", pki.ca, "-serial", "0x0DEADBEEF0"]));
    const text = await responseText(response.body);
    assert.match(text.stdout, /Cert Status: unknown/);
  });
});

/** Writes raw HTTP pieces to the server and returns everything it answers until it closes. */
function rawExchange(port: number, pieces: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("close", () => resolve(received));
    socket.on("error", (error) => (received === "" ? reject(error) : resolve(received)));
    // One write: written piece by piece, a slow client could still be writing when the server, having
    // answered 413 and closed, resets the connection; the write then fails (EPIPE) and the answer
    // already received is lost with the socket. The server still reads the chunks one by one.
    socket.on("connect", () => socket.write(pieces.join("")));
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

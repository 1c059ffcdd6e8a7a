/**
 * End to end: forwarding (SPEC step 6). A front `vouch serve` forwards to real back-ends — OpenSSL's
 * own responder (`openssl ocsp -index … -port 0`) and a second `vouch serve` — and to broken ones:
 * a dead port, a TCP server that never answers, an HTTP server that answers garbage, and an OpenSSL
 * responder signing with the wrong key. Every query is made by `openssl ocsp`.
 *
 * Who answered is visible from outside: OpenSSL's responder signs with the delegated signer
 * ("CN = Vouch Demo OCSP Signer"), the back Vouch with the CA key by name ("CN = Vouch Demo
 * Issuing CA"), and the front's own responders for the back CA are absent (they serve only the
 * foreign CA), except /fallback, which serves the back CA itself.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, writeFile, copyFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { serviceLocatorRequest } from "../../src/forwarding/test-support/service-locator-request.ts";
import { createPki, readPemDer, type Pki } from "../../src/pki/openssl-pki.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { issueExtra } from "../support/certificates.ts";
import { getOcsp, openssl, opensslRequest } from "../support/openssl.ts";
import { startOpensslResponder } from "../support/openssl-responder.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

const OPENSSL_SIGNER = /Responder Id: C = SE, O = Vouch Demo, CN = Vouch Demo OCSP Signer/;
const VOUCH_BACK_SIGNER = /Responder Id: C = SE, O = Vouch Demo, CN = Vouch Demo Issuing CA/;
const TRY_LATER = /Responder Error: trylater \(3\)/;

let folder: string;
let back: Pki;
let aiaCert: string;
let opensslBack: { url: string; stop: () => Promise<void> };
let wrongKeyBack: { url: string; stop: () => Promise<void> };
let vouchBack: VouchProcess;
let front: VouchProcess;
let billingDir: string;
const servers: (() => Promise<void>)[] = [];
let deadUrl: string;
let silent: { url: string; sockets: Socket[] };
let garbage: { url: string; requests: number };
let flaky: { url: string; requests: number; healthy: boolean };

/** OpenSSL's own responder on `pki`, signing with `signer`/`key`, answers valid for a day. */
function opensslResponder(pki: Pki, signer: string, key: string): Promise<{ url: string; stop: () => Promise<void> }> {
  return startOpensslResponder({ index: pki.index, ca: pki.ca, signer, key, validity: ["-ndays", "1"] });
}

async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  servers.push(() => new Promise((done) => server.close(() => done())));
  return (server.address() as { port: number }).port;
}

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-forwarding-"));
  back = await createPki({ dir: join(folder, "back") });
  // The foreign CA (its key is in the PKI's state folder) is what the front's forwarding responders serve themselves.
  const foreignKey = join(back.stateDir, "foreign-ca.key");
  const emptyIndex = join(folder, "empty-index.txt");
  await writeFile(emptyIndex, "");

  [opensslBack, wrongKeyBack] = await Promise.all([opensslResponder(back, back.signer, back.signerKey), opensslResponder(back, back.foreignCa, foreignKey)]);
  vouchBack = await startVouch(
    vouchConfig({
      responders: [
        testResponder("back", [{ certificate: back.ca, signer: { key: back.caKey }, sources: [{ type: "index", file: back.index, pollInterval: "PT0.2S" }] }], { responderId: "byName" }),
      ],
    }),
  );
  // The fromcert target: issued now, with the back Vouch's URL in its AIA; the back Vouch re-reads index.txt.
  aiaCert = (await issueExtra(back, "aia", { commonName: "aia.demo.vouch.test", extensions: `basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nauthorityInfoAccess = OCSP;URI:${vouchBack.baseUrl}/\n` })).certificate;
  await waitUntil("the back Vouch to know the new certificate", async () => / good/.test((await query(`${vouchBack.baseUrl}/`, [aiaCert])).stdout));

  deadUrl = `http://127.0.0.1:${await listen(createTcpServer())}/`;
  await servers.pop()!(); // closed again: nothing listens there now
  const sockets: Socket[] = [];
  silent = { url: `http://127.0.0.1:${await listen(createTcpServer((socket) => sockets.push(socket)))}/`, sockets };
  servers.unshift(async () => sockets.forEach((socket) => socket.destroy()));
  garbage = { url: "", requests: 0 };
  garbage.url = `http://127.0.0.1:${await listen(createHttpServer((request, response) => {
    request.resume();
    request.on("end", () => {
      garbage.requests++;
      response.writeHead(200, { "content-type": "application/ocsp-response" }).end("this is not an OCSP response");
    });
  }))}/`;
  // A back-end that fails (HTTP 500) until told otherwise, then passes requests on to OpenSSL's responder.
  flaky = { url: "", requests: 0, healthy: false };
  flaky.url = `http://127.0.0.1:${await listen(createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      flaky.requests++;
      if (!flaky.healthy) {
        response.writeHead(500).end();
        return;
      }
      const upstream = await fetch(opensslBack.url, { method: "POST", body: Buffer.concat(chunks), headers: { "content-type": "application/ocsp-request" } });
      response.writeHead(200, { "content-type": "application/ocsp-response" }).end(Buffer.from(await upstream.arrayBuffer()));
    });
  }))}/`;

  const certificates = join(folder, "front-certificates");
  await mkdir(certificates);
  await copyFile(back.ca, join(certificates, "back-ca.pem"));
  await copyFile(aiaCert, join(certificates, "aia.pem"));
  billingDir = join(folder, "billing");
  const backCaRow = "cn=Vouch Demo Issuing CA,o=Vouch Demo,c=SE";
  const foreignIssuer = { certificate: back.foreignCa, signer: { key: foreignKey }, sources: [{ type: "index", file: emptyIndex }] };
  const forwarder = (name: string, forwarding: YamlFields, issuer: YamlFields = foreignIssuer, fields: YamlFields = {}) =>
    testResponder(name, [issuer], { path: `/${name}`, ...fields, forwarding });
  const table = (url: string, more: YamlFields = {}) => ({ methods: ["table"], table: [{ issuer: backCaRow, url }], ...more });
  front = await startVouch(
    vouchConfig({
      trust: { anchors: [back.root], certificates },
      responders: [
        forwarder("openssl", table(opensslBack.url), foreignIssuer, { billing: { sink: "file", directory: billingDir, perCert: true } }),
        forwarder("vouch", table(vouchBack.baseUrl + "/")),
        forwarder("fromcert", { methods: ["fromcert"], allowedUrls: [`${vouchBack.baseUrl}/*`] }),
        forwarder("servicelocator", { methods: ["servicelocator", "table"], allowedUrls: [`${vouchBack.baseUrl}/*`], table: [{ issuer: backCaRow, url: opensslBack.url }] }),
        forwarder("down", table(deadUrl)),
        forwarder("slow", table(silent.url, { timeout: "PT0.5S", retries: 1 })),
        forwarder("garbage", table(garbage.url, { retries: 0 })),
        forwarder("wrongkey", table(wrongKeyBack.url)),
        forwarder("fallback", table(wrongKeyBack.url), pkiIssuer(back)),
        forwarder("breaker", table(flaky.url, { retries: 0, breaker: { failures: 2, coolDown: "PT1S" } })),
      ],
    }),
  );
});

after(async () => {
  await front?.stop();
  await vouchBack?.stop();
  await opensslBack?.stop();
  await wrongKeyBack?.stop();
  for (const close of servers) await close();
});

/** `openssl ocsp` for `certs` of the back CA, verifying against the back PKI's root. */
function query(url: string, certs: readonly string[], extra: readonly string[] = []) {
  return openssl(["ocsp", "-url", url, "-issuer", back.ca, ...certs.flatMap((cert) => ["-cert", cert]), "-CAfile", back.root, "-verify_other", back.ca, "-resp_text", "-timeout", "10", ...extra]);
}

const at = (path: string) => `${front.baseUrl}/${path}`;

/**
 * Asserts the `result` of the front's forwarding warnings for responder `name` (a remote that gave no
 * answer, or an answer refused), in order. Log lines arrive from the child's stdout a little after
 * the response, hence the wait.
 */
async function assertForwardingResults(name: string, expected: readonly string[]): Promise<void> {
  const results = () => front.logs.filter((line) => line.step === "forwarding" && line.responder === name && line.level === "warn" && line.circuit === undefined).map((line) => line.result);
  await waitUntil(`${expected.length} forwarding log lines of ${name}`, () => results().length >= expected.length).catch(() => undefined);
  assert.deepEqual(results(), expected);
}

describe("forwarding to real back-ends", () => {
  test("table → OpenSSL's responder: its signed answers come back, the nonce echoed, verified by openssl", async () => {
    const result = await query(at("openssl"), [back.good, back.revoked]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.output, OPENSSL_SIGNER);
    assert.match(result.stdout, /good\.pem: good/);
    assert.match(result.stdout, /revoked\.pem: revoked/);
    assert.doesNotMatch(result.output, /WARNING: no nonce/);
  });

  test("a GET request is forwarded (as the DER it decodes to) and its cacheable answer gets HTTP cache headers", async () => {
    const request = await opensslRequest(["-issuer", back.ca, "-cert", back.good, "-no_nonce"]);
    const reply = await getOcsp(`${at("openssl")}/${encodeURIComponent(request.toString("base64"))}`);
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get("cache-control") ?? "", /max-age=\d+, public/);
    const responseFile = join(folder, "get.resp");
    await writeFile(responseFile, reply.body);
    const result = await openssl(["ocsp", "-respin", responseFile, "-issuer", back.ca, "-cert", back.good, "-CAfile", back.root, "-verify_other", back.ca, "-resp_text"]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.output, OPENSSL_SIGNER);
    assert.match(result.stdout, /good\.pem: good/);
  });

  test("a forwarded answer is billed with source forward and each certificate's status", async () => {
    const result = await query(at("openssl"), [back.revoked], ["-no_nonce"]);
    assert.match(result.stdout, /revoked\.pem: revoked/);
    const records = await waitUntil("the billing record", async () => {
      const names = await readdir(billingDir).catch(() => []);
      const lines = (await Promise.all(names.map((name) => readFile(join(billingDir, name), "utf8")))).join("").split("\n").filter(Boolean);
      const parsed = lines.map((line) => JSON.parse(line) as { source: string; certificates: { status: string }[] });
      return parsed.some((record) => record.certificates.length === 1 && record.certificates[0]!.status === "revoked") ? parsed : undefined;
    });
    const revoked = records.find((record) => record.certificates.length === 1 && record.certificates[0]!.status === "revoked")!;
    assert.equal(revoked.source, "forward");
  });

  test("table → a second Vouch", async () => {
    const result = await query(at("vouch"), [back.good]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.output, VOUCH_BACK_SIGNER);
    assert.match(result.stdout, /good\.pem: good/);
  });

  test("fromcert → the AIA URL of the target certificate in the front's certificate folder", async () => {
    const result = await query(at("fromcert"), [aiaCert]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.output, VOUCH_BACK_SIGNER);
    assert.match(result.stdout, /aia\.pem: good/);
  });

  test("fromcert with a certificate the front does not hold: nothing to forward, answered locally as unknown", async () => {
    const result = await openssl(["ocsp", "-url", at("fromcert"), "-issuer", back.ca, "-cert", back.good, "-noverify", "-timeout", "10"]);
    assert.match(result.stdout, /good\.pem: unknown/);
  });

  test("servicelocator → the allowed URL the request names, before the table", async () => {
    const requestFile = join(folder, "service-locator.req");
    await writeFile(requestFile, serviceLocatorRequest(await readPemDer(back.ca), [await readPemDer(back.good)], [`${vouchBack.baseUrl}/`]));
    const result = await openssl(["ocsp", "-reqin", requestFile, "-url", at("servicelocator"), "-CAfile", back.root, "-verify_other", back.ca, "-resp_text", "-timeout", "10"]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.output, VOUCH_BACK_SIGNER);
    assert.match(result.stdout, /Cert Status: good/);
  });

  test("servicelocator naming a URL that is not allowed falls to the table (OpenSSL's responder)", async () => {
    const requestFile = join(folder, "service-locator-evil.req");
    await writeFile(requestFile, serviceLocatorRequest(await readPemDer(back.ca), [await readPemDer(back.good)], ["http://127.0.0.1:9/evil"]));
    const result = await openssl(["ocsp", "-reqin", requestFile, "-url", at("servicelocator"), "-CAfile", back.root, "-verify_other", back.ca, "-resp_text", "-timeout", "10"]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.output, OPENSSL_SIGNER);
    await assertForwardingResults("servicelocator", ["not-allowed"]);
  });
});

describe("forwarding to broken back-ends", () => {
  test("the remote down: tryLater", async () => {
    assert.match((await query(at("down"), [back.good])).output, TRY_LATER);
    await assertForwardingResults("down", ["connection"]);
  });

  test("the remote accepts and never answers: tryLater once the deadlines (with one retry) have passed", async () => {
    const before = silent.sockets.length;
    assert.match((await query(at("slow"), [back.good])).output, TRY_LATER);
    assert.equal(silent.sockets.length - before, 2, "one attempt and one retry");
    await assertForwardingResults("slow", ["timeout"]);
  });

  test("the remote answers garbage: tryLater", async () => {
    const before = garbage.requests;
    assert.match((await query(at("garbage"), [back.good])).output, TRY_LATER);
    assert.equal(garbage.requests - before, 1);
    await assertForwardingResults("garbage", ["garbage"]);
  });

  test("the remote signs with the wrong key: tryLater when the issuer is not served here", async () => {
    assert.match((await query(at("wrongkey"), [back.good])).output, TRY_LATER);
    await assertForwardingResults("wrongkey", ["unauthorized-signer"]);
  });

  test("the remote signs with the wrong key: local validation answers when the issuer is served here", async () => {
    const result = await query(at("fallback"), [back.revoked]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.stdout, /revoked\.pem: revoked/);
    assert.match(result.output, /Responder Id: [0-9A-F]{40}/, "signed by the front itself (byKey), not by the remote (byName)");
    await assertForwardingResults("fallback", ["unauthorized-signer"]);
  });

  test("the circuit breaker opens (the remote is not contacted) and closes after the cool-down", async () => {
    flaky.healthy = false;
    const start = flaky.requests;
    assert.match((await query(at("breaker"), [back.good])).output, TRY_LATER);
    assert.match((await query(at("breaker"), [back.good])).output, TRY_LATER);
    assert.equal(flaky.requests - start, 2);
    assert.match((await query(at("breaker"), [back.good])).output, TRY_LATER);
    assert.equal(flaky.requests - start, 2, "open: the third request never reached the remote");
    await assertForwardingResults("breaker", ["http-status", "http-status", "circuit-open"]);
    flaky.healthy = true;
    await delay(1_100);
    const trial = await query(at("breaker"), [back.good]);
    assert.match(trial.stdout, /good\.pem: good/);
    assert.match(trial.output, OPENSSL_SIGNER);
    assert.match((await query(at("breaker"), [back.good])).stdout, /good\.pem: good/);
    assert.equal(flaky.requests - start, 4, "closed again: both requests went to the remote");
    const circuitLines = () => front.logs.filter((line) => line.responder === "breaker" && line.circuit !== undefined);
    await waitUntil("the circuit's log lines", () => circuitLines().length >= 2).catch(() => undefined);
    const circuit = circuitLines();
    assert.deepEqual(
      circuit.map((line) => [line.level, line.circuit, line.msg]),
      [
        ["warn", "opened", "remote responder failing: circuit opened, requests skip it until a trial succeeds"],
        ["info", "closed", "remote responder answering again: circuit closed"],
      ],
      "the breaker logs when it opens and when it closes again",
    );
    assert.ok(circuit.every((line) => typeof line.url === "string" && line.url.startsWith("http://127.0.0.1:")));
  });
});

/**
 * SPEC step 1 from the outside: real TLS handshakes by `curl --cert` and `openssl s_client`. A client
 * certificate that fails the validation process gets its connection closed before any HTTP answer.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as connectTls } from "node:tls";
import { createPki, generateKey, openssl, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { CLIENT_EXTENSIONS, issueExtra } from "../support/certificates.ts";
import { responseStatusName, certStatuses } from "../support/ocsp-response.ts";
import { opensslRequest } from "../support/openssl.ts";
import { pkiIssuer, pkiTrust, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs } from "../support/wait-for-log.ts";

let pki: Pki;
let vouch: VouchProcess;
let optional: VouchProcess;
let requestFile: string;
let trustBundle: string;
const clients: Record<string, { certificate: string; key: string }> = {};
const clientsWithChain: Record<string, { certificate: string; key: string; intermediate: string; bundle: string }> = {};

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-tls-"));
  pki = await createPki({ dir: join(base, "pki") });
  const server = await issueExtra(pki, "tls-server", {
    commonName: "127.0.0.1",
    extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
  });
  clients.good = await issueExtra(pki, "client-good", { commonName: "Client Good", extensions: CLIENT_EXTENSIONS });
  clients.revoked = await issueExtra(pki, "client-revoked", { commonName: "Client Revoked", extensions: CLIENT_EXTENSIONS });
  clients.expired = await issueExtra(pki, "client-expired", { commonName: "Client Expired", extensions: CLIENT_EXTENSIONS, startDate: "20200101000000Z", endDate: "20210101000000Z" });
  clients.serverOnly = await issueExtra(pki, "client-server-only", { commonName: "Server Only", extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n" });
  await revokeCertificate(pki, clients.revoked.certificate, "keyCompromise");
  // A client CA under the same root that Vouch is not told about, and a leaf it issued: only the
  // chain the client sends can lead from this leaf to the root.
  const clientCa = join(base, "client-ca.pem");
  const clientCaKey = join(base, "client-ca.key");
  await generateKey("ecdsa-p256", clientCaKey);
  await openssl(["req", "-new", "-key", clientCaKey, "-out", join(base, "client-ca.csr"), "-subj", "/C=SE/O=Vouch Demo/CN=Unlisted Client CA", "-config", pki.opensslConfig]);
  await openssl(["x509", "-req", "-in", join(base, "client-ca.csr"), "-CA", pki.root, "-CAkey", pki.rootKey, "-set_serial", "77", "-days", "30", "-extfile", pki.opensslConfig, "-extensions", "ca_ext", "-out", clientCa]);
  const chained = { certificate: join(base, "chained.pem"), key: join(base, "chained.key"), intermediate: clientCa, bundle: join(base, "chained-bundle.pem") };
  await generateKey("ecdsa-p256", chained.key);
  await writeFile(join(base, "chained.ext"), CLIENT_EXTENSIONS);
  await openssl(["req", "-new", "-key", chained.key, "-out", join(base, "chained.csr"), "-subj", "/C=SE/O=Vouch Demo/CN=Chained Client", "-config", pki.opensslConfig]);
  await openssl(["x509", "-req", "-in", join(base, "chained.csr"), "-CA", clientCa, "-CAkey", clientCaKey, "-set_serial", "78", "-days", "30", "-extfile", join(base, "chained.ext"), "-out", chained.certificate]);
  await writeFile(chained.bundle, `${await readFile(chained.certificate, "utf8")}${await readFile(clientCa, "utf8")}`);
  clientsWithChain.chained = chained;
  clients.otherRoot = { certificate: pki.foreign, key: join(pki.stateDir, "foreign.key") };
  // Clients send only their own certificate; the server finds the CA in trust.certificates.
  trustBundle = join(base, "bundle.pem");
  await writeFile(trustBundle, `${await readFile(pki.root, "utf8")}\n${await readFile(pki.ca, "utf8")}`);
  requestFile = join(base, "request.der");
  await writeFile(requestFile, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]));
  const responder = (name: string, clientAuth: string, fields: YamlFields = {}) =>
    testResponder(name, [pkiIssuer(pki)], { tls: { certificate: server.certificate, key: server.key, clientAuth }, ...fields });
  const intermediates = join(base, "intermediates");
  await mkdir(intermediates);
  await copyFile(pki.ca, join(intermediates, "ca.pem"));
  const config = (responder: YamlFields) =>
    vouchConfig({
      trust: pkiTrust(pki, { certificates: intermediates }),
      responders: [responder],
    });
  [vouch, optional] = await Promise.all([
    startVouch(config(responder("required", "required"))),
    startVouch(config(responder("optional", "optional", { authorization: { method: "byauthentication" } }))),
  ]);
});


after(async () => {
  await vouch?.stop();
  await optional?.stop();
});

interface CurlResult {
  readonly code: number;
  readonly body: Buffer;
  readonly stderr: string;
}

/** POSTs the OCSP request over HTTPS with curl, optionally presenting a client certificate. */
function curl(port: number, client?: { certificate: string; key: string }): Promise<CurlResult> {
  const args = ["-s", "-S", "--max-time", "10", "--cacert", trustBundle, "--data-binary", `@${requestFile}`, "-H", "Content-Type: application/ocsp-request"];
  if (client !== undefined) args.push("--cert", client.certificate, "--key", client.key);
  args.push(`https://127.0.0.1:${port}/`);
  return new Promise((resolve) => {
    execFile("curl", args, { encoding: "buffer" }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, body: stdout, stderr: stderr.toString() });
    });
  });
}

interface SClientResult {
  readonly code: number;
  readonly output: string;
}

/** Runs `openssl s_client` against `port` with `args`, writes `input`, and ends its stdin after 1 s. */
function sClient(port: number, args: readonly string[], input: string): Promise<SClientResult> {
  return new Promise((resolve) => {
    const child = execFile("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", trustBundle, ...args], { timeout: 10_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: `${stdout}${stderr}` });
    });
    child.stdin!.write(input);
    setTimeout(() => child.stdin!.end(), 1000);
  });
}

const withCertificate = (client: { certificate: string; key: string }): string[] => ["-cert", client.certificate, "-key", client.key];

/** The reason the log gives for refusing the client whose subject contains `commonName`. */
const refusalReason = (server: VouchProcess, commonName: string): unknown =>
  server.logs.findLast((record) => record.step === "tls-client-auth" && record.result === "refused" && String(record.subject ?? "").includes(commonName))?.reason;

describe("TLS client authentication, required (SPEC step 1)", () => {
  test("a client with a good certificate gets its OCSP answer", async () => {
    const result = await curl(vouch.port, clients.good);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(certStatuses(result.body), ["good"]);
  });

  const closed: [string, () => { certificate: string; key: string } | undefined][] = [
    ["no certificate", () => undefined],
    ["a revoked certificate", () => clients.revoked],
    ["an expired certificate", () => clients.expired],
    ["a certificate from another root", () => clients.otherRoot],
    ["a certificate without the clientAuth usage", () => clients.serverOnly],
  ];
  for (const [name, client] of closed) {
    test(`${name}: the connection is closed, no HTTP answer`, async () => {
      const result = await curl(vouch.port, client());
      assert.notEqual(result.code, 0, "curl fails");
      assert.equal(result.body.length, 0, "nothing was answered");
      assert.match(result.stderr, /(recv|receiv|reset|closed|empty reply|SSL_read|unexpected eof|Connection)/i);
    });
  }

  test("openssl s_client with a good certificate gets HTTP answers", async () => {
    const { output } = await sClient(vouch.port, [...withCertificate(clients.good!), "-quiet"], "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    assert.match(output, /HTTP\/1\.1 200/);
  });
});

describe("what a refused TLS client hears (issue 12)", () => {
  test("no certificate: OpenSSL ends the handshake with certificate_required (handshake_failure in TLS 1.2), and the log says why", async () => {
    const noCertificate = (record: Record<string, unknown>) =>
      record.step === "tls-client-auth" && record.result === "refused" && record.reason === "no client certificate" && record.client === "127.0.0.1";
    const before = vouch.logs.filter(noCertificate).length;
    const tls13 = await sClient(vouch.port, ["-tls1_3"], "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    assert.match(tls13.output, /alert certificate required.*SSL alert number 116/);
    assert.doesNotMatch(tls13.output, /HTTP\/1\.1/);
    const tls12 = await sClient(vouch.port, ["-tls1_2"], "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    assert.match(tls12.output, /alert handshake failure.*SSL alert number 40/);
    const node = await new Promise<string>((resolve) => {
      const socket = connectTls({ host: "127.0.0.1", port: vouch.port, ca: readFileSync(trustBundle) }, () => socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"));
      socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      socket.on("data", () => resolve("answered"));
    });
    assert.equal(node, "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
    // Each refusal is logged with its reason (else this times out).
    await waitForLogs(vouch, noCertificate, before + 3);
  });

  // After the handshake node:tls can send no alert but close_notify: the check that failed is in the log.
  const refusedAfterHandshake: [string, () => { certificate: string; key: string }, string, string][] = [
    ["a revoked certificate", () => clients.revoked!, "Client Revoked", "revoked"],
    ["an expired certificate", () => clients.expired!, "Client Expired", "expired"],
    ["a certificate from another root", () => clients.otherRoot!, "foreign.example", "no-path"],
    ["a certificate without the clientAuth usage", () => clients.serverOnly!, "Server Only", "usage"],
  ];
  for (const [name, client, commonName, reason] of refusedAfterHandshake) {
    test(`${name}: openssl s_client sees close_notify before any HTTP, and the log names the check (${reason})`, async () => {
      const { output } = await sClient(vouch.port, withCertificate(client()), "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
      assert.doesNotMatch(output, /HTTP\/1\.1/);
      // close_notify: s_client reads the end of the session ("closed"), not a lost connection.
      assert.match(output, /^closed$/m);
      assert.doesNotMatch(output, /unexpected eof/);
      assert.equal(refusalReason(vouch, commonName), reason);
    });
  }
});

describe("TLS client authentication with a chain the client sends (issue 12 item 6)", () => {
  test("curl sending only its leaf is refused (no-path); sending the leaf and the unlisted client CA authenticates", async () => {
    const { bundle, certificate, key } = clientsWithChain.chained!;
    // First: once sent, the client CA stays in the certificate cache.
    const alone = await curl(vouch.port, { certificate, key });
    assert.notEqual(alone.code, 0);
    assert.equal(alone.body.length, 0);
    assert.equal(refusalReason(vouch, "Chained Client"), "no-path");
    const withChain = await curl(vouch.port, { certificate: bundle, key });
    assert.equal(withChain.code, 0, withChain.stderr);
    assert.deepEqual(certStatuses(withChain.body), ["good"]);
  });

  test("openssl s_client -cert_chain authenticates and is answered", async () => {
    const { certificate, key, intermediate } = clientsWithChain.chained!;
    const { output } = await sClient(vouch.port, ["-cert", certificate, "-key", key, "-cert_chain", intermediate, "-quiet"], "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    // A refused client is disconnected before any HTTP.
    assert.match(output, /HTTP\/1\.1 200/);
  });
});

describe("TLS client authentication, optional, with byauthentication", () => {
  test("a client with a good certificate is authorized", async () => {
    const result = await curl(optional.port, clients.good);
    assert.deepEqual(certStatuses(result.body), ["good"]);
  });

  test("a client without a certificate is served, but unauthorized", async () => {
    const result = await curl(optional.port);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(responseStatusName(result.body), "unauthorized");
  });

  test("a client with a revoked certificate is still disconnected", async () => {
    const result = await curl(optional.port, clients.revoked);
    assert.notEqual(result.code, 0);
    assert.equal(result.body.length, 0);
  });
});

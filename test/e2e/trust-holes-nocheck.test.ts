/**
 * Issue 12 item 2 from the outside: `id-pkix-ocsp-nocheck` (RFC 6960 §4.2.2.2.1) lets a client trust
 * a delegated responder without asking for its status, and nothing more. A certificate that carries
 * it, and id-kp-OCSPSigning as well, is still asked about when it authenticates a TLS client
 * (`curl --cert`, `openssl s_client`) or signs a request (`openssl ocsp -signer`): revoked is refused.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { issueExtra } from "../support/certificates.ts";
import { freePort } from "../support/free-port.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { openssl, opensslRequest } from "../support/openssl.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

/** A client certificate that is also a delegated OCSP signer with nocheck: the look of a responder's certificate. */
const NOCHECK_CLIENT = [
  "basicConstraints = critical,CA:FALSE",
  "keyUsage = critical,digitalSignature",
  "extendedKeyUsage = clientAuth,OCSPSigning",
  "1.3.6.1.5.5.7.48.1.5 = ASN1:NULL",
  "",
].join("\n");

let pki: Pki;
let vouch: VouchProcess;
let tlsPort: number;
let requestFile: string;
let trustBundle: string;
const certs: Record<"revoked" | "good", { certificate: string; key: string }> = {} as never;

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-nocheck-"));
  pki = await createPki({ dir: join(base, "pki") });
  const server = await issueExtra(pki, "tls-server", {
    commonName: "127.0.0.1",
    extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
  });
  certs.revoked = await issueExtra(pki, "nocheck-revoked", { commonName: "Nocheck Revoked", extensions: NOCHECK_CLIENT });
  certs.good = await issueExtra(pki, "nocheck-good", { commonName: "Nocheck Good", extensions: NOCHECK_CLIENT });
  await revokeCertificate(pki, certs.revoked.certificate, "keyCompromise");
  trustBundle = join(base, "bundle.pem");
  await writeFile(trustBundle, `${await readFile(pki.root, "utf8")}\n${await readFile(pki.ca, "utf8")}`);
  requestFile = join(base, "request.der");
  await writeFile(requestFile, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]));
  const intermediates = join(base, "intermediates");
  await mkdir(intermediates);
  await copyFile(pki.ca, join(intermediates, "ca.pem"));
  const issuers = `
    issuers:
      - certificate: ${pki.ca}
        signer: { certificate: ${pki.signer}, key: ${pki.signerKey} }
        sources: [{ type: index, file: ${pki.index} }]`;
  tlsPort = await freePort();
  vouch = await startVouch(`log: { level: info }
trust:
  anchors: [${pki.root}]
  # The test root publishes no CRL; the leaves' own statuses come from the CA's index.txt.
  unknownStatus: pass
  certificates: ${intermediates}
responders:
  - name: signed
    listen: { host: 127.0.0.1, port: 0 }
    requestSignature: { required: true }${issuers}
  - name: tls
    listen: { host: 127.0.0.1, port: ${tlsPort} }
    tls: { certificate: ${server.certificate}, key: ${server.key}, clientAuth: required }${issuers}
`);
});

after(async () => {
  await vouch?.stop();
});

function curl(client: { certificate: string; key: string }): Promise<{ code: number; body: Buffer; stderr: string }> {
  const args = ["-s", "-S", "--max-time", "10", "--cacert", trustBundle, "--data-binary", `@${requestFile}`, "-H", "Content-Type: application/ocsp-request"];
  args.push("--cert", client.certificate, "--key", client.key, `https://127.0.0.1:${tlsPort}/`);
  return new Promise((resolve) => {
    execFile("curl", args, { encoding: "buffer" }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, body: stdout, stderr: stderr.toString() });
    });
  });
}

function signedQuery(signer: { certificate: string; key: string }) {
  return openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.good, "-signer", signer.certificate, "-signkey", signer.key, "-CAfile", pki.root, "-verify_other", pki.ca]);
}

describe("id-pkix-ocsp-nocheck exempts nothing outside OCSP response signing", () => {
  test("TLS client authentication: a revoked certificate with nocheck is disconnected (curl)", async () => {
    const result = await curl(certs.revoked);
    assert.notEqual(result.code, 0, "curl fails");
    assert.equal(result.body.length, 0, "no OCSP answer was sent");
  });

  test("TLS client authentication: openssl s_client with it gets no HTTP answer", async () => {
    const output = await new Promise<string>((resolve) => {
      const child = execFile(
        "openssl",
        ["s_client", "-connect", `127.0.0.1:${tlsPort}`, "-cert", certs.revoked.certificate, "-key", certs.revoked.key, "-CAfile", trustBundle, "-quiet"],
        { timeout: 10_000 },
        (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
      child.stdin!.write("GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
      setTimeout(() => child.stdin!.end(), 1000);
    });
    assert.doesNotMatch(output, /HTTP\/1\.1 200/);
  });

  test("request signing: a request signed with it gets unauthorized", async () => {
    assert.match((await signedQuery(certs.revoked)).output, /Responder Error: unauthorized \(6\)/);
  });

  test("the same kind of certificate, not revoked, authenticates in both roles", async () => {
    const result = await curl(certs.good);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(certStatuses(result.body), ["good"]);
    assert.match((await signedQuery(certs.good)).stdout, /good\.pem: good/);
  });
});

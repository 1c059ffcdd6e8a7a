/**
 * Issue 12 item 2 from the outside: `id-pkix-ocsp-nocheck` (RFC 6960 §4.2.2.2.1) lets a client trust
 * a delegated responder without asking for its status, and nothing more. A certificate that carries
 * it, and id-kp-OCSPSigning as well, is still asked about when it authenticates a TLS client
 * (`curl --cert`, `openssl s_client`) or signs a request (`openssl ocsp -signer`): revoked is refused.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, revokeCertificate } from "../../src/pki/openssl-pki.ts";
import { issueExtra } from "../support/certificates.ts";
import { clientAuthSetup, type ClientAuthSetup, type KeyPair } from "../support/client-auth-setup.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

/** A client certificate that is also a delegated OCSP signer with nocheck: the look of a responder's certificate. */
const NOCHECK_CLIENT = [
  "basicConstraints = critical,CA:FALSE",
  "keyUsage = critical,digitalSignature",
  "extendedKeyUsage = clientAuth,OCSPSigning",
  "1.3.6.1.5.5.7.48.1.5 = ASN1:NULL",
  "",
].join("\n");

let setup: ClientAuthSetup;
let vouch: VouchProcess;
const certs: Record<"revoked" | "good", KeyPair> = {} as never;

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-nocheck-"));
  const pki = await createPki({ dir: join(base, "pki") });
  setup = await clientAuthSetup(pki, base);
  certs.revoked = await issueExtra(pki, "nocheck-revoked", { commonName: "Nocheck Revoked", extensions: NOCHECK_CLIENT });
  certs.good = await issueExtra(pki, "nocheck-good", { commonName: "Nocheck Good", extensions: NOCHECK_CLIENT });
  await revokeCertificate(pki, certs.revoked.certificate, "keyCompromise");
  vouch = await startVouch(
    vouchConfig({
      trust: {
        anchors: [pki.root],
        // The test root publishes no CRL; the leaves' own statuses come from the CA's index.txt.
        unknownStatus: "pass",
        certificates: setup.intermediates,
      },
      responders: setup.responders,
    }),
  );
});

after(async () => {
  await vouch?.stop();
});

const signedQuery = (signer: KeyPair) => setup.signedQuery(`${vouch.baseUrl}/`, signer);

describe("id-pkix-ocsp-nocheck exempts nothing outside OCSP response signing", () => {
  test("TLS client authentication: a revoked certificate with nocheck is disconnected (curl)", async () => {
    const result = await setup.curl(certs.revoked);
    assert.notEqual(result.code, 0, "curl fails");
    assert.equal(result.body.length, 0, "no OCSP answer was sent");
  });

  test("TLS client authentication: openssl s_client with it gets no HTTP answer", async () => {
    const output = await new Promise<string>((resolve) => {
      const child = execFile(
        "openssl",
        ["s_client", "-connect", `127.0.0.1:${setup.tlsPort}`, "-cert", certs.revoked.certificate, "-key", certs.revoked.key, "-CAfile", setup.trustBundle, "-quiet"],
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
    const result = await setup.curl(certs.good);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(certStatuses(result.body), ["good"]);
    assert.match((await signedQuery(certs.good)).stdout, /good\.pem: good/);
  });
});

/**
 * Freshness proofs cannot poison Vouch (issue 12 item 1; SPEC step 2): an attacker sends requests
 * carrying the freshness-proof extension (OID 1.3.6.1.4.1.2390.3.5), hand-built DER, unsigned, with a
 * junk signature or with a real one, whose proofs say `good` for a certificate that the issuer's own
 * `index.txt` says is revoked. The proofs are genuine signatures: by the CA key itself, by a
 * delegated signer of the CA that is itself revoked in Vouch's sources, and Vouch's own earlier
 * `good` answer replayed after the revocation. After each attempt, OTHER clients still see
 * `revoked`: `openssl ocsp` without and with a nonce, a TLS client presenting the revoked
 * certificate (another responder of the same process: same validation process), and a request
 * signed by the revoked certificate.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes, sign } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { encodeCertId } from "../../src/ocsp/cert-id.ts";
import { certificateFields } from "../../src/ocsp/certificate-fields.ts";
import { oid, sequence } from "../../src/ocsp/der-writer.ts";
import { encodeOcspRequest, encodeTbsRequest } from "../../src/ocsp/encode-request.ts";
import { freshnessProofExtension } from "../../src/ocsp/freshness-proof.ts";
import { certificateSerial, createPki, issueCertificate, readPemDer, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { CLIENT_EXTENSIONS, issueExtra } from "../support/certificates.ts";
import { certStatuses, responseStatusName } from "../support/ocsp-response.ts";
import { freePort } from "../support/free-port.ts";
import { openssl, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

interface Holder {
  readonly certificate: string;
  readonly key: string;
}

let dir: string;
let pki: Pki;
let vouch: VouchProcess;
let tlsPort: number;
let bundle: string;
let good: Holder;
let revoked: Holder;
let later: Holder;
let revokedSigner: Holder;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-poison-"));
  pki = await createPki({ dir: join(dir, "pki") });
  good = await issueExtra(pki, "requestor-good", { commonName: "Requestor Good", extensions: CLIENT_EXTENSIONS });
  revoked = await issueExtra(pki, "requestor-revoked", { commonName: "Requestor Revoked", extensions: CLIENT_EXTENSIONS });
  later = await issueExtra(pki, "requestor-later", { commonName: "Requestor Revoked Later", extensions: CLIENT_EXTENSIONS });
  await revokeCertificate(pki, revoked.certificate, "keyCompromise");
  // A delegated OCSP signer of the CA (id-kp-OCSPSigning and id-pkix-ocsp-nocheck), revoked.
  revokedSigner = { certificate: await issueCertificate(pki, "revoked-signer", { commonName: "Revoked OCSP Signer", extensions: "signer_ext" }), key: join(pki.dir, "revoked-signer.key") };
  await revokeCertificate(pki, revokedSigner.certificate, "keyCompromise");
  const server = await issueExtra(pki, "tls-server", {
    commonName: "127.0.0.1",
    extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
  });
  bundle = join(dir, "bundle.pem");
  await writeFile(bundle, `${await readFile(pki.root, "utf8")}\n${await readFile(pki.ca, "utf8")}`);
  tlsPort = await freePort();
  const rootIndex = join(dir, "root-index.txt");
  await writeFile(rootIndex, `V\t351231235959Z\t\t${(await certificateSerial(pki.ca)).padStart(2, "0")}\tunknown\t/CN=x\n`);
  vouch = await startVouch(
    vouchConfig({
      trust: { anchors: [pki.root], unknownStatus: "fail", rememberFor: "PT0S" },
      responders: [
        testResponder("identrus", [pkiIssuer(pki), { certificate: pki.root, signer: { key: pki.rootKey }, sources: [{ type: "index", file: rootIndex }] }], {
          type: "identrus-cached",
          responseCache: { issuers: [{ issuer: "*", expiresAfter: "PT1H" }] },
        }),
        testResponder("tls", [pkiIssuer(pki)], {
          listen: { host: "127.0.0.1", port: tlsPort },
          tls: { certificate: server.certificate, key: server.key, clientAuth: "required" },
        }),
      ],
    }),
  );
  await waitForLogs(vouch, (record) => record.msg === "listening" && record.tls === true);
});

after(async () => {
  await vouch?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A response about `subject` saying `good`, made by OpenSSL's responder and signed by `signer`. */
async function forgedGood(subject: string, signer: Holder): Promise<Buffer> {
  const name = join(dir, `proof-${randomBytes(4).toString("hex")}`);
  await writeFile(`${name}.index`, `V\t351231235959Z\t\t${await certificateSerial(subject)}\tunknown\t/CN=x\n`);
  await run(["ocsp", "-issuer", pki.ca, "-cert", subject, "-no_nonce", "-reqout", `${name}.req`]);
  await run(["ocsp", "-index", `${name}.index`, "-CA", pki.ca, "-rsigner", signer.certificate, "-rkey", signer.key, "-reqin", `${name}.req`, "-respout", `${name}.resp`, "-nmin", "60"]);
  return readFile(`${name}.resp`);
}

async function run(args: string[]): Promise<string> {
  const result = await openssl(args);
  assert.equal(result.code, 0, result.output);
  return result.output;
}

/**
 * Hand-built DER: a request about the good requestor carrying `proofs`, unsigned, with a junk
 * signature (random bytes under the good requestor's certificate) or really signed by it.
 * Resolves to the OCSPResponseStatus Vouch answered.
 */
async function sendProofs(proofs: Buffer[], signature: "none" | "junk" | "real"): Promise<string> {
  const caDer = await readPemDer(pki.ca);
  const requestorDer = await readPemDer(good.certificate);
  const tbs = encodeTbsRequest({ certIds: [encodeCertId("sha1", caDer, certificateFields(requestorDer).serialNumber)], extensions: [freshnessProofExtension(proofs)] });
  const ecdsaWithSha256 = sequence(oid("1.2.840.10045.4.3.2"));
  const value = signature === "real" ? sign("sha256", tbs, await readFile(good.key)) : randomBytes(71);
  const request = signature === "none" ? encodeOcspRequest(tbs) : encodeOcspRequest(tbs, { algorithmDer: ecdsaWithSha256, signature: value, certs: [requestorDer] });
  const response = await postOcsp(`${vouch.baseUrl}/`, request);
  assert.equal(response.status, 200);
  return responseStatusName(response.body);
}

/** `openssl ocsp` asking the identrus responder about `subject`, signed by `signer`; its output. */
async function ask(subject: string, signer: Holder, nonce: boolean): Promise<string> {
  const result = await openssl([
    "ocsp", "-issuer", pki.ca, "-cert", subject, "-url", `${vouch.baseUrl}/`, "-signer", signer.certificate, "-signkey", signer.key,
    "-CAfile", bundle, ...(nonce ? [] : ["-no_nonce"]),
  ]);
  return result.output;
}

/** A TLS handshake with `client`'s certificate at the tls responder: curl's exit code and what it received. */
function tlsClient(client: Holder): Promise<{ code: number; body: Buffer }> {
  const request = join(dir, "tls-request.der");
  return new Promise((resolve) => {
    execFile(
      "sh",
      ["-c", `openssl ocsp -issuer "$1" -cert "$2" -no_nonce -reqout "$3" >/dev/null && curl -s -S --max-time 10 --cacert "$4" --cert "$5" --key "$6" --data-binary @"$3" -H "Content-Type: application/ocsp-request" https://127.0.0.1:$7/`,
        "sh", pki.ca, client.certificate, request, bundle, client.certificate, client.key, String(tlsPort)],
      { encoding: "buffer" },
      (error, stdout) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, body: stdout }),
    );
  });
}

/** The status `openssl ocsp` printed for `file`, or the responder error it printed. */
function verdict(output: string, file: string): string {
  return new RegExp(`${file}: (\\w+)`).exec(output)?.[1] ?? /Responder Error: (\w+)/.exec(output)?.[1] ?? output;
}

/** What every other client must keep seeing about `victim` (revoked in index.txt); all four asked, then compared. */
async function stillRevoked(victim: Holder): Promise<void> {
  const file = victim.certificate.split("/").at(-1)!;
  const tls = await tlsClient(victim);
  const seen = {
    noNonce: verdict(await ask(victim.certificate, good, false), file),
    nonce: verdict(await ask(victim.certificate, good, true), file),
    signedByVictim: verdict(await ask(good.certificate, victim, true), "requestor-good.pem"),
    tlsClientAuth: tls.code !== 0 && tls.body.length === 0 ? "refused" : `answered ${tls.body.length > 0 ? certStatuses(tls.body).join() : ""}`,
  };
  assert.deepEqual(seen, { noNonce: "revoked", nonce: "revoked", signedByVictim: "unauthorized", tlsClientAuth: "refused" });
}

describe("freshness proofs never override the issuer's own index", () => {
  test("before any attempt: revoked is revoked for every client, good authenticates", async () => {
    await stillRevoked(revoked);
    assert.match(await ask(good.certificate, good, false), /requestor-good\.pem: good/);
    const tls = await tlsClient(good);
    assert.equal(tls.code, 0);
    assert.deepEqual(certStatuses(tls.body), ["good"]);
  });

  test("a `good` signed by the CA key itself, unsigned, junk-signed and really signed: others still get revoked", async () => {
    const proof = await forgedGood(revoked.certificate, { certificate: pki.ca, key: pki.caKey });
    assert.equal(await sendProofs([proof], "none"), "sigRequired");
    assert.equal(await sendProofs([proof], "junk"), "unauthorized");
    assert.equal(await sendProofs([proof], "real"), "successful");
    await stillRevoked(revoked);
  });

  test("a `good` signed by a delegated signer that the index says is revoked: others still get revoked", async () => {
    const proof = await forgedGood(revoked.certificate, revokedSigner);
    assert.equal(await sendProofs([proof], "junk"), "unauthorized");
    assert.equal(await sendProofs([proof], "real"), "successful");
    await stillRevoked(revoked);
  });

  test("Vouch's own earlier `good`, replayed after the revocation: others get revoked", async () => {
    const before = await openssl(["ocsp", "-issuer", pki.ca, "-cert", later.certificate, "-url", `${vouch.baseUrl}/`, "-signer", good.certificate, "-signkey", good.key,
      "-no_nonce", "-CAfile", bundle, "-respout", join(dir, "earlier.der")]);
    assert.match(before.output, /requestor-later\.pem: good/);
    const earlier = await readFile(join(dir, "earlier.der"));
    const reloads = vouch.logs.filter(withMessage("index reloaded")).length;
    await revokeCertificate(pki, later.certificate, "keyCompromise");
    await waitForLogs(vouch, withMessage("index reloaded"), reloads + 1);
    // The cached `good` is older than the revocation the index now knows: never served again.
    await stillRevoked(later);
    assert.equal(await sendProofs([earlier], "junk"), "unauthorized");
    assert.equal(await sendProofs([earlier], "real"), "successful");
    await stillRevoked(later);
  });
});

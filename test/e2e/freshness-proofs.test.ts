/**
 * Identrus freshness proofs end to end (SPEC steps 2, 3 and 8, §4), and `vouch query` against
 * OpenSSL's responder and against a Vouch. An identrus-cached Vouch serves PKI A; its requestor is
 * from another hierarchy (Client Root → Client CA → requestor) whose statuses Vouch's own sources do
 * not know (`unknownStatus: fail`). Proofs come from OpenSSL's responder (`openssl ocsp -index …
 * -port 0`, for the Client CA) and from a second Vouch (for the Client Root), fetched with
 * `vouch query --no-nonce --out`, and are attached with `vouch query --sign … --freshness-proof …`.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { encodeCertId } from "../../src/ocsp/cert-id.ts";
import { certificateFields } from "../../src/ocsp/certificate-fields.ts";
import { decodeOcspResponse } from "../../src/ocsp/decode-response.ts";
import { encodeBasicOcspResponse, encodeResponseData } from "../../src/ocsp/encode-response.ts";
import { id_identrus_freshness_proof } from "../../src/ocsp/oids.ts";
import { responderIdByKey } from "../../src/ocsp/responder-id.ts";
import { certificateSerial, createPki, openssl as runOpenssl, type Pki } from "../../src/pki/openssl-pki.ts";
import { proofFixture, type ProofFixture } from "../../src/responses/test-support/proof-fixture.ts";
import { keyFileSigner } from "../../src/signing/key-file-signer.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { EXT, type Made } from "../../src/trust/test-support/openssl-certificates.ts";
import { openssl } from "../support/openssl.ts";
import { startOpensslResponder } from "../support/openssl-responder.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";

let dir: string;
let server: Pki;
let client: ProofFixture;
let revokedRequestor: Made;
let opensslResponder: { url: string; stop: () => Promise<void> };
let rootVouch: VouchProcess;
let identrus: VouchProcess;

/** An OpenSSL CA database line for `made` (V, or R with keyCompromise). */
function indexLine(made: Made, revoked = false): string {
  const serial = made.serial.toUpperCase();
  return revoked ? `R\t351231235959Z\t240101000000Z,keyCompromise\t${serial}\tunknown\t/CN=x\n` : `V\t351231235959Z\t\t${serial}\tunknown\t/CN=x\n`;
}


/** `vouch query`, failing the test when it cannot run at all (exit 2: a usage error). */
async function query(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const result = await runVouch(["query", ...args], { timeoutMs: 30_000 });
  assert.notEqual(result.code, 2, `vouch query usage error: ${result.stderr}`);
  return result;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-freshness-"));
  [server, client] = await Promise.all([createPki({ dir: join(dir, "server") }), proofFixture()]);
  revokedRequestor = await client.maker.issue("requestor-revoked", client.ca, { subject: "/C=SE/O=Proof/CN=Revoked Requestor", extensions: EXT.leaf });
  await writeFile(join(dir, "client-ca-index.txt"), indexLine(client.requestor) + indexLine(revokedRequestor, true));
  await writeFile(join(dir, "client-root-index.txt"), indexLine(client.ca));
  const serverCaSerial = (await certificateSerial(server.ca)).padStart(2, "0");
  await writeFile(join(dir, "server-root-index.txt"), `V\t351231235959Z\t\t${serverCaSerial}\tunknown\t/CN=x\n`);

  opensslResponder = await startOpensslResponder({ index: join(dir, "client-ca-index.txt"), ca: client.ca.pem, signer: client.responder.pem, key: client.responder.key, validity: ["-nmin", "60"] });
  rootVouch = await startVouch(
    vouchConfig({
      responders: [testResponder("client-root", [{ certificate: client.root.pem, signer: { key: client.root.key }, sources: [{ type: "index", file: join(dir, "client-root-index.txt") }] }])],
    }),
  );
  identrus = await startVouch(
    vouchConfig({
      trust: { anchors: [server.root, client.root.pem], unknownStatus: "fail", rememberFor: "PT0S" },
      responders: [
        testResponder(
          "identrus",
          [pkiIssuer(server), { certificate: server.root, signer: { key: server.rootKey }, sources: [{ type: "index", file: join(dir, "server-root-index.txt") }] }],
          {
            type: "identrus-cached",
            responseCache: { issuers: [{ issuer: "*", expiresAfter: "PT1H" }] },
            freshnessProofs: { maxAge: "PT1H", ownChainMaxAge: "PT1H", refreshInterval: "PT5M" },
          },
        ),
      ],
    }),
  );
});

after(async () => {
  await Promise.all([identrus?.stop(), rootVouch?.stop(), opensslResponder?.stop()]);
  await client?.maker.remove();
  await rm(dir, { recursive: true, force: true });
});

/** A signed request from `requestor` about the server's good certificate, with these proof files. */
function askIdentrus(requestor: Made, proofs: string[], out?: string) {
  return query([
    "--url", `${identrus.baseUrl}/`, "--issuer", server.ca, "--cert", server.good, "--trust", server.root,
    "--sign", requestor.pem, "--sign-key", requestor.key, "--sign-chain", client.ca.pem,
    ...proofs.flatMap((file) => ["--freshness-proof", file]),
    ...(out === undefined ? [] : ["--out", out]),
  ]);
}

describe("vouch query", () => {
  test("against OpenSSL's responder: good with a matched nonce (POST and GET), revoked with its reason", async () => {
    const good = await query(["--url", opensslResponder.url, "--issuer", client.ca.pem, "--cert", client.requestor.pem, "--trust", client.root.pem]);
    assert.equal(good.code, 0, good.stdout);
    assert.match(good.stdout, /requestor\.pem: good\n {2}this update \S+Z, next update \S+Z/);
    assert.match(good.stdout, /Signature: verified, signed by .*CN=Client CA OCSP/);
    assert.match(good.stdout, /Issuer: trusted/);
    assert.match(good.stdout, /Nonce: matched/);
    const revoked = await query(["--url", opensslResponder.url, "--get", "--hash", "sha256", "--issuer", client.ca.pem, "--serial", revokedRequestor.serial]);
    assert.equal(revoked.code, 0, revoked.stdout);
    assert.match(revoked.stdout, /: revoked at 2024-01-01T00:00:00\.000Z, reason keyCompromise/);
  });

  test("against a Vouch, and a response that does not verify exits 1", async () => {
    const ca = await query(["--url", `${rootVouch.baseUrl}/`, "--issuer", client.root.pem, "--cert", client.ca.pem, "--no-nonce"]);
    assert.equal(ca.code, 0, ca.stdout);
    assert.match(ca.stdout, /ca\.pem: good/);
    assert.match(ca.stdout, /Nonce: none sent/);
    // Asked as if the Client CA had issued it, the answer is signed by a key the named issuer never authorized.
    const wrongIssuer = await query(["--url", `${rootVouch.baseUrl}/`, "--issuer", client.ca.pem, "--serial", "01"]);
    assert.equal(wrongIssuer.code, 1, wrongIssuer.stdout);
    assert.match(wrongIssuer.stdout, /Signature: NOT VERIFIED/);
    // A usage error is exit 2, never mistaken for a bad answer.
    const usage = await runVouch(["query", "--issuer", client.ca.pem, "--serial", "not-hex"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--serial: "not-hex" is not a hexadecimal serial number/);
  });
});

describe("freshness proofs at an identrus-cached responder", () => {
  let leafProof: string;
  let caProof: string;
  before(async () => {
    leafProof = join(dir, "leaf-proof.der");
    caProof = join(dir, "ca-proof.der");
    const leaf = await query(["--url", opensslResponder.url, "--issuer", client.ca.pem, "--cert", client.requestor.pem, "--no-nonce", "--out", leafProof]);
    const ca = await query(["--url", `${rootVouch.baseUrl}/`, "--issuer", client.root.pem, "--cert", client.ca.pem, "--no-nonce", "--out", caProof]);
    assert.equal(leaf.code, 0, leaf.stdout);
    assert.equal(ca.code, 0, ca.stdout);
  });

  test("without a proof the requestor cannot be authenticated: unauthorized", async () => {
    const result = await askIdentrus(client.requestor, []);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /Response status: unauthorized/);
  });

  test("a stale proof, or one signed by the wrong key, is not used: unauthorized", async () => {
    const stale = join(dir, "stale-proof.der");
    await writeFile(stale, await staleProof(client.requestor, client.ca, 2 * 3_600_000));
    assert.match((await askIdentrus(client.requestor, [stale, caProof])).stdout, /Response status: unauthorized/);
    await logged("freshness proof ignored", (record) => record.reason === "too-old");
    const forged = join(dir, "forged-proof.der");
    await runOpenssl(["ocsp", "-index", join(dir, "client-ca-index.txt"), "-CA", client.ca.pem, "-rsigner", client.stranger.pem, "-rkey", client.stranger.key,
      "-issuer", client.ca.pem, "-cert", client.requestor.pem, "-respout", forged, "-nmin", "60"]);
    assert.match((await askIdentrus(client.requestor, [forged, caProof])).stdout, /Response status: unauthorized/);
    await logged("freshness proof ignored", (record) => record.reason === "unauthorized-signer");
  });

  test("a proof that says revoked: unauthorized", async () => {
    const revokedProof = join(dir, "revoked-proof.der");
    await query(["--url", opensslResponder.url, "--issuer", client.ca.pem, "--cert", revokedRequestor.pem, "--no-nonce", "--out", revokedProof]);
    const result = await askIdentrus(revokedRequestor, [revokedProof, caProof]);
    assert.match(result.stdout, /Response status: unauthorized/);
    // Refused because the proof says revoked, not for want of a status.
    await logged("request refused", (record) => /Revoked Requestor.* revoked at 2024-01-01T00:00:00\.000Z \(keyCompromise\)/.test(String(record.reason)));
  });

  test("good proofs for the requestor's chain: answered, with proofs for the responder's own chain that openssl still verifies", async () => {
    const out = join(dir, "identrus-response.der");
    const result = await askIdentrus(client.requestor, [leafProof, caProof], out);
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /good\.pem: good/);
    assert.match(result.stdout, /Signature: verified/);
    assert.match(result.stdout, /Nonce: matched/);
    // Own chain: the delegated signer (answered by the served CA) and the CA (answered by the served root).
    // Serials as `openssl x509 -serial` prints them.
    const signerSerial = await certificateSerial(server.signer);
    assert.match(result.stdout, new RegExp(`Freshness proof: 2 responses\\n {2}serial ${signerSerial}: good, .*\\n {2}serial 02: good`));

    const verified = await openssl(["ocsp", "-no_nonce", "-respin", out, "-CAfile", server.root, "-issuer", server.ca, "-cert", server.good, "-resp_text"]);
    assert.match(verified.output, /Response verify OK/);
    assert.match(verified.output, /good\.pem: good/);
    assert.match(verified.output, /1\.3\.6\.1\.4\.1\.2390\.3\.5/);

    const decoded = decodeOcspResponse(await readFile(out));
    const extension = decoded.status === "successful" ? decoded.basic.extensions.find((candidate) => candidate.oid === id_identrus_freshness_proof) : undefined;
    assert.ok(extension !== undefined);
    assert.equal(extension.critical, false);
    const proofFile = join(dir, "own-chain-proof.der");
    await writeFile(proofFile, extension.value);
    const parsed = await openssl(["asn1parse", "-inform", "DER", "-in", proofFile, "-i"]);
    const lines = parsed.stdout.split("\n");
    assert.match(lines[0]!, /d=0 .* cons: SEQUENCE/);
    assert.match(lines[1]!, /d=1 .* cons: {2}SEQUENCE/);
    assert.match(lines[2]!, /d=2 .* prim: {3}ENUMERATED\s+:00/);
    assert.equal(parsed.stdout.match(/OBJECT\s+:Basic OCSP Response/g)?.length, 2);
  });

  test("a proof counts for its own request only: the same requestor without proofs right after is unauthorized again", async () => {
    assert.equal((await askIdentrus(client.requestor, [leafProof, caProof])).code, 0);
    const without = await askIdentrus(client.requestor, []);
    assert.match(without.stdout, /Response status: unauthorized/);
  });
});

/** Waits for the identrus Vouch to log `message` with fields that `matches`. */
function logged(message: string, matches: (record: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return waitUntil(`a "${message}" log line`, () => identrus.logs.find((record) => record.msg === message && matches(record)));
}

/** A correctly signed response from `issuer` about `subject`, good, whose thisUpdate is `ageMs` old. */
async function staleProof(subject: Made, issuer: Made, ageMs: number): Promise<Buffer> {
  const signer = await keyFileSigner({ keyFile: issuer.key, certificate: issuer.der, rsaPadding: "pkcs1", field: "key" });
  const now = Math.floor(Date.now() / 1000) * 1000;
  const tbs = encodeResponseData({
    responderIdDer: responderIdByKey(certificateFields(issuer.der)),
    producedAt: new Date(now - ageMs),
    responses: [
      {
        certIdDer: encodeCertId("sha1", issuer.der, certificateFields(subject.der).serialNumber),
        status: { kind: "good" },
        thisUpdate: new Date(now - ageMs),
        nextUpdate: new Date(now + 3_600_000),
        invalidityDate: undefined,
        extensions: [],
      },
    ],
    extensions: [],
  });
  const algorithm = signer.algorithms[0]!;
  return encodeBasicOcspResponse(tbs, algorithm.identifier.der, await signer.sign(tbs, algorithm), [issuer.der]);
}

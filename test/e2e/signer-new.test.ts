/**
 * End to end (issue 15, "new keys"): `vouch signer new` for a directory signer with an encrypted
 * key and for a key on a SoftHSM2 token. `openssl req -verify` accepts each request, `openssl ca`
 * issues from it, and the issued signer then signs: dropped into the running server's directory
 * (no restart), or configured with its token key. Also an ML-DSA-65 key on request (the request
 * verified by Node and @noble/post-quantum) and the errors a user can make.
 */
import assert from "node:assert/strict";
import { X509Certificate, createPublicKey, verify } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { DerReader, TAG } from "../../src/ocsp/der-reader.ts";
import { certificateSerial, createPki, openssl as opensslOrThrow, readPemDer, type Pki } from "../../src/pki/openssl-pki.ts";
import { openssl } from "../support/openssl.ts";
import { ocspRequest, opensslVerifiesGood, untilSignedBy } from "../support/signers.ts";
import { privateSoftHsm, type SoftHsm } from "../support/softhsm.ts";
import { pkiIssuer, pkiSigner, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch } from "../support/vouch-process.ts";

const PASSPHRASE = "rollover passphrase";
const PIN = "1357";
let pki: Pki;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-signer-new-"));
  pki = await createPki({ dir: join(dir, "pki") });
  await writeFile(join(dir, "passphrase.txt"), `${PASSPHRASE}\n`);
});

/** The `name: value` lines `vouch signer new` prints. */
function printed(stdout: string, what: "key" | "request"): string {
  const line = stdout.split("\n").find((candidate) => candidate.startsWith(`${what}:`));
  assert.ok(line !== undefined, stdout);
  return line;
}

/** `openssl req -verify` accepts the request, and it asks for the delegated responder profile. */
async function opensslAcceptsRequest(csr: string, subject: RegExp): Promise<void> {
  const verified = await openssl(["req", "-in", csr, "-verify", "-noout", "-text"]);
  assert.match(verified.output, /verify OK/, verified.output);
  assert.match(verified.output, subject);
  assert.match(verified.output, /Extended Key Usage: *\n *OCSP Signing/);
  assert.match(verified.output, /OCSP No Check/);
}

/** `openssl ca` issues the request with the PKI's OCSP signer profile into `certificate`. */
async function issue(csr: string, certificate: string): Promise<string> {
  await opensslOrThrow(["ca", "-batch", "-config", pki.opensslConfig, "-in", csr, "-out", certificate, "-notext", "-extensions", "signer_ext"]);
  return new X509Certificate(await readPemDer(certificate)).serialNumber.toUpperCase();
}

/** Asks until the response is signed by `serial`, then has `openssl ocsp` verify that response. */
async function signedBy(url: string, serial: string): Promise<void> {
  const goodSerial = await certificateSerial(pki.good);
  await opensslVerifiesGood(pki, await untilSignedBy(url, ocspRequest(await readPemDer(pki.ca), goodSerial), serial), goodSerial);
}

describe("vouch signer new for a directory signer", () => {
  let signers: string;
  let configFile: string;

  before(async () => {
    signers = join(dir, "signers");
    await mkdir(signers);
    await opensslOrThrow(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", pki.signerKey, "-out", join(signers, "current.key"), "-passout", `pass:${PASSPHRASE}`]);
    await copyFile(pki.signer, join(signers, "current.pem"));
    configFile = join(dir, "vouch.yaml");
    await writeFile(configFile, config({ directory: signers, passphrase: { file: join(dir, "passphrase.txt") }, pollInterval: "PT1S" }));
  });

  /** One responder answering for the PKI's CA, signed for by `signer`. */
  const config = (signer: YamlFields) => vouchConfig({ responders: [testResponder("new", [pkiIssuer(pki, { signer })])] });

  test("writes an encrypted key of the current signer's algorithm and a request openssl verifies and issues; the certificate dropped beside it signs without a restart", async () => {
    const vouch = await startVouch(await readFile(configFile, "utf8"));
    try {
      const result = await runVouch(["signer", "new", "--config", configFile, "--issuer", "Vouch Demo Issuing CA", "--name", "next"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(printed(result.stdout, "key"), new RegExp(`${join(signers, "next.key")} \\(ecdsa-p256, encrypted with the signer's passphrase\\)`));
      assert.match(printed(result.stdout, "request"), /subject C=SE, O=Vouch Demo, CN=Vouch Demo OCSP Signer/);
      assert.match(await readFile(join(signers, "next.key"), "utf8"), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      await opensslAcceptsRequest(join(signers, "next.csr"), /Subject: C ?= ?SE, O ?= ?Vouch Demo, CN ?= ?Vouch Demo OCSP Signer/);
      const serial = await issue(join(signers, "next.csr"), join(dir, "next-issued.pem"));
      await copyFile(join(dir, "next-issued.pem"), join(signers, "next.pem"));
      await signedBy(vouch.baseUrl, serial);
    } finally {
      await vouch.stop();
    }
  });

  test("--algorithm ml-dsa-65 makes a post-quantum key whose request Node and @noble/post-quantum verify", async () => {
    const out = await mkdtemp(join(dir, "ml-dsa-"));
    const result = await runVouch(["signer", "new", "--config", configFile, "--issuer", "C=SE, O=Vouch Demo, CN=Vouch Demo Issuing CA", "--algorithm", "ml-dsa-65", "--out", out, "--name", "pq"]);
    assert.equal(result.code, 0, result.stderr);
    const csr = await readPemDer(join(out, "pq.csr"));
    const outer = DerReader.of(csr, "CertificationRequest").enterNext(TAG.SEQUENCE, "CertificationRequest");
    const info = outer.whole(outer.next());
    const algorithm = outer.whole(outer.next());
    const signature = outer.content(outer.expect(TAG.BIT_STRING, "signature")).subarray(1);
    assert.equal(algorithm.toString("hex"), "300b0609608648016503040312");
    const spki = DerReader.of(info, "info").enterNext(TAG.SEQUENCE, "info");
    spki.next();
    spki.next();
    const publicKey = createPublicKey({ key: spki.whole(spki.next()), format: "der", type: "spki" });
    assert.equal(publicKey.asymmetricKeyType, "ml-dsa-65");
    assert.ok(verify(null, info, publicKey, signature), "Node verifies the request");
    const raw = publicKey.export({ type: "spki", format: "der" }).subarray(-1952);
    assert.ok(ml_dsa65.verify(signature, info, raw), "@noble/post-quantum verifies the request");
  });

  test("user errors: an unknown issuer, an unknown algorithm, a file signer without --out, an existing file", async () => {
    const unknown = await runVouch(["signer", "new", "--config", configFile, "--issuer", "Nobody CA"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^vouch: --issuer: no issuer "Nobody CA" in the configuration \(it serves "Vouch Demo Issuing CA"\)/);
    const badAlgorithm = await runVouch(["signer", "new", "--config", configFile, "--issuer", "Vouch Demo Issuing CA", "--algorithm", "dsa-1024"]);
    assert.match(badAlgorithm.stderr, /^vouch: --algorithm: must be one of rsa-2048, /);
    const fileConfig = join(dir, "file-signer.yaml");
    await writeFile(fileConfig, config(pkiSigner(pki)));
    const noOut = await runVouch(["signer", "new", "--config", fileConfig, "--issuer", "Vouch Demo Issuing CA"]);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /^vouch: --out: responders\[0\]\.issuers\[0\]\.signer is not a directory signer/);
    const again = await runVouch(["signer", "new", "--config", configFile, "--issuer", "Vouch Demo Issuing CA", "--name", "next"]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /next\.key: cannot write \(EEXIST\)/);
  });
});

describe("vouch signer new --pkcs11 on a SoftHSM2 token", () => {
  let hsm: SoftHsm;
  let configFile: string;
  let pinFile: string;

  before(async () => {
    hsm = await privateSoftHsm();
    pinFile = join(hsm.dir, "pin");
    await writeFile(pinFile, `${PIN}\n`);
    await hsm.initToken("rollover", PIN);
    await hsm.importKey("rollover", PIN, pki.signerKey, "current", "01");
    configFile = join(hsm.dir, "vouch.yaml");
    await writeFile(configFile, tokenConfig(pki.signer, { key: "current" }));
  });

  /** One responder whose signer is `certificate` with its key on the token, named by `key` (label, and id when given). */
  const tokenConfig = (certificate: string, key: YamlFields) =>
    vouchConfig({ responders: [testResponder("token", [pkiIssuer(pki, { signer: { certificate, pkcs11: { module: hsm.module, token: "rollover", ...key, pin: { file: pinFile } } } })])] });

  test("makes the key on the token and a request the token key signed; openssl verifies and issues it; the new token signer signs", async () => {
    const out = await mkdtemp(join(hsm.dir, "out-"));
    const result = await runVouch(["signer", "new", "--config", configFile, "--issuer", "Vouch Demo Issuing CA", "--pkcs11", "--out", out, "--name", "next", "--key-id", "0a0b"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(printed(result.stdout, "key"), /on token "rollover", label "next", id 0a0b \(ecdsa-p256; it never leaves the token\)/);
    await opensslAcceptsRequest(join(out, "next.csr"), /Subject: C ?= ?SE, O ?= ?Vouch Demo, CN ?= ?Vouch Demo OCSP Signer/);
    const certificate = join(out, "next.pem");
    const serial = await issue(join(out, "next.csr"), certificate);
    const vouch = await startVouch(
      tokenConfig(certificate, { key: "next", id: "0a0b" }),
    );
    try {
      await signedBy(vouch.baseUrl, serial);
    } finally {
      await vouch.stop();
    }
  });
});

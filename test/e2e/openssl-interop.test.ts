/**
 * End to end: the real `vouch serve` process on loopback, queried by `openssl ocsp`, a client nobody
 * here wrote. Each assertion is on what openssl prints.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, certificateSerial, type Pki } from "../../src/pki/openssl-pki.ts";
import { openssl } from "../support/openssl.ts";
import { pkiIssuer, pkiSigner, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

let vouch: VouchProcess;
let ec: Pki; // P-256 CA and delegated signer
let rsa: Pki; // RSA-2048 CA and delegated signer
let pss: Pki; // P-256 CA, RSA-PSS delegated signer
let ed: Pki; // Ed25519 CA and delegated signer

function issuer(pki: Pki, signer: "delegated" | "ca", signerFields: YamlFields = {}): YamlFields {
  return pkiIssuer(pki, {
    signer: signer === "delegated" ? pkiSigner(pki, signerFields) : { key: pki.caKey, ...signerFields },
    sources: [{ type: "index", file: pki.index }, { type: "crl", files: [pki.crl] }],
  });
}

function responder(name: string, path: string, issuers: YamlFields[], fields: YamlFields = {}): YamlFields {
  return testResponder(name, issuers, { path, ...fields });
}

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-interop-"));
  [ec, rsa, pss, ed] = await Promise.all([
    createPki({ dir: join(base, "ec"), caKeyType: "ecdsa-p256" }),
    createPki({ dir: join(base, "rsa"), caKeyType: "rsa-2048" }),
    createPki({ dir: join(base, "pss"), caKeyType: "ecdsa-p256", signerKeyType: "rsa-pss-2048" }),
    createPki({ dir: join(base, "ed"), caKeyType: "ed25519" }),
  ]);
  vouch = await startVouch(
    vouchConfig({
      responders: [
        responder("two-issuers", "/", [issuer(ec, "delegated"), issuer(rsa, "delegated")]),
        responder("rsa", "/rsa", [issuer(rsa, "delegated")]),
        responder("rsa-pss-padding", "/rsa-pss-padding", [issuer(rsa, "delegated", { rsaPadding: "pss" })]),
        responder("pss", "/pss", [issuer(pss, "delegated")]),
        responder("ed25519", "/ed25519", [issuer(ed, "delegated")]),
        responder("ca-signed", "/ca-signed", [issuer(ec, "ca")]),
        responder("by-name", "/by-name", [issuer(ec, "delegated")], { responderId: "byName", includeChain: true }),
      ],
    }),
  );
});

after(async () => {
  await vouch?.stop();
});

/** `openssl ocsp` against a responder path, trusting the PKI's root (the CA comes with -verify_other). */
function ask(path: string, pki: Pki, certs: string[], extra: string[] = []) {
  return openssl([
    "ocsp",
    "-url",
    `${vouch.baseUrl}${path}`,
    "-issuer",
    pki.ca,
    // openssl wants the CertID digest (-sha256 …) before the -cert it applies to.
    ...extra,
    ...certs.flatMap((cert) => ["-cert", cert]),
    "-CAfile",
    pki.root,
    "-verify_other",
    pki.ca,
  ]);
}

describe("openssl ocsp against vouch serve", () => {
  test("a good certificate is good and the response verifies", async () => {
    const result = await ask("/", ec, [ec.good]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.stdout, new RegExp(`${escape(ec.good)}: good`));
  });

  test("a revoked certificate is revoked, with its time and reason keyCompromise", async () => {
    const result = await ask("/", ec, [ec.revoked]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.stdout, new RegExp(`${escape(ec.revoked)}: revoked`));
    assert.match(result.stdout, /Reason: keyCompromise/);
    const time = /Revocation Time: (.+)/.exec(result.stdout)?.[1];
    assert.ok(time !== undefined, result.stdout);
    assert.ok(Math.abs(Date.parse(time) - Date.now()) < 10 * 60_000, `revocation time ${time} is the time of revocation`);
  });

  test("a certificate from an issuer vouch does not serve is unknown", async () => {
    const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", ec.foreignCa, "-cert", ec.foreign, "-VAfile", ec.signer, "-resp_text"]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.stdout, new RegExp(`${escape(ec.foreign)}: unknown`));
  });

  test("three certificates from two issuers in one request are each answered", async () => {
    // One response for two CAs carries one signature; openssl accepts it when the signer is trusted
    // explicitly (-VAfile), since no single CA can have authorised it for both (RFC 6960 §4.2.2.2).
    const result = await openssl([
      "ocsp", "-url", `${vouch.baseUrl}/`,
      "-issuer", ec.ca, "-cert", ec.good, "-cert", ec.revoked,
      "-issuer", rsa.ca, "-cert", rsa.good,
      "-VAfile", ec.signer,
    ]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.stdout, new RegExp(`${escape(ec.good)}: good`));
    assert.match(result.stdout, new RegExp(`${escape(ec.revoked)}: revoked`));
    assert.match(result.stdout, new RegExp(`${escape(rsa.good)}: good`));
  });

  test("SHA-256, SHA-384 and SHA-512 CertIDs are answered and echoed", async () => {
    for (const digest of ["-sha256", "-sha384", "-sha512"]) {
      const result = await ask("/", ec, [ec.revoked], [digest, "-resp_text"]);
      assert.match(result.output, /Response verify OK/, digest);
      assert.match(result.stdout, new RegExp(`${escape(ec.revoked)}: revoked`), digest);
      const algorithm = { "-sha256": "sha256", "-sha384": "sha384", "-sha512": "sha512" }[digest];
      assert.match(result.stdout, new RegExp(`Hash Algorithm: ${algorithm}`), digest);
    }
  });

  test("the nonce is echoed, and -no_nonce gets a response without one", async () => {
    const withNonce = await ask("/", ec, [ec.good], ["-resp_text"]);
    assert.match(withNonce.stdout, /OCSP Nonce:/);
    assert.doesNotMatch(withNonce.output, /WARNING: no nonce in response/);
    const without = await ask("/", ec, [ec.good], ["-no_nonce", "-resp_text"]);
    assert.match(without.output, /Response verify OK/);
    assert.doesNotMatch(without.stdout, /OCSP Nonce:/);
  });

  test("the response verifies with -VAfile (the signer trusted directly)", async () => {
    const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", ec.ca, "-cert", ec.good, "-VAfile", ec.signer]);
    assert.match(result.output, /Response verify OK/);
  });

  test("RSA (PKCS#1 v1.5), RSA-PSS, RSA key with PSS padding and Ed25519 signers all verify", async () => {
    const cases: [string, Pki, RegExp][] = [
      ["/rsa", rsa, /Signature Algorithm: sha256WithRSAEncryption/],
      ["/rsa-pss-padding", rsa, /Signature Algorithm: rsassaPss/],
      ["/pss", pss, /Signature Algorithm: rsassaPss/],
      ["/ed25519", ed, /Signature Algorithm: ED25519/],
      ["/", ec, /Signature Algorithm: ecdsa-with-SHA256/],
    ];
    for (const [path, pki, algorithm] of cases) {
      const result = await ask(path, pki, [pki.good, pki.revoked], ["-resp_text"]);
      assert.match(result.output, /Response verify OK/, path);
      assert.match(result.stdout, algorithm, path);
      assert.match(result.stdout, new RegExp(`${escape(pki.good)}: good`), path);
      assert.match(result.stdout, new RegExp(`${escape(pki.revoked)}: revoked`), path);
    }
  });

  test("a CA that signs its own responses is accepted without a delegated certificate", async () => {
    const result = await ask("/ca-signed", ec, [ec.good], ["-resp_text"]);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.stdout, /Responder Id: .*CN ?= ?Vouch Demo Issuing CA|Responder Id: [0-9A-F]{40}/);
    assert.match(result.stdout, new RegExp(`${escape(ec.good)}: good`));
  });

  test("responderID byName names the signer, and includeChain adds the CA certificate", async () => {
    const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/by-name`, "-issuer", ec.ca, "-cert", ec.good, "-CAfile", ec.root, "-resp_text"]);
    assert.match(result.output, /Response verify OK/, "the CA comes from the response's certs, not from -verify_other");
    assert.match(result.stdout, /Responder Id: C ?= ?SE, O ?= ?Vouch Demo, CN ?= ?Vouch Demo OCSP Signer/);
  });

  test("the serial numbers openssl prints are the ones in index.txt", async () => {
    const serial = await certificateSerial(ec.good);
    const result = await ask("/", ec, [ec.good], ["-resp_text"]);
    assert.match(result.stdout, new RegExp(`Serial Number: ${serial}`, "i"));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

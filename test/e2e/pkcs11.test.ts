/**
 * End to end: `vouch serve` signing with keys on a SoftHSM2 token that this test initialises,
 * queried by `openssl ocsp`; the token pulled out mid-run and put back; start-up errors.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createPki, openssl as runOpenssl, type Pki } from "../../src/pki/openssl-pki.ts";
import { openssl } from "../support/openssl.ts";
import { privateSoftHsm, type SoftHsm } from "../support/softhsm.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";

const PIN = "2468";
let hsm: SoftHsm;
let rsa: Pki;
let ec: Pki;
let pinFile: string;
let vouch: VouchProcess;
let generated: string; // a delegated signer certificate for an RSA key generated on the token

/** An RSA-2048 key pair made on the token (never outside it), and a delegated responder certificate for it from the EC PKI's CA. */
async function certifyKeyGeneratedOnToken(): Promise<string> {
  const publicKey = join(hsm.dir, "generated.pub.pem");
  await writeFile(publicKey, await hsm.generateKey("ocsp", PIN, "rsa:2048", "generated", "04"));
  // openssl x509 -req wants a CSR; any key signs it, -force_pubkey puts the token's key in the certificate.
  const csr = join(hsm.dir, "generated.csr");
  const certificate = join(hsm.dir, "generated.pem");
  await runOpenssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(hsm.dir, "throwaway.key"), "-subj", "/CN=Token-generated OCSP signer", "-out", csr]);
  await runOpenssl(["x509", "-req", "-in", csr, "-force_pubkey", publicKey, "-CA", ec.ca, "-CAkey", ec.caKey, "-set_serial", "77", "-days", "30",
    "-extfile", ec.opensslConfig, "-extensions", "signer_ext", "-out", certificate]);
  return certificate;
}

/** An issuer of `pki` whose delegated signer's key is `key` on `token`; `pkcs11` and `signer` replace or add fields. */
function pkcs11Issuer(pki: Pki, token: string, key: string, pkcs11: YamlFields = {}, signer: YamlFields = {}): YamlFields {
  return pkiIssuer(pki, { signer: { certificate: pki.signer, ...signer, pkcs11: { module: hsm.module, token, key, pin: { file: pinFile }, ...pkcs11 } } });
}

function config(responders: [name: string, path: string, issuer: YamlFields][]): string {
  return vouchConfig({ responders: responders.map(([name, path, issuer]) => testResponder(name, [issuer], { path })) });
}

before(async () => {
  hsm = await privateSoftHsm();
  pinFile = join(hsm.dir, "pin");
  await writeFile(pinFile, `${PIN}\n`);
  [rsa, ec] = await Promise.all([createPki({ dir: join(hsm.dir, "rsa"), caKeyType: "rsa-2048" }), createPki({ dir: join(hsm.dir, "ec"), caKeyType: "ecdsa-p256" })]);
  await hsm.initToken("ocsp", PIN);
  await hsm.initToken("flaky", PIN);
  await hsm.importKey("ocsp", PIN, rsa.signerKey, "rsa-signer", "01");
  await hsm.importKey("ocsp", PIN, ec.signerKey, "ec-signer", "02");
  await hsm.importKey("ocsp", PIN, ec.caKey, "ec-ca", "03");
  await hsm.importKey("flaky", PIN, ec.signerKey, "ec-signer", "02");
  generated = await certifyKeyGeneratedOnToken();
  vouch = await startVouch(
    config([
      ["rsa", "/rsa", pkcs11Issuer(rsa, "ocsp", "rsa-signer")],
      ["rsa-pss", "/rsa-pss", pkcs11Issuer(rsa, "ocsp", "rsa-signer", {}, { rsaPadding: "pss" })],
      ["ec", "/ec", pkcs11Issuer(ec, "ocsp", "ec-signer")],
      ["flaky", "/flaky", pkcs11Issuer(ec, "flaky", "ec-signer", { retryInterval: "PT0.2S" })],
      ["generated", "/generated", pkcs11Issuer(ec, "ocsp", "generated", {}, { certificate: generated })],
    ]),
  );
});

after(async () => {
  await vouch?.stop();
});

function ask(path: string, pki: Pki, extra: string[] = []) {
  return openssl(["ocsp", "-url", `${vouch.baseUrl}${path}`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca, ...extra]);
}

describe("vouch serve with keys on a PKCS#11 token (SoftHSM2)", () => {
  for (const [path, pki, algorithm] of [["/rsa", () => rsa, "sha256WithRSAEncryption"], ["/rsa-pss", () => rsa, "rsassaPss"], ["/ec", () => ec, "ecdsa-with-SHA256"], ["/generated", () => ec, "sha256WithRSAEncryption"]] as const) {
    test(`${path}: openssl verifies the response (${algorithm})`, async () => {
      const result = await ask(path, pki(), ["-resp_text"]);
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /Response verify OK/);
      assert.match(result.stdout, new RegExp(`Signature Algorithm: ${algorithm}`));
      assert.match(result.stdout, /: good/);
    });
  }

  test("a token pulled out gets internalError for that request, the process stays up, and answers again once the token is back", async () => {
    assert.match((await ask("/flaky", ec)).output, /Response verify OK/);
    const restore = await hsm.remove("flaky");
    try {
      const failed = await ask("/flaky", ec);
      assert.match(failed.output, /Responder Error: internalerror \(2\)/);
      // The other token's responders are not affected.
      assert.match((await ask("/ec", ec)).output, /Response verify OK/);
      assert.equal(vouch.child.exitCode, null, "vouch is still running");
    } finally {
      await restore();
    }
    let last = "";
    for (let attempt = 0; attempt < 50; attempt++) {
      last = (await ask("/flaky", ec)).output;
      if (/Response verify OK/.test(last)) break;
      await sleep(100);
    }
    assert.match(last, /Response verify OK/);
    assert.ok(vouch.logs.some((record) => record.msg === "PKCS#11 token reconnected" && record.token === "flaky"), "the reconnection is logged");
  });
});

describe("vouch serve refuses a PKCS#11 configuration that cannot work", () => {
  const cases: [name: string, issuer: () => YamlFields, expected: RegExp][] = [
    ["a module that is not a PKCS#11 library", () => pkcs11Issuer(ec, "ocsp", "ec-signer", { module: "/nonexistent/libpkcs11.so" }), /responders\[0\]\.issuers\[0\]\.signer\.pkcs11\.module: \/nonexistent\/libpkcs11\.so: cannot load the PKCS#11 library/],
    ["a library that fails to initialise", () => pkcs11Issuer(ec, "ocsp", "ec-signer"), /signer\.pkcs11\.module: .*libsofthsm2\.so: the PKCS#11 library failed to initialise \(CKR_GENERAL_ERROR\)/],
    ["an unknown token label", () => pkcs11Issuer(ec, "missing-token", "ec-signer"), /signer\.pkcs11\.token: no token labelled "missing-token"/],
    ["a wrong PIN", () => pkcs11Issuer(ec, "ocsp", "ec-signer", { pin: { file: join(hsm.dir, "wrong-pin") } }), /signer\.pkcs11\.pin: token "ocsp" rejected the PIN \(CKR_PIN_INCORRECT\)/],
    ["a key that is not the signer certificate's", () => pkcs11Issuer(ec, "ocsp", "ec-ca"), /signer\.pkcs11\.key: the key on token "ocsp" does not belong to the signer certificate/],
    ["a PIN written into the configuration", () => pkcs11Issuer(ec, "ocsp", "ec-signer", { pin: PIN }), /signer\.pkcs11\.pin: /],
  ];
  for (const [name, issuer, expected] of cases) {
    test(name, async () => {
      await writeFile(join(hsm.dir, "wrong-pin"), "0000\n");
      const file = join(hsm.dir, "bad.yaml");
      await writeFile(file, config([["bad", "/", issuer()]]));
      const softhsmConf = process.env.SOFTHSM2_CONF;
      if (name === "a library that fails to initialise") process.env.SOFTHSM2_CONF = join(hsm.dir, "missing.conf");
      const result = await runVouch(["serve", "--config", file]).finally(() => {
        process.env.SOFTHSM2_CONF = softhsmConf;
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.trim().split("\n").length, 1, `one line, no stack trace: ${result.stderr}`);
    });
  }
});

/**
 * End to end (issue 15, "encrypted keys"): `vouch serve` with signer keys encrypted by `openssl`:
 * PKCS#8 (`openssl pkcs8 -topk8 -v2 aes-256-cbc`, what `openssl genpkey -aes256` writes) and legacy
 * PEM encryption (`openssl ec -aes256`, `openssl rsa -des3`), the passphrase from a file or an
 * environment variable. The right passphrase serves (openssl ocsp verifies); a wrong one, a missing
 * one and an unset variable each stop the start with one line naming the field.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { before, describe, test } from "node:test";
import { createPki, openssl as opensslOrThrow, type Pki } from "../../src/pki/openssl-pki.ts";
import { openssl } from "../support/openssl.ts";
import { pkiIssuer, pkiSigner, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch } from "../support/vouch-process.ts";

const MAIN = resolve(import.meta.dirname, "../../src/main.ts");
const PASSPHRASE = "correct horse battery staple";
let ec: Pki;
let rsa: Pki;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-encrypted-keys-"));
  [ec, rsa] = await Promise.all([createPki({ dir: join(dir, "ec") }), createPki({ dir: join(dir, "rsa"), caKeyType: "rsa-2048" })]);
  await writeFile(join(dir, "passphrase.txt"), `${PASSPHRASE}\n`);
  await writeFile(join(dir, "wrong.txt"), "not the passphrase\n");
  const pass = `pass:${PASSPHRASE}`;
  await opensslOrThrow(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", ec.signerKey, "-out", join(dir, "pkcs8.key"), "-passout", pass]);
  await opensslOrThrow(["ec", "-aes256", "-in", ec.signerKey, "-out", join(dir, "legacy-ec.key"), "-passout", pass]);
  await opensslOrThrow(["rsa", "-des3", "-traditional", "-in", rsa.signerKey, "-out", join(dir, "legacy-rsa.key"), "-passout", pass]);
});

/** One responder whose delegated signer's key is `key`, decrypted with `passphrase` (a file or a variable) when given. */
function config(pki: Pki, key: string, passphrase?: YamlFields): string {
  return vouchConfig({ responders: [testResponder("keys", [pkiIssuer(pki, { signer: pkiSigner(pki, { key, ...(passphrase === undefined ? {} : { passphrase }) }) })])] });
}

/** `vouch serve` that must fail to start: its exit code and standard error. */
async function failingStart(yaml: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const file = join(await mkdtemp(join(dir, "config-")), "vouch.yaml");
  await writeFile(file, yaml);
  const child = spawn(process.execPath, [MAIN, "serve", "--config", file], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.once("exit", done));
  return { code, stderr };
}

describe("encrypted signer keys", () => {
  for (const [name, pki, key] of [
    ["PKCS#8 encrypted (AES-256)", () => ec, "pkcs8.key"],
    ["legacy PEM encryption, EC key (openssl ec -aes256)", () => ec, "legacy-ec.key"],
    ["legacy PEM encryption, RSA key (openssl rsa -des3)", () => rsa, "legacy-rsa.key"],
  ] as const) {
    test(`${name}: the right passphrase from a file signs, and openssl verifies`, async () => {
      const vouch = await startVouch(config(pki(), join(dir, key), { file: join(dir, "passphrase.txt") }));
      try {
        const result = await openssl(["ocsp", "-url", vouch.baseUrl, "-issuer", pki().ca, "-cert", pki().good, "-CAfile", pki().root, "-verify_other", pki().ca]);
        assert.match(result.output, /Response verify OK/, result.output);
        assert.match(result.output, /: good/);
      } finally {
        await vouch.stop();
      }
    });
  }

  test("the passphrase from an environment variable", async () => {
    process.env.VOUCH_TEST_KEY_PASSPHRASE = PASSPHRASE;
    try {
      const vouch = await startVouch(config(ec, join(dir, "pkcs8.key"), { env: "VOUCH_TEST_KEY_PASSPHRASE" }));
      const result = await openssl(["ocsp", "-url", vouch.baseUrl, "-issuer", ec.ca, "-cert", ec.good, "-CAfile", ec.root, "-verify_other", ec.ca]);
      await vouch.stop();
      assert.match(result.output, /Response verify OK/, result.output);
    } finally {
      delete process.env.VOUCH_TEST_KEY_PASSPHRASE;
    }
  });

  const refused: [string, () => string, Record<string, string>, RegExp][] = [
    [
      "a wrong passphrase (PKCS#8)",
      () => config(ec, join(dir, "pkcs8.key"), { file: join(dir, "wrong.txt") }),
      {},
      /^vouch: .*vouch\.yaml: responders\[0\]\.issuers\[0\]\.signer\.passphrase: the passphrase does not decrypt .*pkcs8\.key/,
    ],
    [
      "a wrong passphrase (legacy PEM)",
      () => config(rsa, join(dir, "legacy-rsa.key"), { file: join(dir, "wrong.txt") }),
      {},
      /responders\[0\]\.issuers\[0\]\.signer\.passphrase: the passphrase does not decrypt .*legacy-rsa\.key/,
    ],
    ["no passphrase for an encrypted key", () => config(ec, join(dir, "legacy-ec.key")), {}, /responders\[0\]\.issuers\[0\]\.signer\.passphrase: .*legacy-ec\.key is encrypted: set the passphrase \(file or env\)/],
    [
      "a passphrase variable that is not set",
      () => config(ec, join(dir, "pkcs8.key"), { env: "VOUCH_TEST_UNSET_PASSPHRASE" }),
      {},
      /responders\[0\]\.issuers\[0\]\.signer\.passphrase\.env: the environment variable VOUCH_TEST_UNSET_PASSPHRASE is not set or empty/,
    ],
    ["a passphrase file that is missing", () => config(ec, join(dir, "pkcs8.key"), { file: join(dir, "nope.txt") }), {}, /signer\.passphrase\.file: .*nope\.txt: file not found/],
  ];
  for (const [name, yaml, env, expected] of refused) {
    test(`refused with one line naming the field: ${name}`, async () => {
      const result = await failingStart(yaml(), env);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.trim().split("\n").length, 1, `one line: ${result.stderr}`);
    });
  }
});

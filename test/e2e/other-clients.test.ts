/**
 * OCSP clients nobody here wrote, besides `openssl ocsp`, against Vouch's HTTP server: GnuTLS's
 * `ocsptool` (its own HTTP client, verifying the signature with the issuing CA as its trust anchor) and Java's HttpURLConnection as the JDK's
 * revocation checker uses it (keep-alive POSTs, then a GET). Answers are checked with openssl.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { opensslRequest, responseText } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

const run = promisify(execFile);
const JAVA_CLIENT = resolve(import.meta.dirname, "../support/OcspHttpClient.java");

let pki: Pki;
let vouch: VouchProcess;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-clients-"));
  pki = await createPki({ dir: join(dir, "pki") });
  vouch = await startVouch(vouchConfig({ responders: [testResponder("clients", [pkiIssuer(pki)], { path: "/ocsp" })] }));
});

after(async () => {
  await vouch?.stop();
});

test("GnuTLS ocsptool gets good and revoked answers and verifies their signatures", async () => {
  for (const [cert, status] of [
    [pki.good, "good"],
    [pki.revoked, "revoked"],
  ] as const) {
    const { stdout } = await run("ocsptool", [`--ask=${vouch.baseUrl}/ocsp`, `--load-issuer=${pki.ca}`, `--load-cert=${cert}`, `--load-trust=${pki.ca}`], { timeout: 30_000 });
    assert.match(stdout, /Response Status: Successful/);
    assert.match(stdout, new RegExp(`Certificate Status: ${status}`));
    assert.match(stdout, /Verifying OCSP Response: Success\./);
  }
});

test("Java's HttpURLConnection: keep-alive POSTs and a GET are answered, and openssl verifies each answer", async () => {
  const requestFile = join(dir, "request.der");
  await writeFile(requestFile, await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked, "-no_nonce"]));
  const { stdout } = await run("java", [JAVA_CLIENT, `${vouch.baseUrl}/ocsp`, requestFile, "3"], { timeout: 120_000 });
  const lines = stdout.trim().split("\n");
  assert.deepEqual(
    lines.map((line) => line.split(" ").slice(0, 3).join(" ")),
    ["POST 200 application/ocsp-response", "POST 200 application/ocsp-response", "POST 200 application/ocsp-response", "GET 200 application/ocsp-response"],
  );
  for (const line of lines) {
    const { output: text } = await responseText(Buffer.from(line.split(" ")[3]!, "hex"), ["-no_nonce", "-issuer", pki.ca, "-cert", pki.revoked, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.match(text, /Response verify OK/);
    assert.match(text, /: revoked/);
  }
});

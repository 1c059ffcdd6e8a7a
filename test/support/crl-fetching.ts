/** What the tests of fetched CRLs ask: openssl ocsp's verdict on a certificate, and polling until a condition holds. */
import assert from "node:assert/strict";
import type { Pki } from "../../src/pki/openssl-pki.ts";
import { openssl } from "./openssl.ts";
import type { VouchProcess } from "./vouch-process.ts";
import { pkiIssuer, type YamlFields } from "./vouch-config.ts";

/**
 * An issuer of `pki` answered from CRLs fetched from `urls`, on a schedule short enough for a test
 * to see a new CRL within seconds; `fetch` adds to or replaces the fetch block (stateFolder at least).
 */
export function fetchingCrlIssuer(pki: Pki, urls: readonly string[], fetch: YamlFields): YamlFields {
  const schedule = { margin: "PT2S", maxInterval: "PT1S", retryInterval: "PT0.2S", maxRetryInterval: "PT1S", timeout: "PT5S" };
  return pkiIssuer(pki, { sources: [{ type: "crl", urls, fetch: { ...schedule, ...fetch } }] });
}

/** What `openssl ocsp` says of `cert`: good, revoked, or the responder's error status (trylater). */
export async function ocspStatus(vouch: VouchProcess, pki: Pki, cert: string): Promise<string> {
  const { stdout, stderr } = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", cert, "-CAfile", pki.root, "-verify_other", pki.ca, "-no_nonce"]).catch(
    (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? "", stderr: error.stderr ?? "" }),
  );
  const status = /: (good|revoked|unknown)\b/.exec(stdout)?.[1] ?? /Responder Error: (\w+)/.exec(stdout + stderr)?.[1];
  assert.ok(status !== undefined, `no status in: ${stdout} ${stderr}`);
  if (status === "good" || status === "revoked") assert.match(stderr + stdout, /Response verify OK/);
  return status;
}

export async function until<T>(what: string, probe: () => Promise<T>, wanted: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (wanted(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * `vouch query` against a Vouch responder that requires TLS client authentication (SPEC step 1):
 * with `--tls-ca`, `--tls-cert` and `--tls-key` it is answered and verifies the answer, by POST and
 * by GET; without the client certificate, or without the CA that issued the server's, there is no
 * answer (exit 1, the reason printed); half-given or misplaced options are usage errors (exit 2).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { CLIENT_EXTENSIONS, issueExtra } from "../support/certificates.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";

let pki: Pki;
let vouch: VouchProcess;
let url: string;
let bundle: string;
let client: { certificate: string; key: string };

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-query-tls-"));
  pki = await createPki({ dir: join(base, "pki") });
  const server = await issueExtra(pki, "tls-server", {
    commonName: "127.0.0.1",
    extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
  });
  client = await issueExtra(pki, "client", { commonName: "Query Client", extensions: CLIENT_EXTENSIONS });
  // The server sends only its own certificate: the client's CA file holds the root and the issuing CA.
  bundle = join(base, "bundle.pem");
  await writeFile(bundle, `${await readFile(pki.root, "utf8")}\n${await readFile(pki.ca, "utf8")}`);
  vouch = await startVouch(
    vouchConfig({
      trust: { anchors: [pki.root], unknownStatus: "pass" },
      responders: [testResponder("mtls", [pkiIssuer(pki)], { tls: { certificate: server.certificate, key: server.key, clientAuth: "required" } })],
    }),
  );
  url = `https://127.0.0.1:${vouch.port}/`;
});

after(async () => {
  await vouch?.stop();
});

const query = (...args: string[]) => runVouch(["query", "--url", url, "--issuer", pki.ca, "--trust", pki.root, ...args], { timeoutMs: 30_000 });
const withTls = () => ["--tls-ca", bundle];

test("with the CA bundle and a client certificate: answered, verified, by POST and by GET", async () => {
  for (const method of [[], ["--get"]]) {
    const result = await query("--cert", pki.good, "--cert", pki.revoked, ...withTls(), "--tls-cert", client.certificate, "--tls-key", client.key, ...method);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /good\.pem: good\n/);
    assert.match(result.stdout, /revoked\.pem: revoked at /);
    assert.match(result.stdout, /Signature: verified/);
  }
});

test("without a client certificate the server closes the connection: no answer, exit 1", async () => {
  const result = await query("--cert", pki.good, ...withTls());
  assert.equal(result.code, 1, result.stdout);
  assert.match(result.stdout, new RegExp(`^no answer from ${url}: `));
  assert.equal(result.stdout.trim().split("\n").length, 1);
});

test("without the CA that issued the server's certificate, the server is not trusted: no answer, exit 1", async () => {
  const result = await query("--cert", pki.good, "--tls-cert", client.certificate, "--tls-key", client.key);
  assert.equal(result.code, 1, result.stdout);
  assert.match(result.stdout, /^no answer from https:\/\/127\.0\.0\.1:\d+\/: unable to verify the first certificate \(the server's certificate is not trusted: give the CA that issued it with --tls-ca\)\n$/);
});

test("usage errors: a certificate without its key, TLS files for an http URL, a missing file (exit 2, one line)", async () => {
  for (const [args, expected] of [
    [["--tls-cert", client.certificate], /^vouch: --tls-key: --tls-cert and --tls-key go together\n$/],
    [["--tls-ca", bundle, "--url", `http://127.0.0.1:${vouch.port}/`], /^vouch: --url: --tls-ca, --tls-cert and --tls-key need an https URL/],
    [["--tls-ca", join(pki.dir, "missing.pem")], /^vouch: --tls-ca: .*missing\.pem: file not found\n$/],
  ] as const) {
    const result = await query("--cert", pki.good, ...args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, expected);
  }
});

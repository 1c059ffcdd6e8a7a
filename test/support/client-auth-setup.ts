/**
 * What the end-to-end tests of TLS client authentication and signed requests share: a TLS server
 * certificate for 127.0.0.1, a CA bundle and an unsigned OCSP request for curl, the issuing CA in a
 * folder for `trust.certificates`, two responders of that CA, a free port for the TLS listener, and
 * the two clients: `curl --cert` and `openssl ocsp -signer`.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Pki } from "../../src/pki/openssl-pki.ts";
import { issueExtra } from "./certificates.ts";
import { freePort } from "./free-port.ts";
import { openssl, opensslRequest, type CliResult } from "./openssl.ts";
import { pkiIssuer, testResponder, type YamlFields } from "./vouch-config.ts";

export interface KeyPair {
  readonly certificate: string;
  readonly key: string;
}

export interface ClientAuthSetup {
  readonly server: KeyPair;
  /** The root and the issuing CA, for clients that verify the server (`-CAfile`, `--cacert`). */
  readonly trustBundle: string;
  /** A folder holding the issuing CA, for `trust.certificates`. */
  readonly intermediates: string;
  /**
   * Two responders of the PKI's CA (its delegated signer, its index.txt), for `vouchConfig`: `signed`
   * (requests must be signed) on port 0, and `tls` (client certificates required) on `tlsPort`.
   */
  readonly responders: readonly YamlFields[];
  /** A free port for the TLS listener (responders on port 0 share one listener). */
  readonly tlsPort: number;
  /** POSTs the unsigned request over HTTPS to the TLS port, presenting `client`. */
  curl(client: KeyPair): Promise<{ code: number; body: Buffer; stderr: string }>;
  /** `openssl ocsp -signer` for good.pem to `url`, verifying the answer. */
  signedQuery(url: string, signer: KeyPair, extra?: readonly string[]): Promise<CliResult>;
}

export async function clientAuthSetup(pki: Pki, base: string): Promise<ClientAuthSetup> {
  const server = await issueExtra(pki, "tls-server", {
    commonName: "127.0.0.1",
    extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
  });
  const trustBundle = join(base, "bundle.pem");
  await writeFile(trustBundle, `${await readFile(pki.root, "utf8")}\n${await readFile(pki.ca, "utf8")}`);
  const requestFile = join(base, "request.der");
  await writeFile(requestFile, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]));
  const intermediates = join(base, "intermediates");
  await mkdir(intermediates);
  await copyFile(pki.ca, join(intermediates, "ca.pem"));
  const tlsPort = await freePort();
  const issuers = [pkiIssuer(pki)];
  return {
    server,
    trustBundle,
    intermediates,
    tlsPort,
    responders: [
      testResponder("signed", issuers, { requestSignature: { required: true } }),
      testResponder("tls", issuers, {
        listen: { host: "127.0.0.1", port: tlsPort },
        tls: { certificate: server.certificate, key: server.key, clientAuth: "required" },
      }),
    ],
    curl(client) {
      const args = ["-s", "-S", "--max-time", "10", "--cacert", trustBundle, "--data-binary", `@${requestFile}`, "-H", "Content-Type: application/ocsp-request"];
      args.push("--cert", client.certificate, "--key", client.key, `https://127.0.0.1:${tlsPort}/`);
      return new Promise((resolve) => {
        execFile("curl", args, { encoding: "buffer" }, (error, stdout, stderr) => {
          resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, body: stdout, stderr: stderr.toString() });
        });
      });
    },
    signedQuery(url, signer, extra = []) {
      return openssl(["ocsp", "-url", url, "-issuer", pki.ca, "-cert", pki.good, "-signer", signer.certificate, "-signkey", signer.key, "-CAfile", pki.root, "-verify_other", pki.ca, ...extra]);
    },
  };
}

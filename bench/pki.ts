/**
 * bench/pki.ts DATA_DIR KEY_TYPE... - benchmark PKIs, one folder per signer key type.
 *
 * For each key type (e.g. ecdsa-p256, rsa-2048) it creates DATA_DIR/<key type>/ with Vouch's own
 * test-PKI generator (src/pki/openssl-pki.ts, i.e. `openssl ca`): root, issuing CA and delegated OCSP
 * signer of that key type (id-kp-OCSPSigning + id-pkix-ocsp-nocheck), a good and a revoked leaf,
 * index.txt and a CRL. Then it writes the request both responders get, made the way a client would:
 *   openssl ocsp -issuer ca.pem -cert good.pem -reqout req.der      (a nonce is added by default)
 * It also issues, with the same CA (`openssl ca`), an ECDSA P-256 requestor certificate
 * (CN=Bench Requestor, keyUsage digitalSignature) and writes a second request, signed by it and
 * carrying it, for the access-control scenario (vouch-signed-billed):
 *   openssl ocsp -issuer ca.pem -cert good.pem -signer requestor.pem -signkey requestor.key -reqout req-signed.der
 * and paths.env (shell variables with every path, sourced by run.sh).
 * Key type ml-dsa-65 (issue 15): the CA is ECDSA P-256 (made by `openssl ca`) and its delegated
 * signer's key is ML-DSA-65, the certificate written by src/pki/node-certificate.ts (OpenSSL 3.0's
 * CLI cannot): the migration path, a classical CA issuing a post-quantum OCSP signer.
 * An existing, complete folder is reused unless BENCH_REGEN=1. Run with Node >= 24 (.ts runs directly).
 */
import { execFile } from "node:child_process";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { access, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { nodeCertificate, writeCertificatePem } from "../src/pki/node-certificate.ts";
import { createPki, pkiExists, pkiPaths, PKI_KEY_TYPES, readPemDer, type PkiKeyType } from "../src/pki/openssl-pki.ts";

/** Key types of the benchmark: the generated PKI's, and ML-DSA-65 (a delegated signer under a P-256 CA). */
type BenchKeyType = PkiKeyType | "ml-dsa-65";
const BENCH_KEY_TYPES: readonly BenchKeyType[] = [...PKI_KEY_TYPES, "ml-dsa-65"];

/** Replaces the PKI's delegated signer by one whose key is ML-DSA-65, issued by the same CA for 30 days. */
async function mlDsaSigner(pki: ReturnType<typeof pkiPaths>): Promise<void> {
  const { privateKey } = generateKeyPairSync("ml-dsa-65");
  const now = Date.now();
  const certificate = nodeCertificate({
    commonName: "Vouch Bench ML-DSA-65 OCSP Signer",
    subjectKey: privateKey,
    issuerCertificate: await readPemDer(pki.ca),
    issuerKey: createPrivateKey(await readFile(pki.caKey)),
    profile: "ocsp-signer",
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 30 * 86_400_000),
  });
  await writeCertificatePem(pki.signer, certificate);
  await writeFile(pki.signerKey, privateKey.export({ type: "pkcs8", format: "pem" }));
}

const run = promisify(execFile);

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

const OPENSSL_ENV = { ...process.env, OPENSSL_CONF: "/dev/null" };
const REQUESTOR_SUBJECT = "/C=SE/O=Vouch Demo/CN=Bench Requestor";

/**
 * requestor.pem/.key (ECDSA P-256, issued by the PKI's CA with `openssl ca`, so index.txt lists it as
 * valid) and req-signed.der (the usual request, signed by the requestor, requestor certificate
 * included). Created when missing, e.g. in a PKI generated before this scenario existed.
 */
async function prepareRequestor(dir: string, pki: ReturnType<typeof pkiPaths>, fresh: boolean): Promise<{ cert: string; key: string; request: string }> {
  const cert = join(dir, "requestor.pem");
  const key = join(dir, "requestor.key");
  const request = join(dir, "req-signed.der");
  if (fresh || !(await exists(cert)) || !(await exists(key))) {
    const csr = join(pki.stateDir, "requestor.csr");
    const extfile = join(pki.stateDir, "requestor.ext");
    await writeFile(
      extfile,
      "[ requestor_ext ]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n" +
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n",
    );
    await run("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], { env: OPENSSL_ENV });
    await run("openssl", ["req", "-new", "-key", key, "-out", csr, "-subj", REQUESTOR_SUBJECT, "-config", pki.opensslConfig], { env: OPENSSL_ENV });
    await run("openssl", ["ca", "-batch", "-config", pki.opensslConfig, "-in", csr, "-out", cert, "-notext", "-extfile", extfile, "-extensions", "requestor_ext"], {
      env: OPENSSL_ENV,
    });
    await rm(request, { force: true });
  }
  if (!(await exists(request))) {
    await run("openssl", ["ocsp", "-issuer", pki.ca, "-cert", pki.good, "-signer", cert, "-signkey", key, "-reqout", request], { env: OPENSSL_ENV });
  }
  // Signed, with the requestor certificate and a nonce (every response signed live here too).
  const { stdout } = await run("openssl", ["ocsp", "-reqin", request, "-req_text"], { env: OPENSSL_ENV });
  for (const needle of ["OCSP Nonce", "Signature Algorithm", "CN=Bench Requestor"]) {
    if (!stdout.includes(needle)) throw new Error(`${request}: '${needle}' not found in the request (openssl ocsp -req_text)`);
  }
  if (!(await readFile(cert, "utf8")).includes("BEGIN CERTIFICATE")) throw new Error(`${cert}: not a PEM certificate`);
  return { cert, key, request };
}

async function preparePki(dataDir: string, keyType: BenchKeyType): Promise<void> {
  const dir = join(dataDir, keyType);
  const request = join(dir, "req.der");
  const envFile = join(dir, "paths.env");
  const started = Date.now();
  const regen = process.env.BENCH_REGEN === "1";
  let pki = pkiPaths(dir);
  let fresh = false;
  if (regen || !(await pkiExists(dir)) || !(await exists(request))) {
    await rm(dir, { recursive: true, force: true });
    const classical = keyType === "ml-dsa-65" ? "ecdsa-p256" : keyType;
    pki = await createPki({ dir, caKeyType: classical, signerKeyType: classical, ocspUrl: "http://127.0.0.1/" });
    if (keyType === "ml-dsa-65") await mlDsaSigner(pki);
    fresh = true;
    await run("openssl", ["ocsp", "-issuer", pki.ca, "-cert", pki.good, "-reqout", request], {
      env: { ...process.env, OPENSSL_CONF: "/dev/null" },
    });
    process.stderr.write(`pki: ${keyType}: generated in ${dir} (${Date.now() - started} ms)\n`);
  } else {
    process.stderr.write(`pki: ${keyType}: reusing ${dir} (BENCH_REGEN=1 to regenerate)\n`);
  }
  // The request must carry a nonce: that is what forces both responders to sign live.
  const { stdout } = await run("openssl", ["ocsp", "-reqin", request, "-req_text"], {
    env: { ...process.env, OPENSSL_CONF: "/dev/null" },
  });
  if (!stdout.includes("OCSP Nonce")) throw new Error(`${request}: no nonce extension in the request`);
  const requestor = await prepareRequestor(dir, pki, fresh);
  const vars: Record<string, string> = {
    PKI_DIR: dir,
    PKI_ROOT: pki.root,
    PKI_CA: pki.ca,
    PKI_SIGNER: pki.signer,
    PKI_SIGNER_KEY: pki.signerKey,
    PKI_GOOD: pki.good,
    PKI_INDEX: pki.index,
    PKI_REQ: request,
    PKI_REQUESTOR: requestor.cert,
    PKI_REQUESTOR_KEY: requestor.key,
    PKI_SIGNED_REQ: requestor.request,
  };
  await writeFile(envFile, Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(v)}\n`).join(""));
}

const [dataArg, ...keyTypes] = process.argv.slice(2);
if (dataArg === undefined || keyTypes.length === 0) {
  process.stderr.write("usage: node bench/pki.ts DATA_DIR KEY_TYPE...\n");
  process.exit(2);
}
for (const keyType of keyTypes) {
  if (!(BENCH_KEY_TYPES as readonly string[]).includes(keyType)) {
    process.stderr.write(`pki: unknown key type ${keyType} (one of ${BENCH_KEY_TYPES.join(", ")})\n`);
    process.exit(2);
  }
}
const dataDir = resolve(dataArg);
for (const keyType of keyTypes) await preparePki(dataDir, keyType as BenchKeyType);

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile, access } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Key types a generated PKI can use for its CAs and its OCSP signer. */
export type PkiKeyType = "ecdsa-p256" | "ecdsa-p384" | "rsa-2048" | "rsa-pss-2048" | "ed25519";

export const PKI_KEY_TYPES: readonly PkiKeyType[] = ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-pss-2048", "ed25519"];

/** The reason names `openssl ca -crl_reason` accepts. */
export type OpensslRevocationReason =
  | "unspecified"
  | "keyCompromise"
  | "CACompromise"
  | "affiliationChanged"
  | "superseded"
  | "cessationOfOperation"
  | "certificateHold"
  | "removeFromCRL";

export interface PkiOptions {
  /** Folder for every file; created when missing. */
  readonly dir: string;
  /** Key type of the root and the issuing CA (default ecdsa-p256). */
  readonly caKeyType?: PkiKeyType;
  /** Key type of the delegated OCSP signer (default: the CA's). */
  readonly signerKeyType?: PkiKeyType;
  /** URL written into the leaves' AIA OCSP field. */
  readonly ocspUrl?: string;
  /** Days the CRL is valid (default 7). */
  readonly crlDays?: number;
}

/** File paths of a generated PKI, named as `vouch demo` promises (README). */
export interface Pki {
  readonly dir: string;
  readonly root: string;
  readonly rootKey: string;
  readonly ca: string;
  readonly caKey: string;
  readonly signer: string;
  readonly signerKey: string;
  readonly good: string;
  readonly revoked: string;
  readonly foreign: string;
  readonly foreignCa: string;
  readonly index: string;
  readonly crl: string;
  /** Internal state of `openssl ca` (serial, CRL number, issued copies, its config). */
  readonly stateDir: string;
  readonly opensslConfig: string;
}

/** Paths a PKI in `dir` has (or will have). */
export function pkiPaths(dir: string): Pki {
  const stateDir = join(dir, ".ca");
  return {
    dir,
    root: join(dir, "root.pem"),
    rootKey: join(stateDir, "root.key"),
    ca: join(dir, "ca.pem"),
    caKey: join(dir, "ca.key"),
    signer: join(dir, "ocsp-signer.pem"),
    signerKey: join(dir, "ocsp-signer.key"),
    good: join(dir, "good.pem"),
    revoked: join(dir, "revoked.pem"),
    foreign: join(dir, "foreign.pem"),
    foreignCa: join(dir, "foreign-ca.pem"),
    index: join(dir, "index.txt"),
    crl: join(dir, "ca.crl"),
    stateDir,
    opensslConfig: join(stateDir, "openssl.cnf"),
  };
}

/** True when `dir` already holds a complete generated PKI. */
export async function pkiExists(dir: string): Promise<boolean> {
  const paths = pkiPaths(dir);
  try {
    await Promise.all([paths.ca, paths.caKey, paths.signer, paths.signerKey, paths.index, paths.crl].map((file) => access(file)));
    return true;
  } catch {
    return false;
  }
}

/**
 * Generates a demo/test PKI with the `openssl` CLI, so that `index.txt` and the CRL are exactly what
 * `openssl ca` writes: a root, an issuing CA, a delegated OCSP signer (id-kp-OCSPSigning +
 * id-pkix-ocsp-nocheck), a good and a revoked (keyCompromise) leaf, a foreign CA with one leaf,
 * the CA database and a CRL. Throws when openssl is missing or fails (its stderr in the message).
 */
export async function createPki(options: PkiOptions): Promise<Pki> {
  const paths = pkiPaths(options.dir);
  const caKeyType = options.caKeyType ?? "ecdsa-p256";
  const signerKeyType = options.signerKeyType ?? caKeyType;
  await mkdir(join(paths.stateDir, "newcerts"), { recursive: true });
  await writeFile(paths.index, "");
  await writeFile(join(paths.stateDir, "index.txt.attr"), "unique_subject = no\n");
  // A random, positive 64-bit starting serial: serials across demo runs never collide.
  const firstSerial = randomBytes(8);
  firstSerial[0] = (firstSerial[0]! & 0x3f) | 0x10;
  await writeFile(join(paths.stateDir, "serial"), `${firstSerial.toString("hex").toUpperCase()}\n`);
  await writeFile(join(paths.stateDir, "crlnumber"), "01\n");
  await writeFile(paths.opensslConfig, opensslConfig(paths, options.ocspUrl ?? "http://127.0.0.1:8080/", options.crlDays ?? 7));

  await generateKey(caKeyType, paths.rootKey);
  await openssl(["req", "-new", "-x509", "-key", paths.rootKey, "-out", paths.root, "-days", "3650",
    "-subj", "/C=SE/O=Vouch Demo/CN=Vouch Demo Root CA", "-config", paths.opensslConfig, "-extensions", "root_ext"]);

  await generateKey(caKeyType, paths.caKey);
  const caCsr = join(paths.stateDir, "ca.csr");
  await openssl(["req", "-new", "-key", paths.caKey, "-out", caCsr, "-subj", "/C=SE/O=Vouch Demo/CN=Vouch Demo Issuing CA",
    "-config", paths.opensslConfig]);
  await openssl(["x509", "-req", "-in", caCsr, "-CA", paths.root, "-CAkey", paths.rootKey, "-set_serial", "2",
    "-days", "1825", "-extfile", paths.opensslConfig, "-extensions", "ca_ext", "-out", paths.ca]);

  await issueCertificate(paths, "ocsp-signer", { commonName: "Vouch Demo OCSP Signer", keyType: signerKeyType, extensions: "signer_ext" });
  await issueCertificate(paths, "good", { commonName: "good.demo.vouch.test" });
  await issueCertificate(paths, "revoked", { commonName: "revoked.demo.vouch.test" });
  await revokeCertificate(paths, paths.revoked, "keyCompromise");
  await publishCrl(paths);

  const foreignKey = join(paths.stateDir, "foreign-ca.key");
  await generateKey("ecdsa-p256", foreignKey);
  await openssl(["req", "-new", "-x509", "-key", foreignKey, "-out", paths.foreignCa, "-days", "3650",
    "-subj", "/C=SE/O=Elsewhere/CN=Foreign CA", "-config", paths.opensslConfig, "-extensions", "root_ext"]);
  const foreignLeafKey = join(paths.stateDir, "foreign.key");
  const foreignCsr = join(paths.stateDir, "foreign.csr");
  await generateKey("ecdsa-p256", foreignLeafKey);
  await openssl(["req", "-new", "-key", foreignLeafKey, "-out", foreignCsr, "-subj", "/C=SE/O=Elsewhere/CN=foreign.example",
    "-config", paths.opensslConfig]);
  await openssl(["x509", "-req", "-in", foreignCsr, "-CA", paths.foreignCa, "-CAkey", foreignKey, "-set_serial", "4660",
    "-days", "365", "-extfile", paths.opensslConfig, "-extensions", "leaf_ext", "-out", paths.foreign]);
  return paths;
}

export interface IssueOptions {
  readonly commonName: string;
  readonly keyType?: PkiKeyType;
  /** Section of the generated openssl.cnf with the certificate's extensions (default leaf_ext). */
  readonly extensions?: "leaf_ext" | "signer_ext" | "signer_no_nocheck_ext";
}

/**
 * Issues `<dir>/<name>.pem` (key `<dir>/<name>.key`) from the issuing CA with `openssl ca`, which
 * appends a `V` line to index.txt. Returns the certificate's path.
 */
export async function issueCertificate(pki: Pki, name: string, options: IssueOptions): Promise<string> {
  const key = join(pki.dir, `${name}.key`);
  const csr = join(pki.stateDir, `${name}.csr`);
  const certificate = join(pki.dir, `${name}.pem`);
  await generateKey(options.keyType ?? "ecdsa-p256", key);
  await openssl(["req", "-new", "-key", key, "-out", csr, "-subj", `/C=SE/O=Vouch Demo/CN=${options.commonName}`,
    "-config", pki.opensslConfig]);
  await openssl(["ca", "-batch", "-config", pki.opensslConfig, "-in", csr, "-out", certificate, "-notext",
    "-extensions", options.extensions ?? "leaf_ext"]);
  return certificate;
}

/** Marks a certificate revoked in index.txt with `openssl ca -revoke` (the CRL is not republished). */
export async function revokeCertificate(pki: Pki, certificate: string, reason: OpensslRevocationReason): Promise<void> {
  await openssl(["ca", "-batch", "-config", pki.opensslConfig, "-revoke", certificate, "-crl_reason", reason]);
}

/** Options of `publishCrl`; every field is optional and the defaults give a plain full CRL at `pki.crl`. */
export interface PublishCrlOptions {
  /** Validity in hours instead of the configured days. */
  readonly crlHours?: number;
  /** Write DER instead of PEM. */
  readonly der?: boolean;
  /** Where to write (default `pki.crl`); replaced atomically by rename. */
  readonly out?: string;
  /**
   * Extra lines for the CRL's extension section, in openssl.cnf syntax (e.g.
   * `issuingDistributionPoint = critical,@idp` plus `sections` defining `[ idp ]`).
   */
  readonly crlExtensions?: readonly string[];
  /** Extra config sections referenced by `crlExtensions` (whole text, headers included). */
  readonly sections?: string;
  /** Read revocations from this index file instead of `pki.index` (hand-written deltas). */
  readonly database?: string;
}

/**
 * Writes a new CRL from index.txt (`openssl ca -gencrl`), replacing ca.crl (or `options.out`) atomically.
 * With `crlExtensions`, `sections` or `database`, a one-off copy of the openssl config is used, so that
 * the PKI's own config never changes. Each call takes the next CRL number.
 */
export async function publishCrl(pki: Pki, options: PublishCrlOptions = {}): Promise<void> {
  const out = options.out ?? pki.crl;
  const pending = `${out}.new`;
  // -crlhours alone: openssl then ignores default_crl_days (and rejects "-crldays 0").
  const validity = options.crlHours === undefined ? [] : ["-crlhours", String(options.crlHours)];
  let config = pki.opensslConfig;
  let extensions: string[] = [];
  if (options.crlExtensions !== undefined || options.sections !== undefined || options.database !== undefined) {
    config = join(pki.stateDir, `openssl-${randomBytes(6).toString("hex")}.cnf`);
    let text = await readFile(pki.opensslConfig, "utf8");
    if (options.database !== undefined) text = text.replace(/^database = .*$/m, `database = ${options.database}`);
    text += `\n[ vouch_crl_ext ]\nauthorityKeyIdentifier = keyid:always\n${(options.crlExtensions ?? []).join("\n")}\n\n${options.sections ?? ""}\n`;
    await writeFile(config, text);
    extensions = ["-crlexts", "vouch_crl_ext"];
  }
  try {
    await openssl(["ca", "-batch", "-config", config, "-gencrl", "-out", pending, ...validity, ...extensions]);
  } finally {
    if (config !== pki.opensslConfig) await rm(config, { force: true });
  }
  if (options.der === true) {
    await openssl(["crl", "-in", pending, "-outform", "DER", "-out", pending]);
  }
  await rename(pending, out);
}

/**
 * Writes a delta CRL (RFC 5280 §5.2.4) to `out`: a CRL with a critical deltaCRLIndicator naming
 * `baseCrlNumber`. openssl has no config name for that extension, so it is written as raw ASN.1.
 * `database` (an index file in `openssl ca` format) lists the delta's entries, e.g. a
 * `removeFromCRL` line; by default the delta lists everything index.txt has revoked.
 */
export async function publishDeltaCrl(
  pki: Pki,
  options: { readonly out: string; readonly baseCrlNumber: number; readonly database?: string; readonly der?: boolean; readonly crlHours?: number },
): Promise<void> {
  await publishCrl(pki, {
    out: options.out,
    crlExtensions: [`2.5.29.27 = critical,ASN1:INTEGER:${options.baseCrlNumber}`],
    ...(options.database === undefined ? {} : { database: options.database }),
    ...(options.der === undefined ? {} : { der: options.der }),
    ...(options.crlHours === undefined ? {} : { crlHours: options.crlHours }),
  });
}

/** The hex serial of a certificate file, as `openssl x509 -serial` prints it (upper case). */
export async function certificateSerial(certificate: string): Promise<string> {
  const { stdout } = await openssl(["x509", "-in", certificate, "-noout", "-serial"]);
  return stdout.trim().replace(/^serial=/, "");
}

/** Reads a PEM file into the DER of its first block. */
export async function readPemDer(file: string): Promise<Buffer> {
  const text = await readFile(file, "latin1");
  const match = /-----BEGIN [^-]+-----([\s\S]*?)-----END/.exec(text);
  if (match === null) throw new Error(`${file}: no PEM block`);
  return Buffer.from(match[1]!.replace(/\s+/g, ""), "base64");
}

/** Writes a new private key of `type` to `file` (PEM, PKCS#8) with `openssl genpkey`. */
export async function generateKey(type: PkiKeyType, file: string): Promise<void> {
  const algorithm: Record<PkiKeyType, string[]> = {
    "ecdsa-p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "ecdsa-p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "rsa-2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "rsa-pss-2048": ["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"],
    ed25519: ["-algorithm", "ED25519"],
  };
  await openssl(["genpkey", ...algorithm[type], "-out", file]);
}

/** Runs the openssl CLI; rejects with its stderr in the message when it fails. */
export async function openssl(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run("openssl", args, { encoding: "utf8" });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

function opensslConfig(pki: Pki, ocspUrl: string, crlDays: number): string {
  return `# Generated by Vouch for its demo PKI; used by \`openssl ca\`.
[ ca ]
default_ca = CA_default

[ CA_default ]
database = ${pki.index}
new_certs_dir = ${join(pki.stateDir, "newcerts")}
serial = ${join(pki.stateDir, "serial")}
crlnumber = ${join(pki.stateDir, "crlnumber")}
certificate = ${pki.ca}
private_key = ${pki.caKey}
default_md = default
default_days = 825
default_crl_days = ${crlDays}
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
crl_extensions = crl_ext

[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = unused

[ root_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[ ca_ext ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ signer_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.5.5.7.48.1.5 = ASN1:NULL

[ signer_no_nocheck_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ leaf_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = OCSP;URI:${ocspUrl}

[ crl_ext ]
authorityKeyIdentifier = keyid:always
`;
}

/**
 * `vouch signer new --config FILE --issuer NAME [--out DIR | --pkcs11]`: the next signer's key and
 * its PKCS#10 request, for a staged rollover (README "Signer lifecycle", docs/signer-lifecycle.md).
 * The key has the current signer's algorithm unless `--algorithm` says otherwise; it goes to a file
 * (encrypted with the signer's passphrase when it has one) or onto the issuer's PKCS#11 token. The
 * request asks for the current signer's subject and the delegated responder profile. User errors
 * throw ConfigError naming the option or the configuration field: main.ts prints one line, exits 2.
 */
import { X509Certificate, randomBytes } from "node:crypto";
import { readdir, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { loadConfig } from "../config/load.ts";
import type { IssuerConfig } from "../config/schema.ts";
import type { SignerConfig } from "../config/signer-schema.ts";
import { signersOf } from "../config/signers-of.ts";
import { secretOf } from "../compose/build-signer.ts";
import { ConfigError } from "../errors.ts";
import { readCertificateFile } from "../certificate-file.ts";
import { certificationRequest, nextSignerSubject, requestPem } from "../signing/certification-request.ts";
import { SIGNER_KEY_ALGORITHMS, generateSignerKey, keyAlgorithmOf, keyCertificationRequest, writeKeyFile, type SignerKeyAlgorithm } from "../signing/new-signer-key.ts";
import { readPin } from "../signing/pkcs11/pin-source.ts";
import { generateTokenKeyPair } from "../signing/pkcs11/token-key-pair.ts";
import { TokenProblem } from "../signing/pkcs11/token-connection.ts";

export interface SignerNewOptions {
  readonly config: string;
  /** The CA: its common name or its whole subject ("C=SE, O=Acme, CN=Acme CA"). */
  readonly issuer: string;
  /** Only this responder's issuers (when several responders serve the CA with different signers). */
  readonly responder?: string | undefined;
  readonly out?: string | undefined;
  readonly algorithm?: string | undefined;
  /** Base name of the files (default signer-<UTC time>). */
  readonly name?: string | undefined;
  readonly pkcs11?: boolean | undefined;
  readonly keyLabel?: string | undefined;
  /** CKA_ID in hex (default 8 random octets). */
  readonly keyId?: string | undefined;
}

/** The current signer an issuer's next one is modelled on. */
interface CurrentSigner {
  readonly certificate: Buffer;
  readonly block: SignerConfig;
  readonly field: string;
}

export async function runSignerNew(options: SignerNewOptions): Promise<void> {
  const config = await loadConfig(options.config);
  const { issuer, ca, field } = await findIssuer(config.responders, options);
  const current = await currentSigner(issuer, ca, field);
  const certificate = new X509Certificate(current.certificate);
  const algorithm = chosenAlgorithm(options.algorithm, certificate);
  const subject = nextSignerSubject(current.certificate, ca);
  const name = options.name ?? `signer-${new Date().toISOString().replace(/[-:]|\.\d+/g, "")}`;
  const subjectText = current.certificate.equals(ca) ? 'the CA\'s name with " OCSP Responder" after its common name' : certificate.subject.replaceAll("\n", ", ");

  if (options.pkcs11 === true) {
    const block = signersOf(issuer).find((candidate) => candidate.config.pkcs11 !== undefined);
    const pkcs11 = current.block.pkcs11 ?? block?.config.pkcs11;
    if (pkcs11 === undefined) throw new ConfigError("--pkcs11", "no signer of this issuer is on a PKCS#11 token: configure a signer with a pkcs11 block first (docs/pkcs11.md)");
    const out = options.out ?? ".";
    const label = options.keyLabel ?? name;
    const id = options.keyId === undefined ? randomBytes(8) : Buffer.from(options.keyId, "hex");
    if (options.keyId !== undefined && id.toString("hex") !== options.keyId.toLowerCase()) throw new ConfigError("--key-id", "must be hex octets, e.g. 01 or a1b2");
    const pair = await generateTokenKeyPair({ module: pkcs11.module, token: pkcs11.token, slot: pkcs11.slot, pin: secretOf(pkcs11.pin)!, label, id, algorithm }).catch((error: unknown) => {
      throw error instanceof TokenProblem ? new ConfigError(`--pkcs11 (${pkcs11.token})`, error.message, { cause: error }) : error;
    });
    let request: Buffer;
    try {
      const spki = pair.publicKey.export({ type: "spki", format: "der" });
      request = await certificationRequest({ subjectDer: subject, subjectPublicKeyInfoDer: spki, algorithm: pair.algorithm, sign: (tbs) => pair.sign(tbs, pair.algorithm) });
    } finally {
      pair.close();
    }
    const requestFile = join(out, `${name}.csr`);
    await writeNew(requestFile, requestPem(request), "--out");
    print([
      `key:     on token "${pkcs11.token}", label "${label}", id ${id.toString("hex")} (${algorithm}; it never leaves the token)`,
      `request: ${requestFile} (subject ${subjectText}; asks for id-kp-OCSPSigning and id-pkix-ocsp-nocheck)`,
      `next:    have the CA issue the request as a delegated OCSP signer, save the certificate, and add a signer`,
      `         { certificate: <it>, pkcs11: { module: ${pkcs11.module}, token: ${pkcs11.token}, key: ${label}, id: ${id.toString("hex")}, pin: ... } }`,
      `         to ${field}: Vouch uses it from its notBefore without a restart once the configuration is reloaded (SIGHUP).`,
    ]);
    return;
  }

  const directory = current.block.directory;
  const out = options.out ?? directory;
  if (out === undefined) throw new ConfigError("--out", `${current.field} is not a directory signer: name the folder for the new key and request with --out`);
  const key = await generateSignerKey(algorithm);
  const passphrase = current.block.passphrase === undefined ? undefined : await readPin(secretOf(current.block.passphrase)!, "passphrase");
  const keyFile = join(out, `${name}.key`);
  const requestFile = join(out, `${name}.csr`);
  const request = requestPem(await keyCertificationRequest(key, subject, current.block.rsaPadding));
  await writeKeyFile(key, keyFile, passphrase).catch((error: unknown) => {
    throw new ConfigError("--out", `${keyFile}: cannot write (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  });
  await writeNew(requestFile, request, "--out");
  print([
    `key:     ${keyFile} (${algorithm}${passphrase === undefined ? "" : ", encrypted with the signer's passphrase"})`,
    `request: ${requestFile} (subject ${subjectText}; asks for id-kp-OCSPSigning and id-pkix-ocsp-nocheck)`,
    directory !== undefined && out === directory
      ? `next:    have the CA issue the request as a delegated OCSP signer and save the certificate as ${join(out, `${name}.pem`)}: Vouch checks it and uses it from its notBefore, without a restart.`
      : `next:    have the CA issue the request as a delegated OCSP signer, then configure the certificate and ${keyFile} as a signer of ${field}.`,
  ]);
}

/** The issuer `--issuer` names, with its CA certificate and field path. */
async function findIssuer(
  responders: readonly { readonly name: string; readonly issuers: readonly IssuerConfig[] }[],
  options: SignerNewOptions,
): Promise<{ issuer: IssuerConfig; ca: Buffer; field: string }> {
  const wanted = options.issuer.trim().toLowerCase();
  const found: { issuer: IssuerConfig; ca: Buffer; field: string }[] = [];
  const served: string[] = [];
  for (const [index, responder] of responders.entries()) {
    if (options.responder !== undefined && responder.name !== options.responder) continue;
    for (const [issuerIndex, issuer] of responder.issuers.entries()) {
      const field = `responders[${index}].issuers[${issuerIndex}]`;
      const ca = await readCertificateFile(issuer.certificate, `${field}.certificate`);
      const subject = new X509Certificate(ca).subject.split("\n");
      const commonName = subject.find((part) => part.startsWith("CN="))?.slice(3) ?? "";
      served.push(`"${commonName}"`);
      if (commonName.toLowerCase() === wanted || subject.join(", ").toLowerCase() === wanted) found.push({ issuer, ca, field });
    }
  }
  if (found.length === 0) throw new ConfigError("--issuer", `no issuer "${options.issuer}" in the configuration (it serves ${[...new Set(served)].join(", ") || "none"}${options.responder === undefined ? "" : ` for responder ${options.responder}`})`);
  const distinct = new Set(found.map((match) => JSON.stringify(signersOf(match.issuer).map((block) => block.config))));
  if (distinct.size > 1) throw new ConfigError("--issuer", `"${options.issuer}" is served with different signers by several responders: choose one with --responder`);
  return found[0]!;
}

/**
 * The signer a client without preferences gets now: among the issuer's signer certificates valid now,
 * a classical one before a post-quantum one, the newest (latest notBefore) first; when none is valid,
 * the newest of all.
 */
async function currentSigner(issuer: IssuerConfig, ca: Buffer, field: string): Promise<CurrentSigner> {
  const candidates: CurrentSigner[] = [];
  for (const { config, field: blockField } of signersOf(issuer)) {
    const at = `${field}.${blockField}`;
    if (config.directory === undefined) {
      candidates.push({ certificate: config.certificate === undefined ? ca : await readCertificateFile(config.certificate, `${at}.certificate`), block: config, field: at });
      continue;
    }
    const names = await readdir(config.directory).catch((error: unknown) => {
      throw new ConfigError(`${at}.directory`, `${config.directory}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
    });
    for (const name of names.filter((entry) => !entry.startsWith(".") && [".pem", ".crt", ".cer", ".der"].includes(extname(entry).toLowerCase()))) {
      const certificate = await readCertificateFile(join(config.directory, name), `${at}.directory`).catch(() => undefined);
      if (certificate !== undefined) candidates.push({ certificate, block: config, field: at });
    }
  }
  const now = Date.now();
  const facts = candidates.map((candidate) => {
    const x509 = new X509Certificate(candidate.certificate);
    const algorithm = keyAlgorithmOf(x509.publicKey);
    return { candidate, notBefore: Date.parse(x509.validFrom), notAfter: Date.parse(x509.validTo), postQuantum: algorithm !== undefined && algorithm.startsWith("ml-dsa") };
  });
  const valid = facts.filter((fact) => fact.notBefore <= now && now <= fact.notAfter);
  const pool = valid.length > 0 ? valid : facts;
  pool.sort((a, b) => Number(a.postQuantum) - Number(b.postQuantum) || b.notBefore - a.notBefore);
  const chosen = pool[0];
  if (chosen === undefined) throw new ConfigError(`${field}.signer`, "the issuer has no signer certificate to model the next signer on");
  return chosen.candidate;
}

function chosenAlgorithm(option: string | undefined, current: X509Certificate): SignerKeyAlgorithm {
  if (option !== undefined) {
    const known = SIGNER_KEY_ALGORITHMS.find((algorithm) => algorithm === option.toLowerCase());
    if (known === undefined) throw new ConfigError("--algorithm", `must be one of ${SIGNER_KEY_ALGORITHMS.join(", ")}`);
    return known;
  }
  const same = keyAlgorithmOf(current.publicKey);
  if (same === undefined) throw new ConfigError("--algorithm", `the current signer's key (${current.publicKey.asymmetricKeyType ?? "unknown"}) cannot be made again: choose one of ${SIGNER_KEY_ALGORITHMS.join(", ")}`);
  return same;
}

async function writeNew(file: string, text: string, option: string): Promise<void> {
  await writeFile(file, text, { flag: "wx" }).catch((error: unknown) => {
    throw new ConfigError(option, `${file}: cannot write (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  });
}

function print(lines: readonly string[]): void {
  process.stdout.write(`${lines.join("\n")}\n`);
}

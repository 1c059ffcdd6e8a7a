/**
 * Signer helpers for the signer end-to-end tests (issue 15): delegated OCSP signers issued by a
 * generated PKI's CA with `openssl ca` for exact validity windows (seconds), OCSP requests carrying
 * preferred-signature-algorithms (RFC 6960 §4.4.7, which `openssl ocsp` cannot add), and the checks
 * of a response's signature by Node's crypto and by @noble/post-quantum (independent of OpenSSL).
 */
import { X509Certificate, verify } from "node:crypto";
import { copyFile, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import { certificateFields } from "../../src/ocsp/certificate-fields.ts";
import { encodeCertId } from "../../src/ocsp/cert-id.ts";
import { decodeOcspResponse, type DecodedBasicResponse } from "../../src/ocsp/decode-response.ts";
import { sequence } from "../../src/ocsp/der-writer.ts";
import { encodeOcspRequest, encodeTbsRequest } from "../../src/ocsp/encode-request.ts";
import { id_pkix_ocsp_pref_sig_algs } from "../../src/ocsp/oids.ts";
import { generateKey, openssl, readPemDer, type Pki, type PkiKeyType } from "../../src/pki/openssl-pki.ts";
import type { KnownSignatureAlgorithm } from "../../src/signing/signature-algorithms.ts";
import { openssl as runOpenssl, postOcsp } from "./openssl.ts";
import type { VouchProcess } from "./vouch-process.ts";
import { waitForLogs, withMessage } from "./wait-for-log.ts";

/** `openssl ca` time: YYYYMMDDHHMMSSZ (whole seconds). */
export function caTime(at: number): string {
  return `${new Date(Math.floor(at / 1000) * 1000).toISOString().replace(/[-:T]|\.\d+/g, "")}`;
}

export interface IssuedSigner {
  readonly certificate: string;
  readonly key: string;
  /** Serial as `openssl x509 -serial` prints it (upper-case hex). */
  readonly serial: string;
}

/**
 * Issues a delegated OCSP signer (the PKI's signer_ext profile: id-kp-OCSPSigning, ocsp-nocheck)
 * valid from `notBefore` to `notAfter` (milliseconds, whole seconds kept) as `<dir>/<name>.pem` with
 * key `<dir>/<name>.key`. One at a time per PKI: `openssl ca` keeps its serial and database in files.
 */
export async function issueSigner(pki: Pki, dir: string, name: string, notBefore: number, notAfter: number, keyType: PkiKeyType = "ecdsa-p256"): Promise<IssuedSigner> {
  const key = join(dir, `${name}.key`);
  const csr = join(pki.stateDir, `${name}-${Date.now()}.csr`);
  const certificate = join(dir, `${name}.pem`);
  await generateKey(keyType, key);
  await openssl(["req", "-new", "-key", key, "-out", csr, "-subj", `/C=SE/O=Vouch Demo/CN=${name}`, "-config", pki.opensslConfig]);
  await openssl(["ca", "-batch", "-config", pki.opensslConfig, "-in", csr, "-out", certificate, "-notext", "-extensions", "signer_ext", "-startdate", caTime(notBefore), "-enddate", caTime(notAfter)]);
  return { certificate, key, serial: new X509Certificate(await readPemDer(certificate)).serialNumber.toUpperCase() };
}

/** Copies a signer's pair into `dir` as NAME.pem and NAME.key (the key first, as an operator or a renewal would). */
export async function dropSigner(signer: IssuedSigner, dir: string, name: string): Promise<void> {
  await copyFile(signer.key, join(dir, `${name}.key`));
  await copyFile(signer.certificate, join(dir, `${name}.pem`));
}

/** An OCSP request (SHA-1 CertID) for `serialHex` of `issuer` (DER), preferring `prefer` (signature algorithms, in order). */
export function ocspRequest(issuer: Buffer, serialHex: string, prefer: readonly KnownSignatureAlgorithm[] = []): Buffer {
  const serial = Buffer.from(serialHex.length % 2 === 0 ? serialHex : `0${serialHex}`, "hex");
  // PreferredSignatureAlgorithms ::= SEQUENCE OF SEQUENCE { sigIdentifier AlgorithmIdentifier, certIdentifier ... OPTIONAL }
  const extensions = prefer.length === 0 ? [] : [{ oid: id_pkix_ocsp_pref_sig_algs, critical: false, value: sequence(...prefer.map((algorithm) => sequence(algorithm.identifier.der))) }];
  return encodeOcspRequest(encodeTbsRequest({ certIds: [encodeCertId("sha1", issuer, serial)], extensions }));
}

/** A successful response's BasicOCSPResponse; throws naming the status otherwise. */
export function basicOf(body: Buffer): DecodedBasicResponse {
  const decoded = decodeOcspResponse(body);
  if (decoded.status !== "successful") throw new Error(`OCSP response status ${decoded.status}`);
  return decoded.basic;
}

const NOBLE = { "ml-dsa-44": ml_dsa44, "ml-dsa-65": ml_dsa65, "ml-dsa-87": ml_dsa87 } as const;

/**
 * Verifies an ML-DSA-signed response twice: with Node's crypto (OpenSSL 3.5 inside) and with
 * @noble/post-quantum, over the exact tbsResponseData bytes, with the key of the first certificate in
 * `certs`; and checks that certificate was issued by `issuer` (DER) and may sign OCSP responses.
 * Returns the signer certificate. Throws naming the check that failed.
 */
export function verifyMlDsaResponse(body: Buffer, issuer: Buffer): X509Certificate {
  const basic = basicOf(body);
  const signer = new X509Certificate(basic.certs[0] ?? Buffer.alloc(0));
  const type = signer.publicKey.asymmetricKeyType as keyof typeof NOBLE;
  const noble = NOBLE[type];
  if (noble === undefined) throw new Error(`the signer key is ${type}, not ML-DSA`);
  if (basic.signatureAlgorithm.oid !== { "ml-dsa-44": "2.16.840.1.101.3.4.3.17", "ml-dsa-65": "2.16.840.1.101.3.4.3.18", "ml-dsa-87": "2.16.840.1.101.3.4.3.19" }[type]) {
    throw new Error(`signatureAlgorithm ${basic.signatureAlgorithm.oid} does not match the ${type} key`);
  }
  if (basic.signatureAlgorithm.der.length !== 13) throw new Error("RFC 9881: the ML-DSA AlgorithmIdentifier has no parameters");
  if (!verify(null, basic.tbsResponseDataDer, signer.publicKey, basic.signature)) throw new Error("Node's crypto does not verify the signature");
  const rawKey = certificateFields(Buffer.from(signer.raw)).subjectPublicKey;
  if (!noble.verify(basic.signature, basic.tbsResponseDataDer, rawKey)) throw new Error("@noble/post-quantum does not verify the signature");
  const ca = new X509Certificate(issuer);
  if (!signer.raw.equals(ca.raw)) {
    if (!signer.checkIssued(ca) || !signer.verify(ca.publicKey)) throw new Error("the signer certificate was not issued by the CA");
    if (!(signer.keyUsage ?? []).includes("1.3.6.1.5.5.7.3.9")) throw new Error("the signer certificate lacks id-kp-OCSPSigning");
  }
  return signer;
}

/** The serial (upper-case hex) of the certificate that signed a response: the first of its certs. */
export function signerSerial(body: Buffer): string {
  return new X509Certificate(basicOf(body).certs[0] ?? Buffer.alloc(0)).serialNumber.toUpperCase();
}

/**
 * `openssl ocsp -respin` verifies a classical response for serial `serial` of the PKI's CA against
 * its root (as of `at`, milliseconds, when given: a signer that has expired since) and says `good`.
 * Returns openssl's output; throws with it otherwise.
 */
export async function opensslVerifiesGood(pki: Pki, body: Buffer, serial: string, at?: number): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "vouch-response-")), "response.der");
  await writeFile(file, body);
  const when = at === undefined ? [] : ["-attime", String(Math.floor(at / 1000))];
  const result = await runOpenssl(["ocsp", "-respin", file, "-issuer", pki.ca, "-serial", `0x${serial}`, "-CAfile", pki.root, "-verify_other", pki.ca, ...when]);
  if (!/Response verify OK/.test(result.output) || !new RegExp(`0x${serial}: good`, "i").test(result.output)) throw new Error(`openssl ocsp did not verify a good answer: ${result.output}`);
  return result.output;
}

/** Asks `url` for `request` until the response is signed by `serial` (signer files are picked up asynchronously); returns that response. */
export async function untilSignedBy(url: string, request: Buffer, serial: string, timeoutMs = 15_000): Promise<Buffer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await postOcsp(url, request);
    if (signerSerial(response.body) === serial) return response.body;
    if (Date.now() > deadline) throw new Error(`responses still signed by ${signerSerial(response.body)}, not ${serial}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The admin listener's base URL, from its "admin listening" log line. */
export async function adminUrlOf(vouch: VouchProcess): Promise<string> {
  return `http://127.0.0.1:${(await waitForLogs(vouch, withMessage("admin listening")))[0]!.port as number}`;
}

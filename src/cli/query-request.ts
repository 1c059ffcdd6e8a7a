import { X509Certificate, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigError } from "../errors.ts";
import { encodeCertId } from "../ocsp/cert-id.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { directoryName, encodeOcspRequest, encodeTbsRequest } from "../ocsp/encode-request.ts";
import { freshnessProofExtension } from "../ocsp/freshness-proof.ts";
import { minimalSerial } from "../ocsp/minimal-serial.ts";
import type { HashAlgorithm } from "../ocsp/types.ts";
import { readCertificateFile, readCertificatesFile } from "../certificate-file.ts";
import { keyFileSigner } from "../signing/key-file-signer.ts";

/** The `vouch query` options that shape the request. */
export interface QueryRequestOptions {
  readonly issuer: string;
  readonly cert: readonly string[];
  readonly serial: readonly string[];
  readonly hash: HashAlgorithm;
  readonly nonce: boolean;
  readonly sign?: string | undefined;
  readonly signKey?: string | undefined;
  readonly signChain: readonly string[];
  readonly freshnessProof: readonly string[];
}

/** One certificate asked about. */
export interface Asked {
  /** How the user named it: the certificate file, or the serial. */
  readonly label: string;
  readonly certIdDer: Buffer;
}

/** A request ready to send, and what its answer must match. */
export interface BuiltQuery {
  readonly der: Buffer;
  readonly issuer: Buffer;
  readonly asked: readonly Asked[];
  /** The nonce extension's extnValue content (as the response echoes it), when one was sent. */
  readonly nonce: Buffer | undefined;
  /** The OCSP URL from the first certificate's authorityInfoAccess, when it has one. */
  readonly aiaUrl: string | undefined;
}

/** Nonce length sent: RFC 8954's recommended size. */
const NONCE_OCTETS = 32;

/**
 * Builds the OCSPRequest of `vouch query`: one CertID per `--cert` and `--serial` (against
 * `--issuer`), a fresh nonce unless `--no-nonce`, the freshness proof from `--freshness-proof` files
 * (whole DER OCSPResponses), signed with `--sign`/`--sign-key` (requestorName = the signer's subject,
 * certs = the signer's certificate then `--sign-chain`). Throws ConfigError naming the option.
 */
export async function buildQueryRequest(options: QueryRequestOptions): Promise<BuiltQuery> {
  const issuer = await readCertificateFile(options.issuer, "--issuer");
  const asked: Asked[] = [];
  let aiaUrl: string | undefined;
  for (const file of options.cert) {
    const certificate = await readCertificateFile(file, "--cert");
    const fields = certificateFields(certificate);
    if (!fields.issuerDer.equals(certificateFields(issuer).subjectDer)) throw new ConfigError("--cert", `${file}: was not issued by the --issuer CA (issuer names differ)`);
    aiaUrl ??= ocspUrlOf(certificate);
    asked.push({ label: file, certIdDer: encodeCertId(options.hash, issuer, minimalSerial(fields.serialNumber)) });
  }
  for (const text of options.serial) asked.push({ label: `serial ${text}`, certIdDer: encodeCertId(options.hash, issuer, serialContent(text)) });
  if (asked.length === 0) throw new ConfigError("--cert", "name at least one certificate (--cert FILE) or serial (--serial HEX)");

  const nonceOctets = options.nonce ? randomBytes(NONCE_OCTETS) : undefined;
  const proofs = await Promise.all(options.freshnessProof.map((file) => readProofResponse(file)));
  let extensions;
  try {
    extensions = proofs.length === 0 ? [] : [freshnessProofExtension(proofs)];
  } catch (error) {
    throw new ConfigError("--freshness-proof", error instanceof Error ? error.message : String(error), { cause: error });
  }

  if ((options.sign === undefined) !== (options.signKey === undefined)) throw new ConfigError("--sign", "--sign and --sign-key go together");
  const signerCertificate = options.sign === undefined ? undefined : await readCertificateFile(options.sign, "--sign");
  const tbs = encodeTbsRequest({
    certIds: asked.map((entry) => entry.certIdDer),
    requestorName: signerCertificate === undefined ? undefined : directoryName(certificateFields(signerCertificate).subjectDer),
    nonce: nonceOctets,
    extensions,
  });
  let der: Buffer;
  if (signerCertificate === undefined) {
    der = encodeOcspRequest(tbs);
  } else {
    const signer = await keyFileSigner({ keyFile: options.signKey!, certificate: signerCertificate, rsaPadding: "pkcs1", field: "--sign-key" });
    const algorithm = signer.algorithms[0]!;
    const chain = (await Promise.all(options.signChain.map((file) => readCertificatesFile(file, "--sign-chain")))).flat();
    der = encodeOcspRequest(tbs, { algorithmDer: algorithm.identifier.der, signature: await signer.sign(tbs, algorithm), certs: [signerCertificate, ...chain] });
  }
  // The response echoes the extnValue content: the DER of Nonce ::= OCTET STRING.
  const nonce = nonceOctets === undefined ? undefined : Buffer.concat([Buffer.of(0x04, nonceOctets.length), nonceOctets]);
  return { der, issuer, asked, nonce, aiaUrl };
}

async function readProofResponse(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError("--freshness-proof", `${file}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(error)})`}`, { cause: error });
  }
}

/**
 * `--serial` text: hex, with or without 0x and colons, read as a positive number (a CA's serial
 * written out), so its INTEGER content drops leading zeros and gains one 0x00 before an octet from
 * 0x80. Not minimalSerial, which reads octets as a signed INTEGER: "ff80" would be -128 there.
 */
function serialContent(text: string): Buffer {
  const hex = text.replace(/^0x/i, "").replaceAll(":", "");
  if (!/^[0-9a-fA-F]{1,40}$/.test(hex)) throw new ConfigError("--serial", `"${text}" is not a hexadecimal serial number (at most 20 octets)`);
  const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0x00) start++;
  const magnitude = bytes.subarray(start);
  return (magnitude[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.of(0), magnitude]) : magnitude;
}

function ocspUrlOf(certificate: Buffer): string | undefined {
  const access = new X509Certificate(certificate).infoAccess;
  return access === undefined ? undefined : /OCSP - URI:(\S+)/.exec(access)?.[1];
}

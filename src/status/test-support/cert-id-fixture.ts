/**
 * CertIDs for tests, built from real certificate files the way a client builds them.
 */
import { encodeCertId, issuerHashes } from "../../ocsp/cert-id.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import type { CertId, HashAlgorithm } from "../../ocsp/types.ts";
import { readPemDer } from "../../pki/openssl-pki.ts";

/**
 * The CertID of the certificate in `certificateFile` (PEM) as issued by `issuerFile` (PEM), with
 * `hash`. `padSerial` prepends that many redundant 0x00 octets to the serial's INTEGER content,
 * as a careless client might. Rejects when a file is not a PEM certificate.
 */
export async function certIdOfFiles(certificateFile: string, issuerFile: string, hash: HashAlgorithm = "sha1", padSerial = 0): Promise<CertId> {
  const [certificate, issuer] = await Promise.all([readPemDer(certificateFile), readPemDer(issuerFile)]);
  return certIdFor(certificateFields(certificate).serialNumber, issuer, hash, padSerial);
}

/** The CertID of serial content octets `serial` under the issuer certificate DER `issuer`. */
export function certIdFor(serial: Buffer, issuer: Buffer, hash: HashAlgorithm = "sha1", padSerial = 0): CertId {
  const hashes = issuerHashes(issuer).get(hash);
  if (hashes === undefined) throw new Error(`no ${hash} hashes`);
  const serialNumber = Buffer.concat([Buffer.alloc(padSerial), serial]);
  return {
    hashAlgorithm: hash,
    issuerNameHash: hashes.nameHash,
    issuerKeyHash: hashes.keyHash,
    serialNumber,
    der: encodeCertId(hash, issuer, serial),
  };
}

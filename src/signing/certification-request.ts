/**
 * PKCS#10 certificate requests (RFC 2986) for the next signer (`vouch signer new`, automatic
 * renewal), with the delegated responder profile of RFC 6960 §4.2.2.2 asked for in an
 * extensionRequest attribute (PKCS#9, 1.2.840.113549.1.9.14): basicConstraints CA:FALSE (critical),
 * keyUsage digitalSignature (critical), extKeyUsage id-kp-OCSPSigning and id-pkix-ocsp-nocheck. A CA
 * applies its own profile; `openssl ca` copies the requested extensions only with `copy_extensions`.
 */
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { DerReader, TAG } from "../ocsp/der-reader.ts";
import { DER_NULL, bitString, boolean, integer, octetString, oid, sequence, tlv } from "../ocsp/der-writer.ts";
import { id_kp_OCSPSigning, id_pkix_ocsp_nocheck } from "../ocsp/oids.ts";
import type { Awaitable } from "../awaitable.ts";
import type { SignatureAlgorithm } from "./signer.ts";

const id_extensionRequest = "1.2.840.113549.1.9.14";
const id_ce_basicConstraints = "2.5.29.19";
const id_ce_keyUsage = "2.5.29.15";
const id_ce_extKeyUsage = "2.5.29.37";
const id_at_commonName = "2.5.4.3";

export interface CertificationRequestOptions {
  /** The DER Name the request asks for. */
  readonly subjectDer: Buffer;
  /** The new key's SubjectPublicKeyInfo DER. */
  readonly subjectPublicKeyInfoDer: Buffer;
  /** Signs the request with the new key (proof of possession): the key's default algorithm. */
  readonly algorithm: SignatureAlgorithm;
  readonly sign: (tbs: Buffer, algorithm: SignatureAlgorithm) => Awaitable<Buffer>;
}

/** The DER CertificationRequest, signed by the new key. Rejects as `sign` does. */
export async function certificationRequest(options: CertificationRequestOptions): Promise<Buffer> {
  const extension = (id: string, critical: boolean, value: Buffer) => (critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value)));
  const extensions = sequence(
    extension(id_ce_basicConstraints, true, sequence()),
    // digitalSignature is bit 0: one octet 0x80 with 7 unused bits.
    extension(id_ce_keyUsage, true, Buffer.from([0x03, 0x02, 0x07, 0x80])),
    extension(id_ce_extKeyUsage, false, sequence(oid(id_kp_OCSPSigning))),
    extension(id_pkix_ocsp_nocheck, false, DER_NULL),
  );
  const attributes = tlv(0xa0, sequence(oid(id_extensionRequest), tlv(0x31, extensions)));
  const info = sequence(integer(0), options.subjectDer, options.subjectPublicKeyInfoDer, attributes);
  const signature = await options.sign(info, options.algorithm);
  return sequence(info, options.algorithm.identifier.der, bitString(signature));
}

/** PEM of a request, as `openssl req` writes it. */
export function requestPem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
}

/**
 * The subject for the next signer: the current delegated signer's own; when the CA signs for itself,
 * the CA's name with its common name replaced by "<CA common name> OCSP Responder".
 */
export function nextSignerSubject(signerCertificate: Buffer, caCertificate: Buffer): Buffer {
  const signer = certificateFields(signerCertificate).subjectDer;
  if (!signerCertificate.equals(caCertificate)) return signer;
  const name = DerReader.of(signer, "Name");
  const outer = name.enterNext(TAG.SEQUENCE, "Name");
  const kept: Buffer[] = [];
  let commonName = "";
  while (outer.hasMore) {
    const rdn = outer.next();
    const value = rdnCommonName(outer.whole(rdn));
    if (value === undefined) kept.push(outer.whole(rdn));
    else commonName = value;
  }
  const cn = `${commonName === "" ? "CA" : commonName} OCSP Responder`;
  kept.push(tlv(0x31, sequence(oid(id_at_commonName), tlv(0x0c, Buffer.from(cn, "utf8")))));
  return sequence(...kept);
}

/** The common name in a RelativeDistinguishedName, or undefined when it holds none. */
function rdnCommonName(rdnDer: Buffer): string | undefined {
  const set = DerReader.of(rdnDer, "RDN").enterNext(TAG.SET, "RDN");
  while (set.hasMore) {
    const attribute = set.enterNext(TAG.SEQUENCE, "AttributeTypeAndValue");
    const type = attribute.expect(TAG.OID, "type");
    if (attribute.content(type).equals(oid(id_at_commonName).subarray(2))) return attribute.content(attribute.next()).toString("utf8");
  }
  return undefined;
}

/**
 * X.509 certificates built by hand and signed with node:crypto, for keys that the system's OpenSSL
 * 3.0 CLI cannot handle: ML-DSA (RFC 9881). Node 24's bundled OpenSSL 3.5 signs and verifies them,
 * but nothing in Node issues certificates, so the TBSCertificate is written here (RFC 5280 §4.1).
 * The issuer may be classical (an `openssl ca`-made P-256 CA issuing a delegated ML-DSA signer: the
 * migration path) or ML-DSA itself. Used by the tests and the benchmark's ML-DSA PKI.
 */
import { createHash, createPublicKey, randomBytes, sign, type KeyObject } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { DerReader, TAG } from "../ocsp/der-reader.ts";
import { DER_NULL, bitString, boolean, explicit, integer, octetString, oid, sequence, tlv } from "../ocsp/der-writer.ts";
import { id_kp_OCSPSigning, id_pkix_ocsp_nocheck } from "../ocsp/oids.ts";
import { ECDSA_WITH_SHA256, ECDSA_WITH_SHA384, ED25519, ML_DSA_44, ML_DSA_65, ML_DSA_87, SHA256_WITH_RSA } from "../signing/signature-algorithms.ts";

/** What a certificate is for: its extensions. */
export type CertificateProfile = "ca" | "ocsp-signer" | "leaf";

export interface NodeCertificateOptions {
  /** Subject common name (C=SE, O=Vouch Test are prepended). */
  readonly commonName: string;
  readonly subjectKey: KeyObject;
  /** The issuer's certificate DER, or undefined for a self-signed one (then `issuerKey` is the subject's own private key). */
  readonly issuerCertificate?: Buffer;
  readonly issuerKey: KeyObject;
  readonly profile: CertificateProfile;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Positive serial in hex; random by default. */
  readonly serialHex?: string;
}

/** A DER Name C=SE, O=Vouch Test, CN=`commonName`. */
function testName(commonName: string): Buffer {
  const rdn = (type: string, tag: number, value: string) => tlv(0x31, sequence(oid(type), tlv(tag, Buffer.from(value, "utf8"))));
  return sequence(rdn("2.5.4.6", 0x13, "SE"), rdn("2.5.4.10", 0x0c, "Vouch Test"), rdn("2.5.4.3", 0x0c, commonName));
}

/** The certificate's DER. */
export function nodeCertificate(options: NodeCertificateOptions): Buffer {
  const subjectDer = testName(options.commonName);
  const issuerDer = options.issuerCertificate === undefined ? subjectDer : certificateFields(options.issuerCertificate).subjectDer;
  const spki = createPublicKey(options.subjectKey).export({ type: "spki", format: "der" });
  const issuerSpki = options.issuerCertificate === undefined ? spki : certificateFields(options.issuerCertificate).subjectPublicKeyInfoDer;
  const extension = (id: string, critical: boolean, value: Buffer) => (critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value)));
  const extensions = [
    extension("2.5.29.14", false, octetString(keyId(spki))),
    extension("2.5.29.35", false, sequence(tlv(0x80, keyId(issuerSpki)))),
    ...profileExtensions(options.profile, extension),
  ];
  const serialHex = options.serialHex ?? `4${randomBytes(8).toString("hex")}`;
  const algorithm = signatureAlgorithmOf(options.issuerKey);
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(Buffer.from(serialHex.length % 2 === 0 ? serialHex : `0${serialHex}`, "hex")),
    algorithm.identifier.der,
    issuerDer,
    sequence(utcOrGeneralized(options.notBefore), utcOrGeneralized(options.notAfter)),
    subjectDer,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign(algorithm.recipe.digest, tbs, options.issuerKey);
  return sequence(tbs, algorithm.identifier.der, bitString(signature));
}

/** Writes `der` as PEM. */
export async function writeCertificatePem(file: string, der: Buffer): Promise<void> {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  await writeFile(file, `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`);
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value. */
function keyId(spki: Buffer): Buffer {
  const reader = DerReader.of(spki, "SubjectPublicKeyInfo").enterNext(TAG.SEQUENCE, "SubjectPublicKeyInfo");
  reader.next();
  return createHash("sha1").update(reader.content(reader.expect(TAG.BIT_STRING, "subjectPublicKey")).subarray(1)).digest();
}

function profileExtensions(profile: CertificateProfile, extension: (id: string, critical: boolean, value: Buffer) => Buffer): Buffer[] {
  switch (profile) {
    case "ca":
      return [extension("2.5.29.19", true, sequence(boolean(true))), extension("2.5.29.15", true, Buffer.from([0x03, 0x02, 0x01, 0x06]))];
    case "ocsp-signer":
      return [
        extension("2.5.29.19", true, sequence()),
        extension("2.5.29.15", true, Buffer.from([0x03, 0x02, 0x07, 0x80])),
        extension("2.5.29.37", true, sequence(oid(id_kp_OCSPSigning))),
        extension(id_pkix_ocsp_nocheck, false, DER_NULL),
      ];
    case "leaf":
      return [extension("2.5.29.19", true, sequence()), extension("2.5.29.15", true, Buffer.from([0x03, 0x02, 0x07, 0x80]))];
  }
}

function signatureAlgorithmOf(key: KeyObject) {
  switch (key.asymmetricKeyType) {
    case "ml-dsa-44":
      return ML_DSA_44;
    case "ml-dsa-65":
      return ML_DSA_65;
    case "ml-dsa-87":
      return ML_DSA_87;
    case "ed25519":
      return ED25519;
    case "rsa":
      return SHA256_WITH_RSA;
    case "ec":
      return key.asymmetricKeyDetails?.namedCurve === "secp384r1" ? ECDSA_WITH_SHA384 : ECDSA_WITH_SHA256;
    default:
      throw new Error(`no signature algorithm for ${key.asymmetricKeyType ?? "?"} keys`);
  }
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
function utcOrGeneralized(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]|\.\d+/g, "");
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), "ascii")) : tlv(0x18, Buffer.from(iso, "ascii"));
}

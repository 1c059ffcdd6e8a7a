/**
 * The parts of an X.509 v3 certificate (RFC 5280 §4) that path validation needs: names, key
 * identifiers and the extensions that constrain a path. Parsing is strict DER with the shared
 * reader, so a certificate Vouch trusts is one any other parser reads the same way.
 */
import { MalformedRequestError } from "../errors.ts";
import type { CertificateFields } from "../ocsp/certificate-fields.ts";
import { CertificateFormatError, certificateFields } from "../ocsp/certificate-fields.ts";
import { decodeOid } from "../ocsp/der-oid.ts";
import { DerReader, TAG } from "../ocsp/der-reader.ts";
import { id_ce_authorityKeyIdentifier, id_pkix_ocsp_nocheck } from "../ocsp/oids.ts";
import type { Extension } from "../ocsp/types.ts";
import type { NameRdn } from "./distinguished-name.ts";
import { decodeName } from "./distinguished-name.ts";
import { namesEqual } from "./name-compare.ts";
import type { GeneralName, NameConstraints } from "./parse-general-names.ts";
import { readGeneralNames, readNameConstraints } from "./parse-general-names.ts";

/** Extension OIDs (RFC 5280 §4.2) the validation process reads. */
const EXTENSION = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  nameConstraints: "2.5.29.30",
  authorityKeyIdentifier: id_ce_authorityKeyIdentifier,
  extKeyUsage: "2.5.29.37",
  ocspNoCheck: id_pkix_ocsp_nocheck,
} as const;

/**
 * Extensions that may be critical without failing the path although Vouch does not act on them,
 * because acting on them cannot reject a path here: certificate policies (path validation runs with
 * any-policy and no explicit-policy requirement, RFC 5280 §6.1.1, so the policy tree never fails),
 * and the pointers to revocation data and issuer information (CRL distribution points, freshest
 * CRL, authority information access, issuer alternative name): Vouch's revocation data comes from
 * its configured sources. policyConstraints, policyMappings and inhibitAnyPolicy are NOT here: they
 * can demand a policy Vouch does not check, so when critical they fail the path (fail closed).
 */
const RECOGNISED_UNPROCESSED = new Set(["2.5.29.32", "2.5.29.31", "2.5.29.46", "1.3.6.1.5.5.7.1.1", "2.5.29.18"]);

const PROCESSED: ReadonlySet<string> = new Set(Object.values(EXTENSION));

/** KeyUsage bits (RFC 5280 §4.2.1.3), in bit order. */
const KEY_USAGE_BITS = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
] as const;

/** One KeyUsage bit name. */
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

/** BasicConstraints (RFC 5280 §4.2.1.9). */
export interface BasicConstraints {
  readonly ca: boolean;
  /** pathLenConstraint, when present. */
  readonly pathLength: number | undefined;
}

/** A certificate with the fields and extensions the validation process reads. */
export interface ParsedCertificate {
  readonly der: Buffer;
  readonly fields: CertificateFields;
  /** Subject and issuer RDNs in DER order. */
  readonly subject: readonly NameRdn[];
  readonly issuer: readonly NameRdn[];
  /** Issuer and subject are the same name (RFC 5280 §6.1: "self-issued"). */
  readonly selfIssued: boolean;
  readonly extensions: readonly Extension[];
  readonly basicConstraints: BasicConstraints | undefined;
  readonly keyUsage: ReadonlySet<KeyUsage> | undefined;
  /** extendedKeyUsage KeyPurposeIds (dotted), when present. */
  readonly extendedKeyUsage: ReadonlySet<string> | undefined;
  readonly subjectKeyId: Buffer | undefined;
  /** authorityKeyIdentifier's keyIdentifier, when present. */
  readonly authorityKeyId: Buffer | undefined;
  /** subjectAltName entries (empty when absent). */
  readonly subjectAltNames: readonly GeneralName[];
  readonly nameConstraints: NameConstraints | undefined;
  /** Carries id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1). */
  readonly ocspNoCheck: boolean;
  /** Critical extensions Vouch neither processes nor may safely ignore. */
  readonly unknownCritical: readonly string[];
}

/** Parses `der`; throws CertificateFormatError when it is not a well-formed v1/v3 certificate. */
export function parseCertificate(der: Buffer): ParsedCertificate {
  const fields = certificateFields(der);
  try {
    const extensions = readExtensions(der);
    const subject = decodeName(fields.subjectDer);
    const issuer = decodeName(fields.issuerDer);
    const value = (oid: string): Buffer | undefined => extensions.find((extension) => extension.oid === oid)?.value;
    const parsed = <T>(oid: string, read: (reader: DerReader) => T): T | undefined => {
      const content = value(oid);
      if (content === undefined) return undefined;
      const reader = DerReader.of(content, oid);
      const result = read(reader);
      reader.finish();
      return result;
    };
    return {
      der,
      fields,
      subject,
      issuer,
      selfIssued: fields.subjectDer.equals(fields.issuerDer) || namesEqual(subject, issuer),
      extensions,
      basicConstraints: parsed(EXTENSION.basicConstraints, readBasicConstraints),
      keyUsage: parsed(EXTENSION.keyUsage, readKeyUsage),
      extendedKeyUsage: parsed(EXTENSION.extKeyUsage, readExtendedKeyUsage),
      subjectKeyId: parsed(EXTENSION.subjectKeyIdentifier, (reader) => reader.octetString("subjectKeyIdentifier")),
      authorityKeyId: parsed(EXTENSION.authorityKeyIdentifier, readAuthorityKeyId),
      subjectAltNames: parsed(EXTENSION.subjectAltName, (reader) => readGeneralNames(reader, "subjectAltName")) ?? [],
      nameConstraints: parsed(EXTENSION.nameConstraints, readNameConstraints),
      // The value is NULL; some old signers wrote an empty extnValue, which means the same.
      ocspNoCheck:
        parsed(EXTENSION.ocspNoCheck, (reader) => {
          if (reader.hasMore) reader.checkNull(reader.next(), "ocspNoCheck");
          return true;
        }) ?? false,
      unknownCritical: extensions
        .filter((extension) => extension.critical && !PROCESSED.has(extension.oid) && !RECOGNISED_UNPROCESSED.has(extension.oid))
        .map((extension) => extension.oid),
    };
  } catch (error) {
    if (error instanceof MalformedRequestError) throw new CertificateFormatError(error.message.replace("malformed DER", "bad certificate DER"), { cause: error });
    throw error;
  }
}

/**
 * The extensions of a certificate, re-walking the TBSCertificate past the fields certificateFields
 * reads. Also insists the signature AlgorithmIdentifier inside the TBS equals the outer one
 * (RFC 5280 §4.1.1.2) and that only v3 certificates carry extensions.
 */
function readExtensions(der: Buffer): Extension[] {
  const top = DerReader.of(der, "Certificate");
  const certificate = top.enterNext(TAG.SEQUENCE, "Certificate");
  const tbs = certificate.enterNext(TAG.SEQUENCE, "TBSCertificate");
  const outerAlgorithm = certificate.whole(certificate.expect(TAG.SEQUENCE, "signatureAlgorithm"));
  const versionTlv = tbs.optional(0xa0);
  let version = 0;
  if (versionTlv !== undefined) {
    const inner = tbs.enter(versionTlv, "version");
    version = inner.smallInteger(inner.expect(TAG.INTEGER, "version"), "version");
    inner.finish();
    if (version > 2) tbs.fail(`unsupported version ${version + 1}`);
  }
  tbs.expect(TAG.INTEGER, "serialNumber");
  const innerAlgorithm = tbs.whole(tbs.expect(TAG.SEQUENCE, "signature"));
  if (!innerAlgorithm.equals(outerAlgorithm)) tbs.fail("the TBS signature algorithm differs from signatureAlgorithm");
  for (const field of ["issuer", "validity", "subject", "subjectPublicKeyInfo"]) tbs.expect(TAG.SEQUENCE, field);
  tbs.optional(0x81); // issuerUniqueID
  tbs.optional(0x82); // subjectUniqueID
  const wrapper = tbs.optional(0xa3);
  tbs.finish();
  if (wrapper === undefined) return [];
  if (version !== 2) tbs.fail("extensions in a certificate that is not v3");
  const outer = tbs.enter(wrapper, "extensions");
  const list = outer.enterNext(TAG.SEQUENCE, "Extensions");
  outer.finish();
  const extensions: Extension[] = [];
  while (list.hasMore) {
    const extension = list.enterNext(TAG.SEQUENCE, "Extension");
    const oid = decodeOid(extension.oidContent("extnID"));
    const criticalTlv = extension.optional(TAG.BOOLEAN);
    const critical = criticalTlv === undefined ? false : extension.boolean(criticalTlv, "critical");
    const value = extension.octetString("extnValue");
    extension.finish();
    if (extensions.some((seen) => seen.oid === oid)) list.fail(`duplicate extension ${oid}`);
    extensions.push({ oid, critical, value });
  }
  return extensions;
}

function readBasicConstraints(reader: DerReader): BasicConstraints {
  const sequence = reader.enterNext(TAG.SEQUENCE, "BasicConstraints");
  const caTlv = sequence.optional(TAG.BOOLEAN);
  const ca = caTlv === undefined ? false : sequence.boolean(caTlv, "cA");
  const lengthTlv = sequence.optional(TAG.INTEGER);
  const pathLength = lengthTlv === undefined ? undefined : sequence.smallInteger(lengthTlv, "pathLenConstraint");
  sequence.finish();
  return { ca, pathLength };
}

function readKeyUsage(reader: DerReader): ReadonlySet<KeyUsage> {
  const tlv = reader.expect(TAG.BIT_STRING, "KeyUsage");
  const content = reader.content(tlv);
  const unused = content[0];
  if (unused === undefined || unused > 7) reader.fail("KeyUsage: bad BIT STRING", tlv.start);
  const bits = content.subarray(1);
  const usages = new Set<KeyUsage>();
  KEY_USAGE_BITS.forEach((name, bit) => {
    const octet = bits[bit >> 3] ?? 0;
    if ((octet & (0x80 >> (bit & 7))) !== 0) usages.add(name);
  });
  return usages;
}

function readExtendedKeyUsage(reader: DerReader): ReadonlySet<string> {
  const sequence = reader.enterNext(TAG.SEQUENCE, "ExtKeyUsageSyntax");
  const purposes = new Set<string>();
  while (sequence.hasMore) purposes.add(decodeOid(sequence.oidContent("KeyPurposeId")));
  if (purposes.size === 0) sequence.fail("empty extendedKeyUsage");
  return purposes;
}

function readAuthorityKeyId(reader: DerReader): Buffer | undefined {
  const sequence = reader.enterNext(TAG.SEQUENCE, "AuthorityKeyIdentifier");
  const keyId = sequence.optional(0x80);
  sequence.optional(0xa1); // authorityCertIssuer
  sequence.optional(0x82); // authorityCertSerialNumber
  sequence.finish();
  return keyId === undefined ? undefined : sequence.content(keyId);
}

/**
 * The handful of X.509 fields (RFC 5280 §4.1) OCSP needs from a certificate: names and
 * key for CertID hashes and ResponderIDs, serial and validity for lookups. This is a
 * cold path (configuration, reload); it reads with the strict reader's request limits but reports
 * CertificateFormatError, because a bad certificate is an operator's problem, not a client's.
 */
import type { DerRules, Tlv } from "./der-reader.ts";
import { contextConstructed, DerReader, REQUEST_DER, TAG } from "./der-reader.ts";
import { readSigned } from "./read-signed.ts";
import { readTime } from "./read-time.ts";

/** A certificate (or SubjectPublicKeyInfo) that is not the DER Vouch expects. */
export class CertificateFormatError extends Error {
  override readonly name = "CertificateFormatError";
}

/** How certificates are read: as requests are, but a fault is a CertificateFormatError. */
const CERTIFICATE_DER: DerRules = { ...REQUEST_DER, label: "bad certificate DER", error: (message) => new CertificateFormatError(message) };

/** Fields of one certificate; Buffers share memory with the input. */
export interface CertificateFields {
  /** The whole tbsCertificate TLV. */
  readonly tbsDer: Buffer;
  /** The serialNumber INTEGER's content octets. */
  readonly serialNumber: Buffer;
  /** The issuer Name TLV. */
  readonly issuerDer: Buffer;
  /** The subject Name TLV. */
  readonly subjectDer: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The whole SubjectPublicKeyInfo TLV. */
  readonly subjectPublicKeyInfoDer: Buffer;
  /** The subjectPublicKey BIT STRING's value without the unused-bits octet. */
  readonly subjectPublicKey: Buffer;
}

/** Extracts the fields from a DER certificate; throws CertificateFormatError if it is not one. */
export function certificateFields(der: Buffer): CertificateFields {
  const { reader: certificate, toBeSigned: tbsTlv } = readSigned(der, "Certificate", "tbsCertificate", CERTIFICATE_DER);

  const tbs = certificate.enter(tbsTlv, "TBSCertificate");
  tbs.optional(contextConstructed(0)); // version
  const serialTlv = tbs.expect(TAG.INTEGER, "serialNumber");
  if (serialTlv.end === serialTlv.contentStart) tbs.fail("empty serialNumber");
  tbs.expect(TAG.SEQUENCE, "signature");
  const issuerTlv = tbs.expect(TAG.SEQUENCE, "issuer");
  const validity = tbs.enterNext(TAG.SEQUENCE, "validity");
  const notBefore = readTime(validity, "notBefore");
  const notAfter = readTime(validity, "notAfter");
  validity.finish();
  const subjectTlv = tbs.expect(TAG.SEQUENCE, "subject");
  const spkiTlv = tbs.expect(TAG.SEQUENCE, "subjectPublicKeyInfo");
  // issuerUniqueID, subjectUniqueID and extensions are not needed here.
  return {
    tbsDer: certificate.whole(tbsTlv),
    serialNumber: tbs.content(serialTlv),
    issuerDer: tbs.whole(issuerTlv),
    subjectDer: tbs.whole(subjectTlv),
    notBefore,
    notAfter,
    subjectPublicKeyInfoDer: tbs.whole(spkiTlv),
    subjectPublicKey: readSubjectPublicKey(tbs, spkiTlv),
  };
}

/** The subjectPublicKey bits of a DER SubjectPublicKeyInfo; throws CertificateFormatError. */
export function subjectPublicKeyOfSpki(spkiDer: Buffer): Buffer {
  const top = DerReader.of(spkiDer, "SubjectPublicKeyInfo", CERTIFICATE_DER);
  const spkiTlv = top.expect(TAG.SEQUENCE, "SubjectPublicKeyInfo");
  top.finish();
  return readSubjectPublicKey(top, spkiTlv);
}

function readSubjectPublicKey(reader: DerReader, spkiTlv: Tlv): Buffer {
  const spki = reader.enter(spkiTlv, "SubjectPublicKeyInfo");
  spki.expect(TAG.SEQUENCE, "algorithm");
  const key = spki.octetAlignedBitString("subjectPublicKey");
  spki.finish();
  return key;
}

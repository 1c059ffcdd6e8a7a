/**
 * The trust folder's port for statuses that come from elsewhere than Vouch's own revocation
 * sources: the verified freshness proofs of ONE request (SPEC step 2, responses/verified-proofs.ts
 * implements it). The validation process asks it only while it authenticates that request's signer
 * chain, and only about certificates whose issuer no revocation source of Vouch serves
 * (revocation-lookup.ts).
 */
import type { CertificateFields } from "../ocsp/certificate-fields.ts";
import type { StatusAnswer } from "../status/status-source.ts";

/** What the validation process asks of the statuses a request's proofs give. */
export interface ProvenStatuses {
  /**
   * The status a verified proof gives the certificate with `serialNumber` (INTEGER content octets)
   * issued by `issuer` (matched by subject Name DER and public key, what a CertID hashes): the newest
   * one when several speak about it. `undefined` when none does.
   */
  statusOf(issuer: CertificateFields, serialNumber: Buffer): StatusAnswer | undefined;
}

/**
 * A serial's INTEGER content without redundant leading octets: a certificate with a padded serial
 * (seen in the wild) and a CertID that encodes it minimally name the same certificate.
 */
export function minimalSerial(serial: Buffer): Buffer {
  let start = 0;
  while (start < serial.length - 1 && ((serial[start] === 0x00 && (serial[start + 1] ?? 0) < 0x80) || (serial[start] === 0xff && (serial[start + 1] ?? 0) >= 0x80))) start++;
  return start === 0 ? serial : serial.subarray(start);
}

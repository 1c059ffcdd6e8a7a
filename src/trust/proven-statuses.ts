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

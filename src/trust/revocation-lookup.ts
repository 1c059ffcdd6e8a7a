/**
 * The status step of the validation process (SPEC §3): the revocation sources of the certificate's
 * issuer, the same sources that answer OCSP requests, asked through the CertID a client would send
 * for it. The issuer's own sources are authoritative: for an issuer a source serves, they alone
 * decide; the verified freshness proofs of the request being authenticated (SPEC step 2) speak only
 * for issuers that no source serves. Cached responses never decide a status here.
 */
import { createHash } from "node:crypto";
import { ConfigError } from "../errors.ts";
import { encodeCertId } from "../ocsp/cert-id.ts";
import type { CertificateFields } from "../ocsp/certificate-fields.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { CertId } from "../ocsp/types.ts";
import { minimalSerial } from "../ocsp/minimal-serial.ts";
import type { ProvenStatuses } from "./proven-statuses.ts";
import type { StatusAnswer, StatusSource } from "../status/status-source.ts";
import { decodeName } from "./distinguished-name.ts";
import { namesEqual } from "./name-compare.ts";

/** Revocation statuses of certificates, by certificate and issuer. */
export interface RevocationLookup {
  /**
   * The status of `certificate` (DER) issued by `issuer` (DER). When a configured source serves
   * `issuer`, the first of its sources that answers decides (`undefined` when none has data);
   * otherwise what `proofs` (the verified freshness proofs of the request being authenticated) say,
   * or `undefined`. Throws what the source throws (TryLaterError when its data is stale); a
   * certificate that is not DER throws CertificateFormatError.
   */
  status(certificate: Buffer, issuer: Buffer, signal: AbortSignal, proofs?: ProvenStatuses): Promise<StatusAnswer | undefined>;
  /** True when a configured source serves the certificates that `issuer` (DER) issued: its sources decide, never a proof. */
  serves(issuer: Buffer): boolean;
}

/** One issuer whose statuses a source knows. */
export interface RevocationIssuer {
  readonly certificate: Buffer;
  readonly source: StatusSource;
}

interface KnownIssuer {
  readonly fields: CertificateFields;
  readonly source: StatusSource;
}

/**
 * A lookup over `issuers`. An issuer is matched by subject name and public key (what a CertID
 * hashes), so a re-issued CA certificate with the same name and key finds the same source; when
 * several configured issuers match, their sources are asked in order until one answers. Throws
 * ConfigError naming `issuers[i].certificate` or `issuers[i].source` for a bad entry.
 */
export function revocationLookup(issuers: readonly RevocationIssuer[]): RevocationLookup {
  if (!Array.isArray(issuers)) throw new ConfigError("issuers", "must be a list of issuers with their sources");
  const known: KnownIssuer[] = issuers.map((issuer, index) => {
    let fields: CertificateFields;
    try {
      if (!Buffer.isBuffer(issuer.certificate)) throw new TypeError("not a Buffer");
      fields = certificateFields(issuer.certificate);
    } catch (error) {
      throw new ConfigError(`issuers[${index}].certificate`, "not a DER certificate", { cause: error });
    }
    if (typeof issuer.source?.status !== "function") throw new ConfigError(`issuers[${index}].source`, "must be a StatusSource");
    return { fields, source: issuer.source };
  });
  const sourcesOf = (issuerFields: CertificateFields): KnownIssuer[] =>
    known.filter((candidate) => candidate.fields.subjectDer.equals(issuerFields.subjectDer) && candidate.fields.subjectPublicKey.equals(issuerFields.subjectPublicKey));

  return {
    serves: (issuer) => sourcesOf(certificateFields(issuer)).length > 0,
    async status(certificate, issuer, signal, proofs) {
      const { issuerDer, serialNumber } = certificateFields(certificate);
      const issuerFields = certificateFields(issuer);
      // Names chain by value (RFC 5280 §7.1), so a re-encoded but equal name still chains.
      if (!issuerDer.equals(issuerFields.subjectDer) && !namesEqual(decodeName(issuerDer), decodeName(issuerFields.subjectDer))) return undefined;
      const sources = sourcesOf(issuerFields);
      if (sources.length === 0) return proofs?.statusOf(issuerFields, serialNumber);
      const id = certIdOf(issuer, issuerFields, serialNumber);
      for (const { source } of sources) {
        const answer = await source.status(id, signal);
        if (answer !== undefined) return answer;
      }
      return undefined;
    },
  };
}

/** The SHA-1 CertID (what RFC 5019 clients send, and what every source understands). */
function certIdOf(issuer: Buffer, issuerFields: CertificateFields, serialNumber: Buffer): CertId {
  return {
    hashAlgorithm: "sha1",
    issuerNameHash: createHash("sha1").update(issuerFields.subjectDer).digest(),
    issuerKeyHash: createHash("sha1").update(issuerFields.subjectPublicKey).digest(),
    serialNumber,
    // encodeCertId wants minimal INTEGER content; sources key serials by value, so padding does not matter there.
    der: encodeCertId("sha1", issuer, minimalSerial(serialNumber)),
  };
}

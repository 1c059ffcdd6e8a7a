/**
 * The status step of the validation process (SPEC §3): asks the response cache (where step 2 puts
 * verified freshness proofs), then the revocation source of the certificate's issuer, the same
 * sources that answer OCSP requests, through the CertID a client would send for it.
 */
import { createHash } from "node:crypto";
import { ConfigError } from "../errors.ts";
import { encodeCertId } from "../ocsp/cert-id.ts";
import type { CertificateFields } from "../ocsp/certificate-fields.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { decodeOcspResponse } from "../ocsp/decode-response.ts";
import type { CertId, HashAlgorithm } from "../ocsp/types.ts";
import type { ResponseCache } from "../responses/response-cache.ts";
import type { StatusAnswer, StatusSource } from "../status/status-source.ts";
import { decodeName } from "./distinguished-name.ts";
import { namesEqual } from "./name-compare.ts";

/** Revocation statuses of certificates, by certificate and issuer. */
export interface RevocationLookup {
  /**
   * The status of `certificate` (DER) issued by `issuer` (DER); `undefined` when no configured
   * issuer is `certificate`'s issuer or its source does not know the issuer. Throws what the source
   * throws (TryLaterError when its data is stale); a certificate that is not DER throws
   * CertificateFormatError.
   */
  status(certificate: Buffer, issuer: Buffer, signal: AbortSignal): Promise<StatusAnswer | undefined>;
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
 *
 * With `responses` (the response cache, which holds only verified responses: Vouch's own, checked
 * forwarded ones, and verified freshness proofs), a live cached response for the certificate's SHA-1
 * or SHA-256 CertID decides first: good or revoked is the answer, whether or not a source serves the
 * issuer; a cached `unknown` falls through to the sources.
 */
export function revocationLookup(issuers: readonly RevocationIssuer[], responses?: Pick<ResponseCache, "get">): RevocationLookup {
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

  return {
    async status(certificate: Buffer, issuer: Buffer, signal: AbortSignal): Promise<StatusAnswer | undefined> {
      const { issuerDer, serialNumber } = certificateFields(certificate);
      const issuerFields = certificateFields(issuer);
      // Names chain by value (RFC 5280 §7.1), so a re-encoded but equal name still chains.
      if (!issuerDer.equals(issuerFields.subjectDer) && !namesEqual(decodeName(issuerDer), decodeName(issuerFields.subjectDer))) return undefined;
      if (responses !== undefined) {
        const cached = await cachedStatus(responses, issuer, serialNumber);
        if (cached !== undefined) return cached;
      }
      const sources = known.filter(
        (candidate) => candidate.fields.subjectDer.equals(issuerFields.subjectDer) && candidate.fields.subjectPublicKey.equals(issuerFields.subjectPublicKey),
      );
      if (sources.length === 0) return undefined;
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
function certIdOf(issuer: Buffer, issuerFields: CertificateFields, serialNumber: Buffer, hashAlgorithm: HashAlgorithm = "sha1"): CertId {
  return {
    hashAlgorithm,
    issuerNameHash: createHash(hashAlgorithm).update(issuerFields.subjectDer).digest(),
    issuerKeyHash: createHash(hashAlgorithm).update(issuerFields.subjectPublicKey).digest(),
    serialNumber,
    der: encodeCertId(hashAlgorithm, issuer, minimal(serialNumber)),
  };
}

/** CertID hash algorithms looked up in the response cache: what clients and proofs use. */
const CACHED_HASHES: readonly HashAlgorithm[] = ["sha1", "sha256"];

/**
 * The status a live cached response gives, when it is good or revoked. The cache stores whole
 * OCSPResponses it was given as valid; one that does not decode is a fault and throws BadResponseError.
 */
async function cachedStatus(responses: Pick<ResponseCache, "get">, issuer: Buffer, serialNumber: Buffer): Promise<StatusAnswer | undefined> {
  const issuerFields = certificateFields(issuer);
  const ids = CACHED_HASHES.map((hash) => certIdOf(issuer, issuerFields, serialNumber, hash));
  const found = await Promise.all(ids.map((id) => responses.get(id)));
  for (const [index, cached] of found.entries()) {
    if (cached === undefined) continue;
    const decoded = decodeOcspResponse(cached.body);
    if (decoded.status !== "successful") continue;
    const id = ids[index]!;
    const single = decoded.basic.responses.find((candidate) => candidate.certId.hashAlgorithm === id.hashAlgorithm && candidate.certId.issuerKeyHash.equals(id.issuerKeyHash) && candidate.certId.issuerNameHash.equals(id.issuerNameHash) && minimal(candidate.certId.serialNumber).equals(minimal(serialNumber)));
    if (single === undefined) continue;
    const times = { thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
    if (single.status.kind === "good") return { kind: "good", ...times };
    if (single.status.kind === "revoked") return { kind: "revoked", ...times, revokedAt: single.status.revokedAt, reason: single.status.reason, invalidityDate: single.invalidityDate };
  }
  return undefined;
}

/**
 * encodeCertId wants minimal INTEGER content; a certificate with a padded serial (seen in the wild)
 * still gets a well-formed CertID. Sources key serials by value, so the padding does not matter there.
 */
function minimal(serial: Buffer): Buffer {
  let start = 0;
  while (start < serial.length - 1 && ((serial[start] === 0x00 && (serial[start + 1] ?? 0) < 0x80) || (serial[start] === 0xff && (serial[start + 1] ?? 0) >= 0x80))) start++;
  return serial.subarray(start);
}

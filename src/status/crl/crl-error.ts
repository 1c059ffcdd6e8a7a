/**
 * What a CRL that cannot be used is, and how CRLs are read: by the one DER reader
 * (ocsp/der-reader.ts), with rules of their own. A CRL is a trusted-but-checked file that may hold
 * millions of elements, so there is no element budget; its problems are the operator's
 * (CrlError, reported with the file's name), not a client's.
 */
import type { DerRules } from "../../ocsp/der-reader.ts";

/** A CRL that cannot be used: malformed, unsupported, not from the issuer, or badly signed. */
export class CrlError extends Error {
  override readonly name = "CrlError";
}

/** The DER rules for CRL files: see DerRules.minimalLengths for the one leniency. */
export const CRL_DER: DerRules = {
  maxDepth: 32,
  maxElements: Number.POSITIVE_INFINITY,
  minimalLengths: false,
  label: "bad CRL DER",
  error: (message) => new CrlError(message),
};

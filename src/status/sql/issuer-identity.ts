/**
 * How the store names a CA: the SHA-256 of its certificate's subjectPublicKey (the issuerKeyHash
 * of a SHA-256 CertID, RFC 6960 §4.1.1), plus its subject for people reading `vouch store stats`.
 */
import { X509Certificate } from "node:crypto";
import { ConfigError } from "../../errors.ts";
import { issuerHashes } from "../../ocsp/cert-id.ts";

/** What the `issuers` table records about a CA. */
export interface IssuerIdentity {
  /** SHA-256 of the subjectPublicKey BIT STRING value. */
  readonly keySha256: Buffer;
  /** The subject DN, one line (`CN=Demo CA, O=Vouch`). */
  readonly subject: string;
  /** The CA certificate's DER. */
  readonly certificate: Buffer;
}

/** The identity of the CA certificate `der`. Throws ConfigError(field) when it is not a DER certificate. */
export function issuerIdentity(der: Buffer, field = "issuer"): IssuerIdentity {
  try {
    const keySha256 = issuerHashes(der).get("sha256")!.keyHash;
    const subject = new X509Certificate(der).subject.split("\n").join(", ");
    return { keySha256, subject, certificate: der };
  } catch (error) {
    throw new ConfigError(field, `not a DER certificate: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

import type { OcspErrorStatus } from "../errors.ts";

/**
 * Which authenticated identities satisfied authorization (SPEC step 4), each on its own: the TLS
 * client certificate, the request signer, or both. Step 4 decides it; billing records it.
 */
export type AuthorizedBy = "tls" | "signature" | "both";

/** One certificate asked about, with its answer (SPEC step 9 `perCert`). */
export interface BilledCertificate {
  /** Hex issuer key hash from the CertID, as received. */
  readonly issuerKeyHash: string;
  /** The issuer's subject (RFC 4514) when the responder serves it. */
  readonly issuer: string | undefined;
  /** The serial as `openssl x509 -serial` prints it (upper-case hex, no sign octet; serial-key.ts serialText). */
  readonly serial: string;
  readonly status: "good" | "revoked" | "unknown";
}

/** The durable record of one request (SPEC step 9). */
export interface BillingRecord {
  readonly time: Date;
  /** The logical responder's name and URL. */
  readonly responder: string;
  readonly responderUrl: string;
  readonly clientAddress: string;
  /** Subject (RFC 4514) of the request-signature certificate, else of the TLS client certificate. */
  readonly requestor: string | undefined;
  /** Subject (RFC 4514) of the TLS client certificate (authenticated in the handshake, SPEC step 1). */
  readonly tlsSubject: string | undefined;
  /** Subject (RFC 4514) of the request-signature certificate that step 3 authenticated. */
  readonly signerSubject: string | undefined;
  /**
   * Which of those identities authorized the request (SPEC step 4), each satisfying the method on
   * its own: "tls", "signature" or "both"; undefined without authorization, or when it refused.
   */
  readonly authorizedBy: AuthorizedBy | undefined;
  /** "successful" or the OCSP error status sent. */
  readonly outcome: "successful" | OcspErrorStatus;
  /** Where the answer came from; undefined for errors. */
  readonly source: "cache" | "forward" | "local" | undefined;
  /** `perRequest`: the number of single requests billed (unknown answers only with `countUnknown`). */
  readonly singleRequests: number | undefined;
  /** `perCert`: each certificate billed (unknown answers only with `countUnknown`). */
  readonly certificates: readonly BilledCertificate[] | undefined;
}

/**
 * Where billing records go. `write` resolves only once the record is durable (fsync'd, committed);
 * implementations group commits (one fsync / one INSERT batch per few milliseconds). A rejected write
 * means the record is not durable: the request must not be answered as if it were billed.
 */
export interface BillingSink {
  write(record: BillingRecord): Promise<void>;
  /**
   * Checks now that a write could be made durable (a file created in the folder and synced; an
   * INSERT the table accepts), without writing a record; rejects with the reason when not. For
   * readiness (billing-health.ts).
   */
  probe?(): Promise<void>;
  /** Flushes what is pending, then releases files and connections. */
  close(): Promise<void>;
}

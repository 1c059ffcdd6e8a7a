/**
 * The OCSP wire model (RFC 6960 §4) as Vouch's own domain types. Decoded values keep
 * the exact DER they came from where the protocol needs it echoed or verified.
 */

/** CertID hash algorithms Vouch accepts (SPEC §4). */
export type HashAlgorithm = "sha1" | "sha256" | "sha384" | "sha512";

export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ["sha1", "sha256", "sha384", "sha512"];

/**
 * ```asn1
 * CertID ::= SEQUENCE {
 *   hashAlgorithm       AlgorithmIdentifier,
 *   issuerNameHash      OCTET STRING, -- Hash of issuer's DN
 *   issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
 *   serialNumber        CertificateSerialNumber }
 * ```
 */
export interface CertId {
  readonly hashAlgorithm: HashAlgorithm;
  readonly issuerNameHash: Buffer;
  readonly issuerKeyHash: Buffer;
  /** The INTEGER's content octets exactly as received (two's complement, big-endian). */
  readonly serialNumber: Buffer;
  /** The whole CertID TLV as received; a SingleResponse echoes it unchanged. */
  readonly der: Buffer;
}

/**
 * ```asn1
 * Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 * ```
 */
export interface Extension {
  /** Dotted decimal. */
  readonly oid: string;
  readonly critical: boolean;
  /** The content of extnValue (the DER of the extension's own value). */
  readonly value: Buffer;
}

/** AlgorithmIdentifier, kept as DER so that it can be echoed byte for byte. */
export interface AlgorithmIdentifier {
  readonly oid: string;
  /** The whole AlgorithmIdentifier TLV. */
  readonly der: Buffer;
}

/**
 * ```asn1
 * Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
 * ```
 */
export interface SingleRequest {
  readonly certId: CertId;
  readonly extensions: readonly Extension[];
}

/**
 * ```asn1
 * Signature ::= SEQUENCE {
 *   signatureAlgorithm AlgorithmIdentifier,
 *   signature          BIT STRING,
 *   certs          [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 * ```
 */
export interface RequestSignature {
  readonly algorithm: AlgorithmIdentifier;
  /** The BIT STRING's bits (no unused-bits octet; DER signatures are whole octets). */
  readonly signature: Buffer;
  /** Each certificate's DER. */
  readonly certs: readonly Buffer[];
}

/**
 * ```asn1
 * OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 * TBSRequest ::= SEQUENCE {
 *   version             [0] EXPLICIT Version DEFAULT v1,
 *   requestorName       [1] EXPLICIT GeneralName OPTIONAL,
 *   requestList             SEQUENCE OF Request,
 *   requestExtensions   [2] EXPLICIT Extensions OPTIONAL }
 * ```
 */
export interface OcspRequest {
  /** The exact received tbsRequest TLV: what a request signature covers. */
  readonly tbsRequestDer: Buffer;
  /** The GeneralName TLV inside requestorName [1], when present. */
  readonly requestorName: Buffer | undefined;
  /** Never empty: an empty requestList is a malformed request. */
  readonly requests: readonly SingleRequest[];
  /** All requestExtensions, in order (the nonce and preferred algorithms included). */
  readonly extensions: readonly Extension[];
  /**
   * The nonce extension's extnValue content (RFC 8954: the DER of `Nonce ::= OCTET STRING`),
   * echoed unchanged in the response. Its length rules live in `nonce.ts`.
   */
  readonly nonce: Buffer | undefined;
  /** RFC 6960 §4.4.7 PreferredSignatureAlgorithms: each entry's sigIdentifier, in the client's order. */
  readonly preferredSignatureAlgorithms: readonly AlgorithmIdentifier[];
  readonly signature: RequestSignature | undefined;
}

/** CRLReason (RFC 5280 §5.3.1); value 7 is not used. */
export type CrlReason =
  | "unspecified"
  | "keyCompromise"
  | "cACompromise"
  | "affiliationChanged"
  | "superseded"
  | "cessationOfOperation"
  | "certificateHold"
  | "removeFromCRL"
  | "privilegeWithdrawn"
  | "aACompromise";

export const CRL_REASON_CODES: Readonly<Record<CrlReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

const REASONS_BY_CODE = new Map<number, CrlReason>(
  Object.entries(CRL_REASON_CODES).map(([name, code]) => [code, name as CrlReason]),
);

/** The CrlReason for a code, or `undefined` for 7 and out-of-range codes. */
export function crlReasonFromCode(code: number): CrlReason | undefined {
  return REASONS_BY_CODE.get(code);
}

/**
 * ```asn1
 * CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
 * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 * ```
 */
export type CertStatus =
  | { readonly kind: "good" }
  | { readonly kind: "revoked"; readonly revokedAt: Date; readonly reason: CrlReason | undefined }
  | { readonly kind: "unknown" };

/**
 * ```asn1
 * SingleResponse ::= SEQUENCE {
 *   certID                  CertID,
 *   certStatus              CertStatus,
 *   thisUpdate              GeneralizedTime,
 *   nextUpdate          [0] EXPLICIT GeneralizedTime OPTIONAL,
 *   singleExtensions    [1] EXPLICIT Extensions OPTIONAL }
 * ```
 */
export interface SingleResponse {
  /** The request's CertID TLV, echoed as received. */
  readonly certIdDer: Buffer;
  readonly status: CertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Encoded as id-ce-invalidityDate (2.5.29.24) in singleExtensions. */
  readonly invalidityDate: Date | undefined;
  /** Further singleExtensions, already encoded (e.g. archive cutoff). */
  readonly extensions: readonly Extension[];
}

/**
 * ```asn1
 * ResponseData ::= SEQUENCE {
 *   version              [0] EXPLICIT Version DEFAULT v1,
 *   responderID              ResponderID,
 *   producedAt               GeneralizedTime,
 *   responses                SEQUENCE OF SingleResponse,
 *   responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
 * ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }
 * ```
 */
export interface ResponseData {
  /** The complete ResponderID TLV ([1] or [2]), built once per signer. */
  readonly responderIdDer: Buffer;
  readonly producedAt: Date;
  readonly responses: readonly SingleResponse[];
  /** responseExtensions: the echoed nonce, extended-revoke, … */
  readonly extensions: readonly Extension[];
}

/**
 * OCSPRequest encoding (RFC 6960 §4.1.1), for Vouch as a client (`vouch query`). Signing sits
 * between the two halves, as for responses: `encodeTbsRequest` produces the exact bytes a request
 * signature covers, `encodeOcspRequest` wraps them (with the signature, when there is one).
 */
import { bitString, boolean, explicit, octetString, oid, sequence, tlv } from "./der-writer.ts";
import { id_pkix_ocsp_nonce } from "./oids.ts";
import type { Extension } from "./types.ts";

/** What goes into a TBSRequest. */
export interface TbsRequestInput {
  /** Each single request's CertID TLV (see `encodeCertId`), in order; at least one. */
  readonly certIds: readonly Buffer[];
  /** requestorName: a whole GeneralName TLV (e.g. `directoryName(subjectDer)`), when wanted. */
  readonly requestorName?: Buffer | undefined;
  /** The nonce octets (RFC 8954: 1 to 32, RFC 9654: up to 128); written as the DER of `Nonce ::= OCTET STRING`. */
  readonly nonce?: Buffer | undefined;
  /** Further requestExtensions (e.g. the freshness proof), after the nonce. */
  readonly extensions?: readonly Extension[] | undefined;
}

/** The signature part of a signed request. */
export interface RequestSignatureInput {
  /** The whole signatureAlgorithm AlgorithmIdentifier TLV. */
  readonly algorithmDer: Buffer;
  /** The signature value over the tbsRequest TLV. */
  readonly signature: Buffer;
  /** Certificates (DER) for `certs`: the signer's first, then its chain; omitted when empty. */
  readonly certs: readonly Buffer[];
}

/** One Extension; critical is written only when TRUE (DER omits a DEFAULT value). */
function encodeExtension(extension: Extension): Buffer {
  const value = octetString(extension.value);
  return extension.critical ? sequence(oid(extension.oid), boolean(true), value) : sequence(oid(extension.oid), value);
}

/**
 * The TBSRequest TLV: version omitted (DEFAULT v1), requestorName [1] when given, one Request per
 * CertID (no single request extensions), requestExtensions [2] when there is a nonce or any
 * extension. Throws RangeError for an empty CertID list, an empty nonce, or a duplicate extension.
 */
export function encodeTbsRequest(input: TbsRequestInput): Buffer {
  if (input.certIds.length === 0) throw new RangeError("an OCSP request needs at least one CertID");
  const parts: Buffer[] = [];
  if (input.requestorName !== undefined) parts.push(explicit(1, input.requestorName));
  parts.push(sequence(...input.certIds.map((certId) => sequence(certId))));
  const extensions: Extension[] = [];
  if (input.nonce !== undefined) {
    if (input.nonce.length === 0) throw new RangeError("a nonce must have at least one octet");
    extensions.push({ oid: id_pkix_ocsp_nonce, critical: false, value: octetString(input.nonce) });
  }
  for (const extension of input.extensions ?? []) {
    if (extensions.some((seen) => seen.oid === extension.oid)) throw new RangeError(`duplicate request extension ${extension.oid}`);
    extensions.push(extension);
  }
  if (extensions.length > 0) parts.push(explicit(2, sequence(...extensions.map(encodeExtension))));
  return sequence(...parts);
}

/**
 * The OCSPRequest TLV around `tbsRequest` (from `encodeTbsRequest`), with `optionalSignature [0]`
 * when `signature` is given.
 */
export function encodeOcspRequest(tbsRequest: Buffer, signature?: RequestSignatureInput): Buffer {
  if (signature === undefined) return sequence(tbsRequest);
  const parts = [signature.algorithmDer, bitString(signature.signature)];
  if (signature.certs.length > 0) parts.push(explicit(0, sequence(...signature.certs)));
  return sequence(tbsRequest, explicit(0, sequence(...parts)));
}

/** GeneralName `directoryName [4] EXPLICIT Name` (Name is a CHOICE, so the tag is explicit). */
export function directoryName(nameDer: Buffer): Buffer {
  return tlv(0xa4, nameDer);
}

/**
 * OCSPResponse decoding (RFC 6960 §4.2.1), strict DER, for responses Vouch did not make: a remote
 * responder's answer (forwarding), the responses inside a freshness proof, and `vouch query`.
 * The same strict reader and limits as requests (no BER, no trailing bytes, bounded nesting); every
 * problem is a BadResponseError. Decoding says nothing about trust: `responses/check-response.ts` does that.
 */
import { BadResponseError, OCSP_RESPONSE_STATUS_CODES, type OcspErrorStatus } from "../errors.ts";
import { readAlgorithmIdentifier } from "./algorithm-identifier.ts";
import { decodeExtensions } from "./decode-extensions.ts";
import { decodeOid } from "./der-oid.ts";
import { DerReader, REQUEST_DER, TAG, type DerRules } from "./der-reader.ts";
import { id_ce_invalidityDate, id_pkix_ocsp_basic, id_pkix_ocsp_nonce } from "./oids.ts";
import { readCertId } from "./read-cert-id.ts";
import { readOptionalCerts } from "./read-certs.ts";
import { readTime } from "./read-time.ts";
import { crlReasonFromCode, type AlgorithmIdentifier, type CertId, type CertStatus, type CrlReason, type Extension } from "./types.ts";

/** One SingleResponse, parsed, with its DER kept. */
export interface DecodedSingleResponse {
  /** Parsed; `der` is the CertID TLV as received. */
  readonly certId: CertId;
  readonly status: CertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** From the id-ce-invalidityDate singleExtension, when present. */
  readonly invalidityDate: Date | undefined;
  /** Every singleExtension, in order (invalidity date included). */
  readonly extensions: readonly Extension[];
  /** The SingleResponse TLV as received. */
  readonly der: Buffer;
}

/** ResponderID (RFC 6960 §4.2.1): `CHOICE { byName [1] Name, byKey [2] KeyHash }`. */
export type DecodedResponderId = { readonly kind: "byName"; readonly nameDer: Buffer } | { readonly kind: "byKey"; readonly keyHash: Buffer };

/**
 * ```asn1
 * BasicOCSPResponse ::= SEQUENCE {
 *   tbsResponseData      ResponseData,
 *   signatureAlgorithm   AlgorithmIdentifier,
 *   signature            BIT STRING,
 *   certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 * ```
 */
export interface DecodedBasicResponse {
  /** The BasicOCSPResponse TLV. */
  readonly der: Buffer;
  /** The ResponseData TLV exactly as received: what the signature covers. */
  readonly tbsResponseDataDer: Buffer;
  readonly responderId: DecodedResponderId;
  readonly producedAt: Date;
  readonly responses: readonly DecodedSingleResponse[];
  readonly extensions: readonly Extension[];
  /** The nonce extension's extnValue content (the same form as `OcspRequest.nonce`). */
  readonly nonce: Buffer | undefined;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  /** The signature BIT STRING's octets. */
  readonly signature: Buffer;
  /** Each certificate's DER, as received (only checked to be well-formed DER SEQUENCEs). */
  readonly certs: readonly Buffer[];
}

/** An OCSPResponse: a successful one carries its BasicOCSPResponse, an error status nothing else. */
export type DecodedOcspResponse =
  | { readonly status: "successful"; readonly der: Buffer; readonly basic: DecodedBasicResponse }
  | { readonly status: OcspErrorStatus; readonly der: Buffer };

/** A response is a handful of certificates and answers; anything far beyond is not one. */
const MAX_SINGLE_RESPONSES = 10_000;

/** How responses are read: as requests are, but a fault is the remote responder's, a BadResponseError. */
const RESPONSE_DER: DerRules = { ...REQUEST_DER, label: "bad response DER", error: (message) => new BadResponseError(message) };

const STATUS_BY_CODE = new Map(Object.entries(OCSP_RESPONSE_STATUS_CODES).map(([status, code]) => [code, status as OcspErrorStatus | "successful"]));

/**
 * Decodes exactly one DER OCSPResponse. Only the basic response type (id-pkix-ocsp-basic) is
 * understood. Buffers share memory with `der`. Throws BadResponseError, and never any other error.
 */
export function decodeOcspResponse(der: Buffer): DecodedOcspResponse {
  const top = DerReader.of(der, "OCSPResponse", RESPONSE_DER);
  const response = top.enterNext(TAG.SEQUENCE, "OCSPResponse");
  top.finish();
  const code = response.smallInteger(response.expect(TAG.ENUMERATED, "responseStatus"), "responseStatus");
  const status = STATUS_BY_CODE.get(code);
  if (status === undefined) return response.fail(`unknown responseStatus ${code}`);
  const bytesTlv = response.optional(0xa0);
  response.finish();
  if (status !== "successful") {
    if (bytesTlv !== undefined) throw new BadResponseError(`a ${status} response carries responseBytes`);
    return { status, der };
  }
  if (bytesTlv === undefined) throw new BadResponseError("a successful response has no responseBytes");
  const wrapper = response.enter(bytesTlv, "responseBytes");
  const responseBytes = wrapper.enterNext(TAG.SEQUENCE, "ResponseBytes");
  wrapper.finish();
  const type = decodeOid(responseBytes.oidContent("responseType"));
  if (type !== id_pkix_ocsp_basic) throw new BadResponseError(`unsupported responseType ${type} (only id-pkix-ocsp-basic)`);
  const basicDer = responseBytes.octetString("response");
  responseBytes.finish();
  return { status, der, basic: decodeBasicOcspResponse(basicDer) };
}

/** Decodes exactly one DER BasicOCSPResponse (freshness proofs may carry these bare). Throws BadResponseError. */
export function decodeBasicOcspResponse(der: Buffer): DecodedBasicResponse {
  const top = DerReader.of(der, "BasicOCSPResponse", RESPONSE_DER);
  const basic = top.enterNext(TAG.SEQUENCE, "BasicOCSPResponse");
  top.finish();
  const tbsTlv = basic.expect(TAG.SEQUENCE, "tbsResponseData");
  const signatureAlgorithm = readAlgorithmIdentifier(basic, "signatureAlgorithm");
  const signature = basic.octetAlignedBitString("signature");
  const certs = readOptionalCerts(basic);
  basic.finish();

  const data = basic.enter(tbsTlv, "ResponseData");
  const versionTlv = data.optional(0xa0);
  if (versionTlv !== undefined) {
    const wrapper = data.enter(versionTlv, "version");
    const version = wrapper.smallInteger(wrapper.expect(TAG.INTEGER, "version"), "version");
    wrapper.finish();
    if (version !== 0) throw new BadResponseError(`unsupported ResponseData version ${version + 1} (only v1)`);
  }
  const responderId = readResponderId(data);
  const producedAt = readGeneralizedTime(data, "producedAt");
  const list = data.enterNext(TAG.SEQUENCE, "responses");
  const responses: DecodedSingleResponse[] = [];
  while (list.hasMore) {
    if (responses.length >= MAX_SINGLE_RESPONSES) throw new BadResponseError(`more than ${MAX_SINGLE_RESPONSES} single responses`);
    responses.push(readSingleResponse(list));
  }
  const extensionsTlv = data.optional(0xa1);
  const extensions = extensionsTlv === undefined ? [] : readExtensions(data.enter(extensionsTlv, "responseExtensions"), "responseExtensions");
  data.finish();
  return {
    der,
    tbsResponseDataDer: basic.whole(tbsTlv),
    responderId,
    producedAt,
    responses,
    extensions,
    nonce: extensions.find((extension) => extension.oid === id_pkix_ocsp_nonce)?.value,
    signatureAlgorithm,
    signature,
    certs,
  };
}

function readResponderId(data: DerReader): DecodedResponderId {
  const tlv = data.next();
  if (tlv.tag === 0xa1) {
    const wrapper = data.enter(tlv, "byName");
    const name = wrapper.expect(TAG.SEQUENCE, "Name");
    wrapper.checkDeep(name, "Name");
    wrapper.finish();
    return { kind: "byName", nameDer: wrapper.whole(name) };
  }
  if (tlv.tag === 0xa2) {
    const wrapper = data.enter(tlv, "byKey");
    const keyHash = wrapper.octetString("KeyHash");
    wrapper.finish();
    // RFC 6960 §4.2.1: the SHA-1 hash of the responder's public key.
    if (keyHash.length !== 20) throw new BadResponseError(`byKey KeyHash is ${keyHash.length} octets, SHA-1 gives 20`);
    return { kind: "byKey", keyHash };
  }
  return data.fail("responderID is neither byName [1] nor byKey [2]", tlv.start);
}

/**
 * ```asn1
 * SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *   nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, singleExtensions [1] EXPLICIT Extensions OPTIONAL }
 * ```
 */
function readSingleResponse(list: DerReader): DecodedSingleResponse {
  const tlv = list.expect(TAG.SEQUENCE, "SingleResponse");
  const single = list.enter(tlv, "SingleResponse");
  const certId = readCertId(single, "certID");
  const status = readCertStatus(single);
  const thisUpdate = readGeneralizedTime(single, "thisUpdate");
  let nextUpdate: Date | undefined;
  const nextTlv = single.optional(0xa0);
  if (nextTlv !== undefined) {
    const wrapper = single.enter(nextTlv, "nextUpdate");
    nextUpdate = readGeneralizedTime(wrapper, "nextUpdate");
    wrapper.finish();
  }
  const extensionsTlv = single.optional(0xa1);
  const extensions = extensionsTlv === undefined ? [] : readExtensions(single.enter(extensionsTlv, "singleExtensions"), "singleExtensions");
  single.finish();
  let invalidityDate: Date | undefined;
  const invalidity = extensions.find((extension) => extension.oid === id_ce_invalidityDate);
  if (invalidity !== undefined) {
    const reader = DerReader.of(invalidity.value, "InvalidityDate", RESPONSE_DER);
    invalidityDate = readGeneralizedTime(reader, "invalidityDate");
    reader.finish();
  }
  return { certId, status, thisUpdate, nextUpdate, invalidityDate, extensions, der: list.whole(tlv) };
}

/** `CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }` */
function readCertStatus(single: DerReader): CertStatus {
  const tlv = single.next();
  switch (tlv.tag) {
    case 0x80:
      if (tlv.end !== tlv.contentStart) single.fail("good is not an empty NULL", tlv.start);
      return { kind: "good" };
    case 0x82:
      if (tlv.end !== tlv.contentStart) single.fail("unknown is not an empty NULL", tlv.start);
      return { kind: "unknown" };
    case 0xa1: {
      const revoked = single.enter(tlv, "RevokedInfo");
      const revokedAt = readGeneralizedTime(revoked, "revocationTime");
      let reason: CrlReason | undefined;
      const reasonTlv = revoked.optional(0xa0);
      if (reasonTlv !== undefined) {
        const wrapper = revoked.enter(reasonTlv, "revocationReason");
        const code = wrapper.smallInteger(wrapper.expect(TAG.ENUMERATED, "CRLReason"), "CRLReason");
        wrapper.finish();
        reason = crlReasonFromCode(code);
        if (reason === undefined) throw new BadResponseError(`unknown CRLReason ${code}`);
      }
      revoked.finish();
      return { kind: "revoked", revokedAt, reason };
    }
    default:
      return single.fail("certStatus is not good [0], revoked [1] or unknown [2]", tlv.start);
  }
}

/** OCSP times are GeneralizedTime only (RFC 6960 §4.2.1 and RFC 5280's profile of it). */
function readGeneralizedTime(reader: DerReader, name: string): Date {
  if (reader.peekTag() !== TAG.GENERALIZED_TIME) reader.fail(`${name}: expected GeneralizedTime`);
  return readTime(reader, name);
}

/**
 * Response-side Extensions: decoded and kept, duplicates refused. An unknown critical extension is
 * the checker's business (RFC 6960 §4.4), so it is kept with its flag rather than refused here.
 */
function readExtensions(wrapper: DerReader, where: string): Extension[] {
  return decodeExtensions(wrapper, where, "any");
}

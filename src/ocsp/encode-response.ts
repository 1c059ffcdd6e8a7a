/**
 * OCSPResponse encoding (RFC 6960 §4.2.1). Signing sits between the two halves:
 * `encodeResponseData` produces the exact bytes to sign, `encodeBasicOcspResponse` wraps
 * them with the signature into the final response.
 */
import type { OcspErrorStatus } from "../errors.ts";
import { OCSP_ERROR_STATUSES, OCSP_RESPONSE_STATUS_CODES } from "../errors.ts";
import { assertNever } from "../errors.ts";
import { encodeOid } from "./der-oid.ts";
import {
  GENERALIZED_TIME_LENGTH,
  boolean,
  enumerated,
  explicit,
  generalizedTimeLength,
  headerLength,
  octetString,
  oid,
  sequence,
  tlvLength,
  writeGeneralizedTime,
  writeHeader,
} from "./der-writer.ts";
import { id_ce_invalidityDate, id_pkix_ocsp_basic } from "./oids.ts";
import type { CertStatus, CrlReason, Extension, ResponseData, SingleResponse } from "./types.ts";
import { CRL_REASON_CODES } from "./types.ts";

// Constant pieces, encoded once at module load.
const GOOD = Buffer.from([0x80, 0x00]); // good [0] IMPLICIT NULL
const UNKNOWN = Buffer.from([0x82, 0x00]); // unknown [2] IMPLICIT UnknownInfo (NULL)
const CRITICAL_TRUE = boolean(true);
const BASIC_RESPONSE_TYPE = oid(id_pkix_ocsp_basic);
const SUCCESSFUL = enumerated(OCSP_RESPONSE_STATUS_CODES.successful);
const REASONS = new Map(Object.entries(CRL_REASON_CODES).map(([reason, code]) => [reason, explicit(0, enumerated(code))]));
/**
 * The id-ce-invalidityDate extension up to its time, which is all that varies:
 * SEQUENCE { extnID, extnValue OCTET STRING { the DER of `InvalidityDate ::= GeneralizedTime` } }.
 */
const INVALIDITY_DATE_HEAD = ((): Buffer => {
  const whole = sequence(oid(id_ce_invalidityDate), octetString(Buffer.alloc(GENERALIZED_TIME_LENGTH)));
  return whole.subarray(0, whole.length - GENERALIZED_TIME_LENGTH);
})();

type Revoked = Extract<CertStatus, { kind: "revoked" }>;

// tbsResponseData is built for every signed response, so it is sized first and then written
// into one allocation, rather than built from a Buffer per element. The *Length functions
// return content lengths (tlvLength adds the header) unless they say otherwise, and visit the
// input in the order the writers do: the first date GeneralizedTime cannot carry, unknown
// reason or malformed OID throws its RangeError there, before anything is allocated.

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }, given extnID's content. */
function extensionLength(id: Buffer, extension: Extension): number {
  // DER omits a DEFAULT value, so critical is written only when TRUE.
  const critical = extension.critical ? CRITICAL_TRUE.length : 0;
  return tlvLength(id.length) + critical + tlvLength(extension.value.length);
}

/** The content of `SEQUENCE OF Extension`. */
function extensionsLength(extensions: readonly Extension[]): number {
  let length = 0;
  for (const extension of extensions) length += tlvLength(extensionLength(encodeOid(extension.oid), extension));
  return length;
}

/** The whole CertStatus element (a CHOICE has no header of its own). */
function certStatusLength(status: CertStatus): number {
  switch (status.kind) {
    case "good":
      return GOOD.length;
    case "unknown":
      return UNKNOWN.length;
    case "revoked":
      return tlvLength(revokedInfoLength(status));
    default:
      return assertNever(status);
  }
}

/** RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }. */
function revokedInfoLength(status: Revoked): number {
  const time = generalizedTimeLength(status.revokedAt);
  return status.reason === undefined ? time : time + reasonElement(status.reason).length;
}

/** revocationReason, pre-encoded; a reason outside CRLReason would otherwise go out unencoded. */
function reasonElement(reason: CrlReason): Buffer {
  const element = REASONS.get(reason);
  if (element === undefined) throw new RangeError(`unknown CRL reason ${String(reason)}`);
  return element;
}

function hasSingleExtensions(single: SingleResponse): boolean {
  return single.invalidityDate !== undefined || single.extensions.length > 0;
}

/** The content of singleExtensions' SEQUENCE: the invalidity date first, then the others. */
function singleExtensionsLength(single: SingleResponse): number {
  const invalidity = single.invalidityDate === undefined ? 0 : INVALIDITY_DATE_HEAD.length + generalizedTimeLength(single.invalidityDate);
  return invalidity + extensionsLength(single.extensions);
}

function singleResponseLength(single: SingleResponse): number {
  let length = single.certIdDer.length + certStatusLength(single.status) + generalizedTimeLength(single.thisUpdate);
  if (single.nextUpdate !== undefined) length += tlvLength(generalizedTimeLength(single.nextUpdate));
  if (hasSingleExtensions(single)) length += tlvLength(tlvLength(singleExtensionsLength(single)));
  return length;
}

function responsesLength(responses: readonly SingleResponse[]): number {
  let length = 0;
  for (const single of responses) length += tlvLength(singleResponseLength(single));
  return length;
}

// The writers: each writes one element at `at` and returns the offset after it.

function writeBytes(out: Buffer, at: number, bytes: Buffer): number {
  out.set(bytes, at); // TypedArray#set: cheaper than Buffer#copy for pieces of a few octets
  return at + bytes.length;
}

function writeExtension(out: Buffer, at: number, extension: Extension): number {
  const id = encodeOid(extension.oid);
  at = writeHeader(out, at, 0x30, extensionLength(id, extension));
  at = writeBytes(out, writeHeader(out, at, 0x06, id.length), id);
  if (extension.critical) at = writeBytes(out, at, CRITICAL_TRUE);
  return writeBytes(out, writeHeader(out, at, 0x04, extension.value.length), extension.value);
}

/** `[1] EXPLICIT Extensions`, the wrapper of both singleExtensions and responseExtensions. */
function writeExtensionsHeader(out: Buffer, at: number, length: number): number {
  return writeHeader(out, writeHeader(out, at, 0xa1, tlvLength(length)), 0x30, length);
}

function writeCertStatus(out: Buffer, at: number, status: CertStatus): number {
  switch (status.kind) {
    case "good":
      return writeBytes(out, at, GOOD);
    case "unknown":
      return writeBytes(out, at, UNKNOWN);
    case "revoked": {
      // revoked [1] IMPLICIT RevokedInfo: the SEQUENCE tag becomes [1] constructed.
      at = writeGeneralizedTime(out, writeHeader(out, at, 0xa1, revokedInfoLength(status)), status.revokedAt);
      return status.reason === undefined ? at : writeBytes(out, at, reasonElement(status.reason));
    }
    default:
      return assertNever(status);
  }
}

function writeSingleResponse(out: Buffer, at: number, single: SingleResponse): number {
  at = writeHeader(out, at, 0x30, singleResponseLength(single));
  at = writeBytes(out, at, single.certIdDer);
  at = writeCertStatus(out, at, single.status);
  at = writeGeneralizedTime(out, at, single.thisUpdate);
  if (single.nextUpdate !== undefined) {
    at = writeGeneralizedTime(out, writeHeader(out, at, 0xa0, GENERALIZED_TIME_LENGTH), single.nextUpdate);
  }
  if (hasSingleExtensions(single)) {
    at = writeExtensionsHeader(out, at, singleExtensionsLength(single));
    if (single.invalidityDate !== undefined) {
      at = writeGeneralizedTime(out, writeBytes(out, at, INVALIDITY_DATE_HEAD), single.invalidityDate);
    }
    for (const extension of single.extensions) at = writeExtension(out, at, extension);
  }
  return at;
}

/**
 * The tbsResponseData TLV: the bytes the responder signs. version is omitted (DEFAULT v1);
 * each certID is the request's CertID echoed unchanged, as clients compare it byte for byte;
 * responseExtensions is omitted when empty.
 */
export function encodeResponseData(data: ResponseData): Buffer {
  const producedAt = generalizedTimeLength(data.producedAt);
  const responses = responsesLength(data.responses);
  const extensions = data.extensions.length > 0 ? extensionsLength(data.extensions) : undefined;
  const content =
    data.responderIdDer.length + producedAt + tlvLength(responses) + (extensions === undefined ? 0 : tlvLength(tlvLength(extensions)));

  const out = Buffer.allocUnsafe(tlvLength(content));
  let at = writeHeader(out, 0, 0x30, content);
  at = writeBytes(out, at, data.responderIdDer);
  at = writeGeneralizedTime(out, at, data.producedAt);
  at = writeHeader(out, at, 0x30, responses);
  for (const single of data.responses) at = writeSingleResponse(out, at, single);
  if (extensions !== undefined) {
    at = writeExtensionsHeader(out, at, extensions);
    for (const extension of data.extensions) at = writeExtension(out, at, extension);
  }
  if (at !== out.length) throw new RangeError(`internal: wrote ${at} of ${out.length} octets`);
  return out;
}

/**
 * The complete successful OCSPResponse around a signed tbsResponseData:
 * `OCSPResponse { successful, responseBytes [0] EXPLICIT { id-pkix-ocsp-basic, OCTET STRING {
 * BasicOCSPResponse { tbsResponseData, signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate } } } }`,
 * with certs omitted when empty. Sizes are computed first so that the whole response,
 * certificates included, is written into a single allocation.
 */
export function encodeBasicOcspResponse(
  tbsResponseData: Buffer,
  signatureAlgorithmDer: Buffer,
  signature: Buffer,
  certsDer: readonly Buffer[],
): Buffer {
  const bitsLength = 1 + signature.length;
  let certsLength = 0;
  for (const cert of certsDer) certsLength += cert.length;
  const certsSequence = headerLength(certsLength) + certsLength;
  const certsExplicit = certsDer.length === 0 ? 0 : headerLength(certsSequence) + certsSequence;
  const basicContent = tbsResponseData.length + signatureAlgorithmDer.length + headerLength(bitsLength) + bitsLength + certsExplicit;
  const basic = headerLength(basicContent) + basicContent;
  const responseBytesContent = BASIC_RESPONSE_TYPE.length + headerLength(basic) + basic;
  const responseBytes = headerLength(responseBytesContent) + responseBytesContent;
  const outerContent = SUCCESSFUL.length + headerLength(responseBytes) + responseBytes;

  const out = Buffer.allocUnsafe(headerLength(outerContent) + outerContent);
  let at = writeHeader(out, 0, 0x30, outerContent);
  at += SUCCESSFUL.copy(out, at);
  at = writeHeader(out, at, 0xa0, responseBytes);
  at = writeHeader(out, at, 0x30, responseBytesContent);
  at += BASIC_RESPONSE_TYPE.copy(out, at);
  at = writeHeader(out, at, 0x04, basic);
  at = writeHeader(out, at, 0x30, basicContent);
  at += tbsResponseData.copy(out, at);
  at += signatureAlgorithmDer.copy(out, at);
  at = writeHeader(out, at, 0x03, bitsLength);
  out[at++] = 0; // no unused bits: signatures are whole octets
  at += signature.copy(out, at);
  if (certsDer.length > 0) {
    at = writeHeader(out, at, 0xa0, certsSequence);
    at = writeHeader(out, at, 0x30, certsLength);
    for (const cert of certsDer) at += cert.copy(out, at);
  }
  if (at !== out.length) throw new RangeError(`internal: wrote ${at} of ${out.length} octets`);
  return out;
}

/**
 * Every unsuccessful response, built once: `OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED }`
 * with no responseBytes (RFC 6960 §4.2.1), e.g. malformedRequest is 30 03 0a 01 01.
 * The Buffers are shared: write them out, never modify them.
 */
export const ERROR_RESPONSES: ReadonlyMap<OcspErrorStatus, Buffer> = new Map(
  OCSP_ERROR_STATUSES.map((status) => [status, sequence(enumerated(OCSP_RESPONSE_STATUS_CODES[status]))]),
);

/** The shared, prebuilt error response for `status` (see ERROR_RESPONSES). */
export function encodeErrorResponse(status: OcspErrorStatus): Buffer {
  const response = ERROR_RESPONSES.get(status);
  if (response === undefined) throw new RangeError(`not an OCSP error status: ${String(status)}`);
  return response;
}

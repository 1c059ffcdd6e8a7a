/**
 * OCSPResponse encoding (RFC 6960 §4.2.1). Signing sits between the two halves:
 * `encodeResponseData` produces the exact bytes to sign, `encodeBasicOcspResponse` wraps
 * them with the signature into the final response.
 */
import type { OcspErrorStatus } from "../errors.ts";
import { OCSP_ERROR_STATUSES, OCSP_RESPONSE_STATUS_CODES } from "../errors.ts";
import { assertNever } from "../errors.ts";
import {
  boolean,
  enumerated,
  explicit,
  generalizedTime,
  headerLength,
  octetString,
  oid,
  sequence,
  tlv,
  writeHeader,
} from "./der-writer.ts";
import { id_ce_invalidityDate, id_pkix_ocsp_basic } from "./oids.ts";
import type { CertStatus, Extension, ResponseData, SingleResponse } from "./types.ts";
import { CRL_REASON_CODES } from "./types.ts";

// Constant pieces, encoded once at module load.
const GOOD = Buffer.from([0x80, 0x00]); // good [0] IMPLICIT NULL
const UNKNOWN = Buffer.from([0x82, 0x00]); // unknown [2] IMPLICIT UnknownInfo (NULL)
const CRITICAL_TRUE = boolean(true);
const INVALIDITY_DATE_OID = oid(id_ce_invalidityDate);
const BASIC_RESPONSE_TYPE = oid(id_pkix_ocsp_basic);
const SUCCESSFUL = enumerated(OCSP_RESPONSE_STATUS_CODES.successful);
const REASONS = new Map(Object.entries(CRL_REASON_CODES).map(([reason, code]) => [reason, explicit(0, enumerated(code))]));

/** One Extension; critical is written only when TRUE, since DER omits a DEFAULT value. */
function encodeExtension(extension: Extension): Buffer {
  const id = oid(extension.oid);
  const value = octetString(extension.value);
  return extension.critical ? sequence(id, CRITICAL_TRUE, value) : sequence(id, value);
}

function encodeCertStatus(status: CertStatus): Buffer {
  switch (status.kind) {
    case "good":
      return GOOD;
    case "unknown":
      return UNKNOWN;
    case "revoked": {
      // revoked [1] IMPLICIT RevokedInfo: the SEQUENCE tag becomes [1] constructed.
      const time = generalizedTime(status.revokedAt);
      if (status.reason === undefined) return tlv(0xa1, time);
      const reason = REASONS.get(status.reason);
      if (reason === undefined) throw new RangeError(`unknown CRL reason ${String(status.reason)}`);
      return tlv(0xa1, time, reason);
    }
    default:
      return assertNever(status);
  }
}

function encodeSingleResponse(single: SingleResponse): Buffer {
  const parts = [single.certIdDer, encodeCertStatus(single.status), generalizedTime(single.thisUpdate)];
  if (single.nextUpdate !== undefined) parts.push(explicit(0, generalizedTime(single.nextUpdate)));
  const extensions: Buffer[] = [];
  if (single.invalidityDate !== undefined) {
    // id-ce-invalidityDate: extnValue holds the DER of `InvalidityDate ::= GeneralizedTime`.
    extensions.push(sequence(INVALIDITY_DATE_OID, octetString(generalizedTime(single.invalidityDate))));
  }
  for (const extension of single.extensions) extensions.push(encodeExtension(extension));
  if (extensions.length > 0) parts.push(explicit(1, sequence(...extensions)));
  return sequence(...parts);
}

/**
 * The tbsResponseData TLV: the bytes the responder signs. version is omitted (DEFAULT v1);
 * each certID is the request's CertID echoed unchanged, as clients compare it byte for byte;
 * responseExtensions is omitted when empty.
 */
export function encodeResponseData(data: ResponseData): Buffer {
  const parts = [data.responderIdDer, generalizedTime(data.producedAt), sequence(...data.responses.map(encodeSingleResponse))];
  if (data.extensions.length > 0) parts.push(explicit(1, sequence(...data.extensions.map(encodeExtension))));
  return sequence(...parts);
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

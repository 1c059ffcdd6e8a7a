/**
 * The Identrus freshness-proof extension (SPEC §4; OID 1.3.6.1.4.1.2390.3.5, non-critical), in
 * requestExtensions (the requestor's chain) and responseExtensions (the responder's chain):
 *
 * ```asn1
 * FreshnessProof ::= SEQUENCE OF OCSPResponse   -- what Vouch writes
 * FreshnessProof ::= SEQUENCE OF BasicOCSPResponse   -- also accepted when reading
 * ```
 *
 * The codec checks the outer structure strictly (DER, tags, a successful basic OCSPResponse); the
 * responses themselves are decoded and verified by whoever uses them (decode-response.ts,
 * check-response.ts).
 */
import { MalformedRequestError } from "../errors.ts";
import { decodeOid } from "./der-oid.ts";
import { DerReader, TAG, type Tlv } from "./der-reader.ts";
import { enumerated, explicit, octetString, oid, sequence } from "./der-writer.ts";
import { id_identrus_freshness_proof, id_pkix_ocsp_basic } from "./oids.ts";
import type { Extension } from "./types.ts";

/** Most responses one proof may carry: a chain is a few certificates deep; more is hostile. */
export const MAX_PROOF_RESPONSES = 16;

/** One response of a freshness proof. */
export interface ProofResponse {
  /** How it was written: a whole OCSPResponse, or a bare BasicOCSPResponse. */
  readonly form: "OCSPResponse" | "BasicOCSPResponse";
  /** The BasicOCSPResponse TLV (inside responseBytes for the OCSPResponse form). */
  readonly basicDer: Buffer;
  /** A whole successful OCSPResponse: as received, or built around the bare BasicOCSPResponse. */
  readonly ocspResponseDer: Buffer;
}

const SUCCESSFUL = enumerated(0);
const BASIC_RESPONSE_TYPE = oid(id_pkix_ocsp_basic);

/**
 * The extension carrying `ocspResponses` (each a whole DER OCSPResponse, successful and basic).
 * Throws RangeError for an empty list, more than MAX_PROOF_RESPONSES, or an element that is not
 * such a response.
 */
export function freshnessProofExtension(ocspResponses: readonly Buffer[]): Extension {
  return { oid: id_identrus_freshness_proof, critical: false, value: encodeFreshnessProof(ocspResponses) };
}

/** The DER of `FreshnessProof ::= SEQUENCE OF OCSPResponse`; throws RangeError as `freshnessProofExtension`. */
export function encodeFreshnessProof(ocspResponses: readonly Buffer[]): Buffer {
  if (ocspResponses.length === 0) throw new RangeError("a freshness proof needs at least one OCSPResponse");
  if (ocspResponses.length > MAX_PROOF_RESPONSES) throw new RangeError(`a freshness proof holds at most ${MAX_PROOF_RESPONSES} responses`);
  ocspResponses.forEach((response, index) => {
    try {
      const reader = DerReader.of(response, "OCSPResponse");
      readOcspResponse(reader, reader.expect(TAG.SEQUENCE, "OCSPResponse"));
      reader.finish();
    } catch (error) {
      throw new RangeError(`freshness proof response ${index}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  });
  return sequence(...ocspResponses);
}

/**
 * Decodes an extension value as `SEQUENCE OF OCSPResponse` or `SEQUENCE OF BasicOCSPResponse`
 * (each element on its own; the forms may even be mixed). Returned Buffers share memory with
 * `value`. Throws MalformedRequestError for anything else: non-DER, trailing bytes, an empty list
 * or more than MAX_PROOF_RESPONSES, an OCSPResponse that is not successful or not a basic response,
 * a BasicOCSPResponse whose outer fields are missing or out of order.
 */
export function decodeFreshnessProof(value: Buffer): ProofResponse[] {
  const top = DerReader.of(value, "FreshnessProof");
  const list = top.enterNext(TAG.SEQUENCE, "FreshnessProof");
  top.finish();
  const responses: ProofResponse[] = [];
  while (list.hasMore) {
    if (responses.length >= MAX_PROOF_RESPONSES) throw new MalformedRequestError(`a freshness proof holds at most ${MAX_PROOF_RESPONSES} responses`);
    const element = list.expect(TAG.SEQUENCE, "FreshnessProof element");
    const inner = list.enter(element, "FreshnessProof element");
    if (inner.peekTag() === TAG.ENUMERATED) {
      const basicDer = readOcspResponse(list, element);
      responses.push({ form: "OCSPResponse", basicDer, ocspResponseDer: list.whole(element) });
    } else {
      checkBasicOuter(inner);
      const basicDer = list.whole(element);
      responses.push({ form: "BasicOCSPResponse", basicDer, ocspResponseDer: ocspResponseAround(basicDer) });
    }
  }
  if (responses.length === 0) throw new MalformedRequestError("the freshness proof is empty");
  return responses;
}

/** A successful OCSPResponse whose responseBytes carry `basicDer` (a BasicOCSPResponse TLV). */
export function ocspResponseAround(basicDer: Buffer): Buffer {
  return sequence(SUCCESSFUL, explicit(0, sequence(BASIC_RESPONSE_TYPE, octetString(basicDer))));
}

/**
 * `OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }`,
 * `ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }`:
 * insists on successful and id-pkix-ocsp-basic; returns the BasicOCSPResponse TLV, checked as such.
 */
function readOcspResponse(parent: DerReader, element: Tlv): Buffer {
  const response = parent.enter(element, "OCSPResponse");
  const status = response.smallInteger(response.expect(TAG.ENUMERATED, "responseStatus"), "responseStatus");
  if (status !== 0) throw new MalformedRequestError(`a freshness proof response has responseStatus ${status}, not successful (0)`);
  const wrapper = response.enterNext(0xa0, "responseBytes");
  response.finish();
  const bytes = wrapper.enterNext(TAG.SEQUENCE, "ResponseBytes");
  wrapper.finish();
  const type = decodeOid(bytes.oidContent("responseType"));
  if (type !== id_pkix_ocsp_basic) throw new MalformedRequestError(`a freshness proof response has responseType ${type}, not id-pkix-ocsp-basic`);
  const basicDer = bytes.octetString("response");
  bytes.finish();
  const basic = DerReader.of(basicDer, "BasicOCSPResponse");
  checkBasicOuter(basic.enterNext(TAG.SEQUENCE, "BasicOCSPResponse"));
  basic.finish();
  return basicDer;
}

/**
 * `BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
 * signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }`: the outer fields only.
 */
function checkBasicOuter(basic: DerReader): void {
  basic.expect(TAG.SEQUENCE, "tbsResponseData");
  basic.expect(TAG.SEQUENCE, "signatureAlgorithm");
  basic.expect(TAG.BIT_STRING, "signature");
  basic.optional(0xa0);
  basic.finish();
}

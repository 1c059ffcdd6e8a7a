/**
 * OCSPRequest decoding (RFC 6960 §4.1), strict DER, in one pass over the input.
 *
 * Deliberately stricter than a generic BER parser such as @peculiar/asn1-schema; each of
 * these is a malformedRequest:
 * - non-DER encodings: indefinite or non-minimal lengths, high tag numbers, constructed
 *   strings, BOOLEANs other than 0x00/0xff, non-minimal INTEGERs and OID arcs;
 * - trailing bytes after the OCSPRequest, and unknown elements after any structure's last field;
 * - a version other than v1, an empty requestList, more than `maxRequests` requests;
 * - a CertID hash algorithm other than SHA-1/-256/-384/-512, hash parameters other than
 *   absent or NULL, hashes of the wrong length;
 * - duplicate extensions, unknown critical extensions, a malformed PreferredSignatureAlgorithms;
 * - a signature BIT STRING with unused bits; a requestorName that is not a plausible GeneralName.
 * Deliberately more lenient: an explicit DEFAULT (version v1, critical FALSE) is accepted,
 * and request certificates are only checked to be well-formed DER SEQUENCEs; their X.509
 * content is parsed by whoever verifies the request signature.
 */
import { MalformedRequestError } from "../errors.ts";
import { readAlgorithmIdentifier } from "./algorithm-identifier.ts";
import { decodeExtensions } from "./decode-extensions.ts";
import { DerReader, TAG } from "./der-reader.ts";
import { checkGeneralName } from "./general-name.ts";
import { readCertId } from "./read-cert-id.ts";
import { readOptionalCerts } from "./read-certs.ts";
import { id_pkix_ocsp_nonce, id_pkix_ocsp_pref_sig_algs } from "./oids.ts";
import type { AlgorithmIdentifier, Extension, OcspRequest, RequestSignature, SingleRequest } from "./types.ts";

/** Limits on one request. */
export interface DecodeRequestLimits {
  /** Most single requests in one requestList; default 100. */
  readonly maxRequests?: number;
}

/** Enough for any real client (browsers send 1, bulk checkers a handful) while bounding work. */
const DEFAULT_MAX_REQUESTS = 100;

/**
 * Decodes exactly one DER OCSPRequest. Returned Buffers share memory with `der`.
 * Throws MalformedRequestError on anything else, and never any other error.
 */
export function decodeOcspRequest(der: Buffer, limits?: DecodeRequestLimits): OcspRequest {
  const maxRequests = limits?.maxRequests ?? DEFAULT_MAX_REQUESTS;
  const top = DerReader.of(der, "OCSPRequest");
  const ocspRequest = top.enterNext(TAG.SEQUENCE, "OCSPRequest");
  top.finish();

  const tbsTlv = ocspRequest.expect(TAG.SEQUENCE, "tbsRequest");
  const tbs = ocspRequest.enter(tbsTlv, "TBSRequest");
  const versionTlv = tbs.optional(0xa0);
  if (versionTlv !== undefined) {
    const wrapper = tbs.enter(versionTlv, "version");
    const version = wrapper.smallInteger(wrapper.expect(TAG.INTEGER, "version"), "version");
    wrapper.finish();
    if (version !== 0) throw new MalformedRequestError(`unsupported OCSPRequest version ${version + 1} (only v1)`);
  }

  let requestorName: Buffer | undefined;
  const nameTlv = tbs.optional(0xa1);
  if (nameTlv !== undefined) {
    const wrapper = tbs.enter(nameTlv, "requestorName");
    const generalName = wrapper.next();
    checkGeneralName(wrapper, generalName, "requestorName");
    wrapper.finish();
    requestorName = wrapper.whole(generalName);
  }

  const list = tbs.enterNext(TAG.SEQUENCE, "requestList");
  const requests: SingleRequest[] = [];
  while (list.hasMore) {
    if (requests.length >= maxRequests) throw new MalformedRequestError(`more than ${maxRequests} requests in requestList`);
    requests.push(readRequest(list));
  }
  if (requests.length === 0) throw new MalformedRequestError("requestList is empty");

  let extensions: readonly Extension[] = [];
  const extensionsTlv = tbs.optional(0xa2);
  if (extensionsTlv !== undefined) extensions = decodeExtensions(tbs.enter(extensionsTlv, "requestExtensions"), "requestExtensions");
  tbs.finish();

  let nonce: Buffer | undefined;
  let preferredSignatureAlgorithms: readonly AlgorithmIdentifier[] = [];
  for (const extension of extensions) {
    if (extension.oid === id_pkix_ocsp_nonce) nonce = extension.value;
    else if (extension.oid === id_pkix_ocsp_pref_sig_algs) preferredSignatureAlgorithms = readPreferredAlgorithms(extension.value);
  }

  const signatureTlv = ocspRequest.optional(0xa0);
  const signature = signatureTlv === undefined ? undefined : readSignature(ocspRequest.enter(signatureTlv, "optionalSignature"));
  ocspRequest.finish();

  return {
    tbsRequestDer: ocspRequest.whole(tbsTlv),
    requestorName,
    requests,
    extensions,
    nonce,
    preferredSignatureAlgorithms,
    signature,
  };
}

/** `Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }` */
function readRequest(list: DerReader): SingleRequest {
  const request = list.enterNext(TAG.SEQUENCE, "Request");
  const certId = readCertId(request);
  const extensionsTlv = request.optional(0xa0);
  const extensions =
    extensionsTlv === undefined ? [] : decodeExtensions(request.enter(extensionsTlv, "singleRequestExtensions"), "singleRequestExtensions");
  request.finish();
  return { certId, extensions };
}

/**
 * RFC 6960 §4.4.7.1: `PreferredSignatureAlgorithms ::= SEQUENCE OF PreferredSignatureAlgorithm`,
 * `PreferredSignatureAlgorithm ::= SEQUENCE { sigIdentifier AlgorithmIdentifier, certIdentifier AlgorithmIdentifier OPTIONAL }`.
 * Only sigIdentifier matters for choosing how to sign; certIdentifier is validated and dropped.
 */
function readPreferredAlgorithms(value: Buffer): AlgorithmIdentifier[] {
  const top = DerReader.of(value, "PreferredSignatureAlgorithms");
  const list = top.enterNext(TAG.SEQUENCE, "PreferredSignatureAlgorithms");
  top.finish();
  const algorithms: AlgorithmIdentifier[] = [];
  while (list.hasMore) {
    const item = list.enterNext(TAG.SEQUENCE, "PreferredSignatureAlgorithm");
    algorithms.push(readAlgorithmIdentifier(item, "sigIdentifier"));
    if (item.hasMore) readAlgorithmIdentifier(item, "certIdentifier");
    item.finish();
  }
  return algorithms;
}

/** `Signature ::= SEQUENCE { signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }` */
function readSignature(wrapper: DerReader): RequestSignature {
  const signature = wrapper.enterNext(TAG.SEQUENCE, "Signature");
  wrapper.finish();
  const algorithm = readAlgorithmIdentifier(signature, "signatureAlgorithm");
  const bits = signature.octetAlignedBitString("signature");
  const certs = readOptionalCerts(signature);
  signature.finish();
  return { algorithm, signature: bits, certs };
}

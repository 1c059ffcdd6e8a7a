/**
 * Request-side Extensions (RFC 5280 §4.1, RFC 6960 §4.4): decoding plus the policy on
 * criticality and duplicates, shared by requestExtensions and singleRequestExtensions.
 */
import { decodeOid } from "./der-oid.ts";
import type { DerReader } from "./der-reader.ts";
import { TAG } from "./der-reader.ts";
import {
  id_identrus_freshness_proof,
  id_pkix_ocsp_crl,
  id_pkix_ocsp_nonce,
  id_pkix_ocsp_pref_sig_algs,
  id_pkix_ocsp_response,
  id_pkix_ocsp_service_locator,
} from "./oids.ts";
import type { Extension } from "./types.ts";

/**
 * Extensions Vouch recognises in a request. A recognised extension is never rejected
 * for being critical: the nonce and preferred algorithms are acted on; the others
 * (service locator, CRL reference, acceptable responses, Identrus freshness proof) are
 * kept for the pipeline and are satisfied by what Vouch always does anyway
 * (a basic response from the authoritative responder).
 */
const KNOWN_REQUEST_EXTENSIONS: ReadonlySet<string> = new Set([
  id_pkix_ocsp_nonce,
  id_pkix_ocsp_pref_sig_algs,
  id_pkix_ocsp_service_locator,
  id_pkix_ocsp_crl,
  id_pkix_ocsp_response,
  id_identrus_freshness_proof,
]);

/**
 * Reads `Extensions ::= SEQUENCE OF Extension` from the content of an EXPLICIT wrapper.
 * Rejects duplicates (RFC 5280 §4.2) and unknown critical extensions (RFC 6960 §4.1.2 lets
 * a responder ignore only non-critical ones); unknown non-critical ones are kept.
 * `knownCritical: "any"` keeps unknown critical ones too (a response's, which its reader judges).
 * `critical` may be an explicit FALSE: DER forbids encoding the default, but real clients
 * do it and refusing them would gain nothing.
 */
export function decodeExtensions(wrapper: DerReader, where: string, knownCritical: ReadonlySet<string> | "any" = KNOWN_REQUEST_EXTENSIONS): Extension[] {
  const list = wrapper.enterNext(TAG.SEQUENCE, where);
  wrapper.finish();
  const extensions: Extension[] = [];
  while (list.hasMore) {
    const ext = list.enterNext(TAG.SEQUENCE, "Extension");
    const oid = decodeOid(ext.oidContent("extnID"));
    const criticalTlv = ext.optional(TAG.BOOLEAN);
    const critical = criticalTlv === undefined ? false : ext.boolean(criticalTlv, "critical");
    const value = ext.octetString("extnValue");
    ext.finish();
    for (const seen of extensions) {
      if (seen.oid === oid) list.reject(`duplicate extension ${oid} in ${where}`);
    }
    if (critical && knownCritical !== "any" && !knownCritical.has(oid)) {
      list.reject(`unknown critical extension ${oid} in ${where}`);
    }
    extensions.push({ oid, critical, value });
  }
  return extensions;
}

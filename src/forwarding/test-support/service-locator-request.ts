/**
 * Test support (not a test): OCSP requests carrying the RFC 6960 §4.4.6 ServiceLocator extension,
 * which `openssl ocsp` cannot write, built with Vouch's DER writer.
 */
import { encodeCertId } from "../../ocsp/cert-id.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import { explicit, octetString, oid, sequence, tlv } from "../../ocsp/der-writer.ts";
import { id_pkix_ocsp_nonce, id_pkix_ocsp_service_locator } from "../../ocsp/oids.ts";
import { id_ad_ocsp } from "../ocsp-urls.ts";

/** The extnValue content of a ServiceLocator naming `issuerCertDer`'s subject and the OCSP `urls`. */
export function serviceLocatorValue(issuerCertDer: Buffer, urls: readonly string[]): Buffer {
  const locator = sequence(...urls.map((url) => sequence(oid(id_ad_ocsp), tlv(0x86, Buffer.from(url, "latin1")))));
  return sequence(certificateFields(issuerCertDer).subjectDer, locator);
}

/**
 * An unsigned OCSPRequest (SHA-1 CertIDs, as openssl makes them) for each certificate in `targets`
 * (DER) issued by `issuerCertDer`, each single request carrying a ServiceLocator with `urls[i]`
 * (several locators for a list; none when `urls[i]` is undefined); with `nonce`, a nonce extension
 * of those octets.
 */
export function serviceLocatorRequest(issuerCertDer: Buffer, targets: readonly Buffer[], urls: readonly (string | readonly string[] | undefined)[], nonce?: Buffer): Buffer {
  const requests = targets.map((target, index) => {
    const certId = encodeCertId("sha1", issuerCertDer, certificateFields(target).serialNumber);
    const url = urls[index];
    if (url === undefined) return sequence(certId);
    const extension = sequence(oid(id_pkix_ocsp_service_locator), octetString(serviceLocatorValue(issuerCertDer, typeof url === "string" ? [url] : url)));
    return sequence(certId, explicit(0, sequence(extension)));
  });
  const requestExtensions = nonce === undefined ? [] : [explicit(2, sequence(sequence(oid(id_pkix_ocsp_nonce), octetString(octetString(nonce)))))];
  return sequence(sequence(sequence(...requests), ...requestExtensions));
}

/**
 * Where a certificate's OCSP responder lives, as two structures name it: a certificate's
 * AuthorityInfoAccess extension (RFC 5280 §4.2.2.1) and the ServiceLocator request extension
 * (RFC 6960 §4.4.6). Both carry the same AuthorityInfoAccessSyntax; only id-ad-ocsp entries
 * whose location is a uniformResourceIdentifier with an http or https URL count.
 */
import { decodeOid } from "../ocsp/der-oid.ts";
import { DerReader, TAG } from "../ocsp/der-reader.ts";
import type { Extension } from "../ocsp/types.ts";

/** id-pe-authorityInfoAccess (RFC 5280 §4.2.2.1). */
const id_pe_authorityInfoAccess = "1.3.6.1.5.5.7.1.1";
/** id-ad-ocsp (RFC 5280 §4.2.2.1). */
export const id_ad_ocsp = "1.3.6.1.5.5.7.48.1";

/** uniformResourceIdentifier [6] IMPLICIT IA5String. */
const URI_TAG = 0x86;

/**
 * The http(s) OCSP URLs of an `AuthorityInfoAccessSyntax` value, in order; throws
 * MalformedRequestError when the DER is not that structure.
 * ```asn1
 * AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription
 * AccessDescription ::= SEQUENCE { accessMethod OBJECT IDENTIFIER, accessLocation GeneralName }
 * ```
 */
function ocspUrlsOfAccessSyntax(der: Buffer): URL[] {
  const top = DerReader.of(der, "AuthorityInfoAccessSyntax");
  const list = top.enterNext(TAG.SEQUENCE, "AuthorityInfoAccessSyntax");
  top.finish();
  return readAccessDescriptions(list);
}

/**
 * The OCSP URLs of a ServiceLocator extension value (its extnValue content); throws
 * MalformedRequestError when the DER is not that structure.
 * ```asn1
 * ServiceLocator ::= SEQUENCE { issuer Name, locator AuthorityInfoAccessSyntax }
 * ```
 */
export function ocspUrlsOfServiceLocator(der: Buffer): URL[] {
  const top = DerReader.of(der, "ServiceLocator");
  const locator = top.enterNext(TAG.SEQUENCE, "ServiceLocator");
  top.finish();
  locator.expect(TAG.SEQUENCE, "issuer");
  const list = locator.enterNext(TAG.SEQUENCE, "locator");
  locator.finish();
  return readAccessDescriptions(list);
}

/** The OCSP URLs in a certificate's AuthorityInfoAccess extension, or none when it has none (or a broken one). */
export function ocspUrlsOfCertificate(extensions: readonly Extension[]): URL[] {
  const aia = extensions.find((extension) => extension.oid === id_pe_authorityInfoAccess);
  if (aia === undefined) return [];
  try {
    return ocspUrlsOfAccessSyntax(aia.value);
  } catch {
    return [];
  }
}

function readAccessDescriptions(list: DerReader): URL[] {
  const urls: URL[] = [];
  while (list.hasMore) {
    const description = list.enterNext(TAG.SEQUENCE, "AccessDescription");
    const method = decodeOid(description.oidContent("accessMethod"));
    const location = description.next();
    description.finish();
    if (method !== id_ad_ocsp || location.tag !== URI_TAG) continue;
    const url = URL.parse(description.content(location).toString("latin1"));
    if (url !== null && (url.protocol === "http:" || url.protocol === "https:")) urls.push(url);
  }
  return urls;
}

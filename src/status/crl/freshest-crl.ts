/**
 * Where a complete CRL says its delta CRLs are: the URIs of its Freshest CRL extension (RFC 5280
 * §5.2.6), which has the syntax of CRL distribution points.
 * ```asn1
 * CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint
 * DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, reasons [1] ReasonFlags OPTIONAL, cRLIssuer [2] GeneralNames OPTIONAL }
 * DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] RelativeDistinguishedName }
 * ```
 */
import { contextConstructed, DerReader, TAG } from "../../ocsp/der-reader.ts";
import { CRL_DER } from "./crl-error.ts";

/** uniformResourceIdentifier [6] IMPLICIT IA5String. */
const URI_TAG = 0x86;

/**
 * The URIs of the full names of a Freshest CRL extension's value (`buf[start, end)`, the extnValue
 * content), in order. Distribution points that name no URI (a relative name, another kind of
 * GeneralName) or a cRLIssuer (an indirect delta) are left out. Throws CrlError when the DER is not
 * that structure.
 */
export function freshestCrlUrls(buf: Buffer, start: number, end: number): string[] {
  const top = DerReader.over(buf, start, end, "freshestCRL", CRL_DER);
  const points = top.enterNext(TAG.SEQUENCE, "freshestCRL");
  top.finish();
  const urls: string[] = [];
  while (points.hasMore) {
    const point = points.enterNext(TAG.SEQUENCE, "DistributionPoint");
    let name: DerReader | undefined;
    let indirect = false;
    while (point.hasMore) {
      const field = point.next();
      if (field.tag === contextConstructed(0)) name = point.enter(field, "distributionPoint");
      else if (field.tag === contextConstructed(2)) indirect = true;
    }
    if (name === undefined || indirect) continue;
    const choice = name.next();
    if (choice.tag !== contextConstructed(0)) continue;
    const fullName = name.enter(choice, "fullName");
    while (fullName.hasMore) {
      const general = fullName.next();
      if (general.tag === URI_TAG) urls.push(fullName.content(general).toString("latin1"));
    }
  }
  return urls;
}

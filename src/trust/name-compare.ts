/**
 * Comparing decoded distinguished names, as name chaining and name constraints need (RFC 5280
 * §7.1). Character string values compare as RFC 4517 caseIgnoreMatch after a simplified RFC 4518
 * preparation (see `prepareValue`), whatever string type encodes them (a PrintableString "Acme"
 * equals a UTF8String "ACME"); other values compare as DER octets. Multi-valued RDNs compare as sets.
 */
import type { NameAttribute, NameRdn } from "./distinguished-name.ts";

/**
 * RFC 4518 string preparation, simplified: Unicode NFKC, case folding (upper then lower, so that
 * "ß" and "SS" meet), insignificant space removed (leading and trailing whitespace dropped, inner
 * runs collapsed to one space). RFC 4518's prohibited and unassigned code point checks are not done.
 */
export function prepareValue(text: string): string {
  return text.normalize("NFKC").toUpperCase().toLowerCase().trim().replace(/\s+/gu, " ");
}

/** Whether two attributes have the same type and matching values. */
function attributesEqual(a: NameAttribute, b: NameAttribute): boolean {
  if (a.type !== b.type) return false;
  if (a.text !== undefined && b.text !== undefined) return prepareValue(a.text) === prepareValue(b.text);
  return a.valueDer.equals(b.valueDer);
}

/** Whether two RDNs hold the same attributes, in any order. */
function rdnsEqual(a: NameRdn, b: NameRdn): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  return a.every((attribute) => {
    const index = b.findIndex((candidate, i) => !used[i] && attributesEqual(attribute, candidate));
    if (index < 0) return false;
    used[index] = true;
    return true;
  });
}

/** Whether two names (decoded, in the same order) are equal RDN by RDN. */
export function namesEqual(a: readonly NameRdn[], b: readonly NameRdn[]): boolean {
  return a.length === b.length && a.every((rdn, i) => rdnsEqual(rdn, b[i] ?? []));
}

/**
 * Whether `name` is within the directoryName subtree rooted at `base` (RFC 5280 §4.2.1.10): the
 * RDNs of `base` are the first RDNs of `name`, both in DER order (most general first).
 */
export function nameWithinSubtree(name: readonly NameRdn[], base: readonly NameRdn[]): boolean {
  return base.length <= name.length && base.every((rdn, i) => rdnsEqual(rdn, name[i] ?? []));
}

/**
 * Attribute types of distinguished names (X.520, RFC 4519, PKCS #9) and the short names RFC 4514
 * strings use for them. One table serves both directions: rendering picks the first name listed
 * for an OID, parsing accepts every alias, case-insensitively.
 */

/** One attribute type: its OID and the names it is written as, the rendered one first. */
interface AttributeType {
  readonly oid: string;
  readonly names: readonly string[];
}

/**
 * The RFC 4514 §3 table (CN, L, ST, O, OU, C, STREET, DC, UID) plus the attributes real PKIs put in
 * subjects, named as OpenSSL and Windows print them. Anything else renders as a dotted OID.
 */
const ATTRIBUTE_TYPES: readonly AttributeType[] = [
  { oid: "2.5.4.3", names: ["CN", "commonName"] },
  { oid: "2.5.4.4", names: ["SN", "surname"] },
  { oid: "2.5.4.5", names: ["SERIALNUMBER", "serialNumber"] },
  { oid: "2.5.4.6", names: ["C", "countryName"] },
  { oid: "2.5.4.7", names: ["L", "localityName"] },
  { oid: "2.5.4.8", names: ["ST", "stateOrProvinceName", "S"] },
  { oid: "2.5.4.9", names: ["STREET", "streetAddress"] },
  { oid: "2.5.4.10", names: ["O", "organizationName"] },
  { oid: "2.5.4.11", names: ["OU", "organizationalUnitName"] },
  { oid: "2.5.4.12", names: ["title"] },
  { oid: "2.5.4.15", names: ["businessCategory"] },
  { oid: "2.5.4.17", names: ["postalCode"] },
  { oid: "2.5.4.42", names: ["GN", "givenName", "G"] },
  { oid: "2.5.4.43", names: ["initials"] },
  { oid: "2.5.4.44", names: ["generationQualifier"] },
  { oid: "2.5.4.46", names: ["dnQualifier"] },
  { oid: "2.5.4.65", names: ["pseudonym"] },
  { oid: "2.5.4.97", names: ["organizationIdentifier"] },
  { oid: "0.9.2342.19200300.100.1.1", names: ["UID", "userId"] },
  { oid: "0.9.2342.19200300.100.1.25", names: ["DC", "domainComponent"] },
  { oid: "1.2.840.113549.1.9.1", names: ["emailAddress", "E", "email"] },
];

/** OID of the PKCS #9 emailAddress attribute, which name constraints on rfc822Name also cover. */
export const EMAIL_ADDRESS_OID = "1.2.840.113549.1.9.1";

const NAME_BY_OID = new Map(ATTRIBUTE_TYPES.map((type) => [type.oid, type.names[0] ?? type.oid]));
const OID_BY_NAME = new Map(ATTRIBUTE_TYPES.flatMap((type) => type.names.map((name) => [name.toLowerCase(), type.oid] as const)));

/** The short name an RFC 4514 string uses for `oid`, or `undefined` for types outside the table. */
export function attributeShortName(oid: string): string | undefined {
  return NAME_BY_OID.get(oid);
}

/** The OID of a short or long attribute name (case-insensitive), or `undefined` when unknown. */
export function attributeOidOfName(name: string): string | undefined {
  return OID_BY_NAME.get(name.toLowerCase());
}

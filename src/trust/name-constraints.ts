/**
 * Name constraints (RFC 5280 §4.2.1.10) of one CA applied to one certificate below it.
 *
 * Covered name forms:
 * - directoryName: the subject DN (when not empty) and directoryName SANs; a name is within a
 *   subtree when the base's RDNs are its first RDNs (values compared as in name-compare.ts).
 * - dNSName: SAN dNSNames; `example.com` covers it and every name below it, `.example.com` only the
 *   names below it; case-insensitive.
 * - rfc822Name: SAN rfc822Names and emailAddress attributes of the subject DN (RFC 5280 asks for the
 *   latter when there is no SAN; applying it always is stricter); `user@host` is one mailbox, `host`
 *   every mailbox at that host, `.host` every mailbox at hosts below it.
 * - iPAddress: SAN addresses against address/mask pairs of the same family.
 * Other forms (URI, otherName, registeredID, x400Address, ediPartyName) are not compared: when a CA
 * constrains such a form and the certificate has a name of that form, the certificate fails
 * (RFC 5280 lets an application reject what it cannot process; failing closed is the safe choice).
 */
import { EMAIL_ADDRESS_OID } from "./attribute-types.ts";
import type { NameRdn } from "./distinguished-name.ts";
import { renderName } from "./distinguished-name.ts";
import { nameWithinSubtree } from "./name-compare.ts";
import type { ParsedCertificate } from "./parse-certificate.ts";
import type { GeneralName, NameConstraints } from "./parse-general-names.ts";
import { GENERAL_NAME } from "./parse-general-names.ts";

/** A form Vouch compares: how to list a certificate's names of that form and test one against a base. */
interface Form<T> {
  readonly label: string;
  readonly tag: number;
  names(certificate: ParsedCertificate): readonly T[];
  within(name: T, base: GeneralName): boolean;
  show(name: T): string;
  /** A name of this form too broken to compare (a mailbox without `@`); it fails any constraint. */
  readonly broken?: (name: T) => boolean;
}

const directoryForm: Form<readonly NameRdn[]> = {
  label: "directoryName",
  tag: GENERAL_NAME.directoryName,
  names: (certificate) => [
    ...(certificate.subject.length > 0 ? [certificate.subject] : []),
    ...certificate.subjectAltNames.flatMap((name) => (name.directoryName === undefined ? [] : [name.directoryName])),
  ],
  within: (name, base) => base.directoryName !== undefined && nameWithinSubtree(name, base.directoryName),
  show: (name) => JSON.stringify(renderName(name)),
};

const dnsForm: Form<string> = {
  label: "dNSName",
  tag: GENERAL_NAME.dNSName,
  names: (certificate) => sanTexts(certificate, GENERAL_NAME.dNSName),
  within: (name, base) => dnsWithin(name, base.content.toString("latin1")),
  show: (name) => JSON.stringify(name),
};

const emailForm: Form<string> = {
  label: "rfc822Name",
  tag: GENERAL_NAME.rfc822Name,
  names: (certificate) => [
    ...sanTexts(certificate, GENERAL_NAME.rfc822Name),
    ...certificate.subject.flat().flatMap((attribute) => (attribute.type === EMAIL_ADDRESS_OID && attribute.text !== undefined ? [attribute.text] : [])),
  ],
  within: (name, base) => emailWithin(name, base.content.toString("latin1")),
  show: (name) => JSON.stringify(name),
  broken: (name) => name.lastIndexOf("@") <= 0,
};

const ipForm: Form<Buffer> = {
  label: "iPAddress",
  tag: GENERAL_NAME.iPAddress,
  names: (certificate) => certificate.subjectAltNames.filter((name) => name.tag === GENERAL_NAME.iPAddress).map((name) => name.content),
  within: (address, base) => {
    if (base.content.length !== address.length * 2) return false;
    const mask = base.content.subarray(address.length);
    return address.every((octet, i) => (octet & (mask[i] ?? 0)) === ((base.content[i] ?? 0) & (mask[i] ?? 0)));
  },
  show: (address) => (address.length === 4 ? address.join(".") : address.toString("hex")),
};

const FORMS = [directoryForm, dnsForm, emailForm, ipForm] as const;
const COMPARED: ReadonlySet<number> = new Set(FORMS.map((form) => form.tag));

/**
 * Why `certificate` violates `constraints`, or `undefined` when it satisfies them. A name violates
 * when it is within an excluded subtree of its form, or when permitted subtrees of its form exist
 * and it is within none of them.
 */
export function nameConstraintsViolation(constraints: NameConstraints, certificate: ParsedCertificate): string | undefined {
  for (const form of FORMS) {
    const violation = checkForm(form as Form<unknown>, constraints, certificate);
    if (violation !== undefined) return violation;
  }
  const constrained = new Set([...constraints.permitted, ...constraints.excluded].map((base) => base.tag).filter((tag) => !COMPARED.has(tag)));
  const unsupported = certificate.subjectAltNames.find((name) => constrained.has(name.tag));
  if (unsupported !== undefined) return `a subjectAltName of a constrained form Vouch does not compare (tag 0x${unsupported.tag.toString(16)})`;
  return undefined;
}

function checkForm<T>(form: Form<T>, constraints: NameConstraints, certificate: ParsedCertificate): string | undefined {
  const permitted = constraints.permitted.filter((base) => base.tag === form.tag);
  const excluded = constraints.excluded.filter((base) => base.tag === form.tag);
  if (permitted.length === 0 && excluded.length === 0) return undefined;
  for (const name of form.names(certificate)) {
    if (form.broken?.(name) === true) return `${form.label} ${form.show(name)} cannot be checked against name constraints`;
    if (excluded.some((base) => form.within(name, base))) return `${form.label} ${form.show(name)} is in an excluded subtree`;
    if (permitted.length > 0 && !permitted.some((base) => form.within(name, base))) return `${form.label} ${form.show(name)} is outside the permitted subtrees`;
  }
  return undefined;
}

function sanTexts(certificate: ParsedCertificate, tag: number): string[] {
  return certificate.subjectAltNames.filter((name) => name.tag === tag).map((name) => name.content.toString("latin1"));
}

function dnsWithin(name: string, constraint: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, "");
  const base = constraint.toLowerCase().replace(/\.$/, "");
  if (base === "") return true;
  if (base.startsWith(".")) return host.endsWith(base);
  return host === base || host.endsWith(`.${base}`);
}

function emailWithin(address: string, constraint: string): boolean {
  const at = address.lastIndexOf("@");
  if (at <= 0) return false;
  const host = address.slice(at + 1).toLowerCase();
  if (constraint.includes("@")) {
    const split = constraint.lastIndexOf("@");
    return address.slice(0, at) === constraint.slice(0, split) && host === constraint.slice(split + 1).toLowerCase();
  }
  const base = constraint.toLowerCase();
  if (base.startsWith(".")) return host.endsWith(base);
  return host === base;
}

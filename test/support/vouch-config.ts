/**
 * Configurations for end-to-end tests, built as data so that a test states only what it varies: the
 * usual issuer of a test PKI (its CA, its delegated signer, its index.txt), a responder on a free
 * loopback port, and `log.level: info` (tests wait for log lines) are the defaults; everything else is
 * a field given as it is written in YAML. `vouchConfig` writes the YAML text Vouch reads.
 */
import { stringify } from "yaml";
import type { Pki } from "../../src/pki/openssl-pki.ts";

/** A YAML mapping, as the configuration file would hold it. */
export type YamlFields = Readonly<Record<string, unknown>>;

/** The PKI's delegated OCSP signer (certificate and key files). */
export function pkiSigner(pki: Pki, fields: YamlFields = {}): YamlFields {
  return { certificate: pki.signer, key: pki.signerKey, ...fields };
}

/** An issuer of `pki`: its CA certificate, signed for by its delegated signer, answered from its index.txt; `fields` replace or add. */
export function pkiIssuer(pki: Pki, fields: YamlFields = {}): YamlFields {
  return { certificate: pki.ca, signer: pkiSigner(pki), sources: [{ type: "index", file: pki.index }], ...fields };
}

/**
 * The `trust` block for a test PKI's root, which publishes no CRL: its CAs' status is unknown, so
 * `unknownStatus: pass` (leaves are still checked); `fields` replace or add (certificates).
 */
export function pkiTrust(pki: Pki, fields: YamlFields = {}): YamlFields {
  return { anchors: [pki.root], unknownStatus: "pass", ...fields };
}

/** A responder named `name` on 127.0.0.1, port 0 (a free one) unless `fields` say otherwise, answering for `issuers`. */
export function testResponder(name: string, issuers: readonly YamlFields[], fields: YamlFields = {}): YamlFields {
  return { name, listen: { host: "127.0.0.1", port: 0 }, ...fields, issuers };
}

/**
 * The configuration file's text: `log: { level: info }` unless `fields.log` says otherwise, then
 * `fields`. A value given twice (one issuer list for several responders) is written out each time,
 * as an operator would write it, not as a YAML anchor and alias.
 */
export function vouchConfig(fields: YamlFields & { readonly responders: readonly YamlFields[] }): string {
  return stringify({ log: { level: "info" }, ...fields }, { lineWidth: 0, aliasDuplicateObjects: false });
}

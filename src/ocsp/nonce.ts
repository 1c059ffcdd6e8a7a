/**
 * Nonce length rules (RFC 8954, updated by RFC 9654): `Nonce ::= OCTET STRING (SIZE(1..32))`
 * in the extension's extnValue, and a responder SHOULD answer malformedRequest to a nonce
 * outside the limits it supports (Vouch's limit is configurable).
 */
import { MalformedRequestError } from "../errors.ts";
import { DerReader, TAG } from "./der-reader.ts";

/**
 * The nonce's length in octets as a client meant it.
 *
 * Leniency, chosen on purpose: before RFC 8954, some clients (old Microsoft and Java
 * stacks among them) put the raw nonce bytes in extnValue with no inner OCTET STRING.
 * When extnValue is not exactly one DER OCTET STRING, it is taken as such a raw nonce
 * and its whole length counts. A raw nonce that happens to look like an OCTET STRING
 * is read as one; either way the response echoes extnValue unchanged, so the client
 * gets back exactly what it sent.
 */
export function nonceLength(extnValue: Buffer): number {
  if (extnValue[0] !== TAG.OCTET_STRING) return extnValue.length;
  try {
    const reader = DerReader.of(extnValue, "nonce");
    const tlv = reader.next();
    reader.finish();
    return tlv.end - tlv.contentStart;
  } catch (error) {
    if (error instanceof MalformedRequestError) return extnValue.length;
    throw error;
  }
}

/**
 * Throws MalformedRequestError when the nonce is empty or longer than `maxLength` octets;
 * the message names the length so operators can see what a client sent.
 */
export function checkNonce(extnValue: Buffer, maxLength: number): void {
  const length = nonceLength(extnValue);
  if (length === 0) throw new MalformedRequestError("nonce is empty (RFC 8954 requires at least 1 octet)");
  if (length > maxLength) throw new MalformedRequestError(`nonce of ${length} octets is longer than the ${maxLength} allowed`);
}

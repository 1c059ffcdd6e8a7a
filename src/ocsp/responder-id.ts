/**
 * ResponderID (RFC 6960 §4.2.1): `CHOICE { byName [1] Name, byKey [2] KeyHash }`, both
 * EXPLICIT because the module uses EXPLICIT tagging. Built once per signer, then reused.
 */
import { createHash } from "node:crypto";
import { subjectPublicKeyOfSpki } from "./certificate-fields.ts";
import { explicit, octetString } from "./der-writer.ts";

/**
 * `byKey [2] EXPLICIT KeyHash`, where KeyHash is the SHA-1 of the subjectPublicKey BIT
 * STRING's value (no tag, length or unused-bits octet). Takes either a whole DER
 * SubjectPublicKeyInfo, or `{ subjectPublicKey }` with those bits already extracted
 * (as `certificateFields` returns them). The two are distinguished by type, not by
 * sniffing bytes: an RSAPublicKey starts with a SEQUENCE just like an SPKI does.
 * Throws CertificateFormatError on a bad SubjectPublicKeyInfo.
 */
export function responderIdByKey(key: Buffer | { readonly subjectPublicKey: Buffer }): Buffer {
  const publicKey = Buffer.isBuffer(key) ? subjectPublicKeyOfSpki(key) : key.subjectPublicKey;
  return explicit(2, octetString(createHash("sha1").update(publicKey).digest()));
}

/** `byName [1] EXPLICIT Name`: the signer certificate's subject, exactly as encoded there. */
export function responderIdByName(subjectNameDer: Buffer): Buffer {
  return explicit(1, subjectNameDer);
}

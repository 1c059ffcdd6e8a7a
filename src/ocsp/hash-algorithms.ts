/** The CertID hash algorithms: their OIDs and digest sizes, in one table for reader and writer. */
import { encodeOid } from "./der-oid.ts";
import { id_sha1, id_sha256, id_sha384, id_sha512 } from "./oids.ts";
import type { HashAlgorithm } from "./types.ts";

/** OID of each CertID hash algorithm. */
export const HASH_ALGORITHM_OIDS: Readonly<Record<HashAlgorithm, string>> = {
  sha1: id_sha1,
  sha256: id_sha256,
  sha384: id_sha384,
  sha512: id_sha512,
};

/** Digest length in octets: a CertID hash of any other length cannot match anything. */
export const HASH_LENGTHS: Readonly<Record<HashAlgorithm, number>> = {
  sha1: 20,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

const BY_CONTENT: readonly (readonly [Buffer, HashAlgorithm])[] = Object.entries(HASH_ALGORITHM_OIDS).map(
  ([name, oid]) => [encodeOid(oid), name as HashAlgorithm] as const,
);

/**
 * The HashAlgorithm whose OID has these DER content octets, or `undefined`. Every CertID on the hot
 * path goes through here: comparing a handful of octets beats building the dotted text.
 */
export function hashAlgorithmFromOidContent(content: Buffer): HashAlgorithm | undefined {
  for (const [encoded, name] of BY_CONTENT) if (encoded.equals(content)) return name;
  return undefined;
}

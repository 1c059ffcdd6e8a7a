import { constants } from "node:crypto";
import type { AlgorithmIdentifier } from "../ocsp/types.ts";
import type { SignatureAlgorithm } from "./signer.ts";

/**
 * How node:crypto produces a signature for one algorithm. ECDSA needs no option: node's default
 * encoding is the DER ECDSA-Sig-Value that X.509 and OCSP use (RFC 3279 §2.2.3).
 */
export interface SigningRecipe {
  /** Digest for `crypto.sign`, or null for Ed25519 and ML-DSA (which hash internally). */
  readonly digest: "sha256" | "sha384" | "sha512" | null;
  readonly padding?: number;
  readonly saltLength?: number;
}

export interface KnownSignatureAlgorithm extends SignatureAlgorithm {
  readonly recipe: SigningRecipe;
}

function known(name: string, oid: string, derHex: string, recipe: SigningRecipe): KnownSignatureAlgorithm {
  return { name, identifier: { oid, der: Buffer.from(derHex, "hex") }, recipe };
}

const pss = { padding: constants.RSA_PKCS1_PSS_PADDING } as const;

// AlgorithmIdentifier DER as OpenSSL writes it: NULL parameters for PKCS#1 v1.5 (RFC 4055 §5),
// absent parameters for ECDSA (RFC 5758 §3.2) and Ed25519 (RFC 8410 §3), and full RSASSA-PSS-params
// with salt = hash length, because gnutls rejects PSS identifiers that rely on the (SHA-1) defaults.
export const SHA256_WITH_RSA = known("sha256WithRSAEncryption", "1.2.840.113549.1.1.11", "300d06092a864886f70d01010b0500", { digest: "sha256" });
export const SHA384_WITH_RSA = known("sha384WithRSAEncryption", "1.2.840.113549.1.1.12", "300d06092a864886f70d01010c0500", { digest: "sha384" });
export const SHA512_WITH_RSA = known("sha512WithRSAEncryption", "1.2.840.113549.1.1.13", "300d06092a864886f70d01010d0500", { digest: "sha512" });
export const RSASSA_PSS_SHA256 = known(
  "RSASSA-PSS-SHA256",
  "1.2.840.113549.1.1.10",
  "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120",
  { digest: "sha256", ...pss, saltLength: 32 },
);
export const RSASSA_PSS_SHA384 = known(
  "RSASSA-PSS-SHA384",
  "1.2.840.113549.1.1.10",
  "304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130",
  { digest: "sha384", ...pss, saltLength: 48 },
);
export const RSASSA_PSS_SHA512 = known(
  "RSASSA-PSS-SHA512",
  "1.2.840.113549.1.1.10",
  "304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886f70d010108300d06096086480165030402030500a203020140",
  { digest: "sha512", ...pss, saltLength: 64 },
);
export const ECDSA_WITH_SHA256 = known("ecdsa-with-SHA256", "1.2.840.10045.4.3.2", "300a06082a8648ce3d040302", { digest: "sha256" });
export const ECDSA_WITH_SHA384 = known("ecdsa-with-SHA384", "1.2.840.10045.4.3.3", "300a06082a8648ce3d040303", { digest: "sha384" });
export const ECDSA_WITH_SHA512 = known("ecdsa-with-SHA512", "1.2.840.10045.4.3.4", "300a06082a8648ce3d040304", { digest: "sha512" });
export const ED25519 = known("Ed25519", "1.3.101.112", "300506032b6570", { digest: null });
// RFC 9881 §2: pure ML-DSA with the empty context (node's `sign(null, data, key)`), parameters absent.
export const ML_DSA_44 = known("ML-DSA-44", "2.16.840.1.101.3.4.3.17", "300b0609608648016503040311", { digest: null });
export const ML_DSA_65 = known("ML-DSA-65", "2.16.840.1.101.3.4.3.18", "300b0609608648016503040312", { digest: null });
export const ML_DSA_87 = known("ML-DSA-87", "2.16.840.1.101.3.4.3.19", "300b0609608648016503040313", { digest: null });

const POST_QUANTUM = new Set([ML_DSA_44.identifier.oid, ML_DSA_65.identifier.oid, ML_DSA_87.identifier.oid]);

/**
 * Whether `algorithm` is post-quantum (ML-DSA). Few clients verify those yet, so a post-quantum
 * signer answers only clients that ask for it (RFC 6960 §4.4.7) while a classical one is valid.
 */
export function isPostQuantum(algorithm: SignatureAlgorithm): boolean {
  return POST_QUANTUM.has(algorithm.identifier.oid);
}

/**
 * The algorithm of `supported` that the client's `wanted` identifier names (RFC 6960 §4.4.7.2), if
 * any. A client's identifier matches ours when its DER is identical, or, for algorithms without
 * parameters that matter, when its OID is ours (clients differ on absent versus NULL parameters).
 */
export function matchingAlgorithm<A extends SignatureAlgorithm>(supported: readonly A[], wanted: AlgorithmIdentifier): A | undefined {
  const exact = supported.find((algorithm) => algorithm.identifier.der.equals(wanted.der));
  if (exact !== undefined || wanted.oid === RSASSA_PSS_SHA256.identifier.oid) return exact;
  return supported.find((algorithm) => algorithm.identifier.oid === wanted.oid);
}

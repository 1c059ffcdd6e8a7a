/**
 * The AlgorithmIdentifier → verification table: how node:crypto verifies a signature made with a
 * given signature AlgorithmIdentifier (RSA PKCS#1 v1.5 with SHA-1/2, RSASSA-PSS with MGF1 over the
 * same hash, ECDSA with SHA-2, Ed25519, ML-DSA), for CRLs (status/crl/crl-signature.ts) and signed
 * requests and certificates (verify-signed-data.ts) alike. Each caller reads the identifier by its
 * own DER rules, which also give the error a failure is.
 */
import { decodeOid } from "../ocsp/der-oid.ts";
import {
  ecdsa_with_SHA256,
  ecdsa_with_SHA384,
  ecdsa_with_SHA512,
  id_Ed25519,
  id_mgf1,
  id_ml_dsa_44,
  id_ml_dsa_65,
  id_ml_dsa_87,
  id_RSASSA_PSS,
  id_sha1,
  id_sha256,
  id_sha384,
  id_sha512,
  sha1WithRSAEncryption,
  sha256WithRSAEncryption,
  sha384WithRSAEncryption,
  sha512WithRSAEncryption,
} from "../ocsp/oids.ts";
import { contextConstructed, DerReader, TAG, type DerRules } from "../ocsp/der-reader.ts";
import { unsignedInteger } from "../ocsp/der-unsigned.ts";

/** How to call crypto.verify for one AlgorithmIdentifier. */
export interface VerifyPlan {
  readonly name: string;
  /** Digest name, or null for Ed25519 and ML-DSA (which hash internally). */
  readonly digest: string | null;
  /** Key types (KeyObject.asymmetricKeyType) this algorithm can be verified with. */
  readonly keyTypes: readonly string[];
  readonly pssSaltLength?: number;
}

const PKCS1: ReadonlyMap<string, string> = new Map([
  [sha1WithRSAEncryption, "sha1"],
  [sha256WithRSAEncryption, "sha256"],
  [sha384WithRSAEncryption, "sha384"],
  [sha512WithRSAEncryption, "sha512"],
]);
const ECDSA: ReadonlyMap<string, string> = new Map([
  [ecdsa_with_SHA256, "sha256"],
  [ecdsa_with_SHA384, "sha384"],
  [ecdsa_with_SHA512, "sha512"],
]);
/** ML-DSA parameter sets by OID (RFC 9881 §2), as node:crypto names their key types. */
const ML_DSA: ReadonlyMap<string, string> = new Map([
  [id_ml_dsa_44, "ml-dsa-44"],
  [id_ml_dsa_65, "ml-dsa-65"],
  [id_ml_dsa_87, "ml-dsa-87"],
]);
const DIGESTS: ReadonlyMap<string, string> = new Map([
  [id_sha1, "sha1"],
  [id_sha256, "sha256"],
  [id_sha384, "sha384"],
  [id_sha512, "sha512"],
]);

/**
 * Decodes a signature AlgorithmIdentifier into a verify plan, reading it by `rules`; throws the
 * rules' error when it is malformed or not an algorithm Vouch verifies.
 */
export function verifyPlan(algorithmDer: Buffer, rules: DerRules): VerifyPlan {
  const fail = rules.error;
  const algorithm = DerReader.of(algorithmDer, "signatureAlgorithm", rules).enterNext(TAG.SEQUENCE, "signatureAlgorithm");
  const oid = decodeOid(algorithm.content(algorithm.expect(TAG.OID, "signatureAlgorithm")));
  const params = algorithm.hasMore ? algorithm.next() : undefined;
  const pkcs1 = PKCS1.get(oid);
  if (pkcs1 !== undefined) {
    // RFC 4055 §5: the parameters are NULL (absent is tolerated, as OpenSSL does).
    if (params !== undefined && (params.tag !== TAG.NULL || params.end !== params.contentStart)) {
      throw fail(`${oid}: parameters must be NULL`);
    }
    return { name: `${pkcs1}WithRSAEncryption`, digest: pkcs1, keyTypes: ["rsa"] };
  }
  const ecdsa = ECDSA.get(oid);
  if (ecdsa !== undefined) {
    if (params !== undefined) throw fail(`${oid}: ECDSA takes no parameters`);
    return { name: `ecdsa-with-${ecdsa.toUpperCase()}`, digest: ecdsa, keyTypes: ["ec"] };
  }
  if (oid === id_Ed25519) {
    if (params !== undefined) throw fail("Ed25519 takes no parameters");
    return { name: "Ed25519", digest: null, keyTypes: ["ed25519"] };
  }
  const mlDsa = ML_DSA.get(oid);
  if (mlDsa !== undefined) {
    if (params !== undefined) throw fail(`${mlDsa.toUpperCase()}: parameters must be absent (RFC 9881)`);
    return { name: mlDsa.toUpperCase(), digest: null, keyTypes: [mlDsa] };
  }
  if (oid === id_RSASSA_PSS) {
    if (params === undefined) throw fail("RSASSA-PSS: parameters are required");
    if (params.tag !== TAG.SEQUENCE) throw fail("RSASSA-PSS: parameters must be a SEQUENCE");
    return pssPlan(algorithm.enter(params, "RSASSA-PSS-params"), fail);
  }
  throw fail(`unsupported signature algorithm ${oid}`);
}

/**
 * ```asn1
 * RSASSA-PSS-params ::= SEQUENCE {
 *   hashAlgorithm [0] HashAlgorithm DEFAULT sha1, maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
 *   saltLength [2] INTEGER DEFAULT 20, trailerField [3] TrailerField DEFAULT trailerFieldBC }
 * ```
 */
function pssPlan(params: DerReader, fail: (message: string) => Error): VerifyPlan {
  let digest = "sha1";
  let mgfDigest = "sha1";
  let saltLength = 20;
  while (params.hasMore) {
    const field = params.next();
    switch (field.tag) {
      case contextConstructed(0):
        digest = hashOf(params.enter(field, "hashAlgorithm").enterNext(TAG.SEQUENCE, "hashAlgorithm"), fail);
        break;
      case contextConstructed(1): {
        const mgf = params.enter(field, "maskGenAlgorithm").enterNext(TAG.SEQUENCE, "maskGenAlgorithm");
        if (decodeOid(mgf.content(mgf.expect(TAG.OID, "maskGenAlgorithm"))) !== id_mgf1) throw fail("RSASSA-PSS: only MGF1 is supported");
        mgfDigest = hashOf(mgf.enterNext(TAG.SEQUENCE, "MGF1 hash"), fail);
        break;
      }
      case contextConstructed(2): {
        const value = params.enter(field, "saltLength");
        const saltLengthValue = unsignedInteger(value, value.expect(TAG.INTEGER, "saltLength"), "saltLength");
        if (saltLengthValue > 1024n) throw fail("RSASSA-PSS: saltLength too large");
        saltLength = Number(saltLengthValue);
        break;
      }
      case contextConstructed(3): {
        const value = params.enter(field, "trailerField");
        if (unsignedInteger(value, value.expect(TAG.INTEGER, "trailerField"), "trailerField") !== 1n) throw fail("RSASSA-PSS: trailerField must be 1");
        break;
      }
      default:
        throw fail(`RSASSA-PSS: unexpected field 0x${field.tag.toString(16)}`);
    }
  }
  // node:crypto uses the signature digest for MGF1 too; a different MGF1 hash cannot be checked.
  if (mgfDigest !== digest) throw fail(`RSASSA-PSS: MGF1 with ${mgfDigest} under ${digest} is not supported`);
  return { name: `RSASSA-PSS-${digest.toUpperCase()}`, digest, keyTypes: ["rsa", "rsa-pss"], pssSaltLength: saltLength };
}

/** The digest name of a hash AlgorithmIdentifier (parameters NULL or absent). */
function hashOf(algorithm: DerReader, fail: (message: string) => Error): string {
  const oid = decodeOid(algorithm.content(algorithm.expect(TAG.OID, "hash algorithm")));
  const digest = DIGESTS.get(oid);
  if (digest === undefined) throw fail(`unsupported hash algorithm ${oid}`);
  return digest;
}

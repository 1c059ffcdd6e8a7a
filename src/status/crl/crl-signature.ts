/**
 * Verifies a CRL's signature against its issuer's public key with node:crypto, synchronously: the
 * CRL source loads on threads of its own (crl-load.ts) and verifies there. Measured on Node 24, the
 * callback form of `crypto.verify` still spent ~7 ms per MB on the calling thread before handing
 * over to the thread pool (164 ms for a 45 MB CRL, against 28 ms for the synchronous check).
 */
import type { KeyObject, VerifyKeyObjectInput } from "node:crypto";
import { constants, verify } from "node:crypto";
import { decodeOid } from "../../ocsp/der-oid.ts";
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
} from "../../ocsp/oids.ts";
import { contextConstructed, DerReader, TAG } from "../../ocsp/der-reader.ts";
import { CRL_DER, CrlError } from "./crl-error.ts";
import type { ParsedCrl } from "./crl-parse.ts";
import { unsignedInteger } from "./crl-parse.ts";

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
 * Returns when `crl`'s signature verifies with `issuerKey`; throws CrlError when it does not, when
 * the algorithm is not one Vouch supports (RSA PKCS#1 v1.5 with SHA-1/2, RSASSA-PSS with MGF1 over
 * the same SHA-2/SHA-1 hash, ECDSA with SHA-2, Ed25519, ML-DSA), or when the key cannot be used with that
 * algorithm. Synchronous: for a thread that exists to load one CRL (crl-jobs.ts).
 */
export function verifyCrlSignatureNow(crl: ParsedCrl, issuerKey: KeyObject): void {
  const { plan, key } = signatureCheck(crl, issuerKey);
  let ok: boolean;
  try {
    ok = verify(plan.digest, crl.tbsDer, key, crl.signature);
  } catch (error) {
    throw failedCheck(plan, error);
  }
  if (!ok) throw new CrlError(`signature does not verify with the issuer's key (${plan.name})`);
}

/** The plan for `crl`'s algorithm and the key to verify with; throws CrlError when they do not go together. */
function signatureCheck(crl: ParsedCrl, issuerKey: KeyObject): { plan: VerifyPlan; key: VerifyKey } {
  const plan = verifyPlan(crl.signatureAlgorithmDer);
  const keyType = issuerKey.asymmetricKeyType ?? "unknown";
  if (!plan.keyTypes.includes(keyType)) {
    throw new CrlError(`signed with ${plan.name}, but the issuer's key is ${keyType}`);
  }
  const key = plan.pssSaltLength === undefined
    ? issuerKey
    : { key: issuerKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: plan.pssSaltLength };
  return { plan, key };
}

function failedCheck(plan: VerifyPlan, error: unknown): CrlError {
  return new CrlError(`signature check failed (${plan.name}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

type VerifyKey = KeyObject | (VerifyKeyObjectInput & { padding: number; saltLength: number });

/** Decodes a signature AlgorithmIdentifier into a verify plan; throws CrlError when unsupported. */
export function verifyPlan(algorithmDer: Buffer): VerifyPlan {
  const algorithm = DerReader.of(algorithmDer, "signatureAlgorithm", CRL_DER).enterNext(TAG.SEQUENCE, "signatureAlgorithm");
  const oid = decodeOid(algorithm.content(algorithm.expect(TAG.OID, "signatureAlgorithm")));
  const params = algorithm.hasMore ? algorithm.next() : undefined;
  const pkcs1 = PKCS1.get(oid);
  if (pkcs1 !== undefined) {
    // RFC 4055 §5: the parameters are NULL (absent is tolerated, as OpenSSL does).
    if (params !== undefined && (params.tag !== TAG.NULL || params.end !== params.contentStart)) {
      throw new CrlError(`${oid}: parameters must be NULL`);
    }
    return { name: `${pkcs1}WithRSAEncryption`, digest: pkcs1, keyTypes: ["rsa"] };
  }
  const ecdsa = ECDSA.get(oid);
  if (ecdsa !== undefined) {
    if (params !== undefined) throw new CrlError(`${oid}: ECDSA takes no parameters`);
    return { name: `ecdsa-with-${ecdsa.toUpperCase()}`, digest: ecdsa, keyTypes: ["ec"] };
  }
  if (oid === id_Ed25519) {
    if (params !== undefined) throw new CrlError("Ed25519 takes no parameters");
    return { name: "Ed25519", digest: null, keyTypes: ["ed25519"] };
  }
  const mlDsa = ML_DSA.get(oid);
  if (mlDsa !== undefined) {
    if (params !== undefined) throw new CrlError(`${mlDsa.toUpperCase()}: parameters must be absent (RFC 9881)`);
    return { name: mlDsa.toUpperCase(), digest: null, keyTypes: [mlDsa] };
  }
  if (oid === id_RSASSA_PSS) {
    if (params === undefined) throw new CrlError("RSASSA-PSS: parameters are required");
    if (params.tag !== TAG.SEQUENCE) throw new CrlError("RSASSA-PSS: parameters must be a SEQUENCE");
    return pssPlan(algorithm.enter(params, "RSASSA-PSS-params"));
  }
  throw new CrlError(`unsupported signature algorithm ${oid}`);
}

/**
 * ```asn1
 * RSASSA-PSS-params ::= SEQUENCE {
 *   hashAlgorithm [0] HashAlgorithm DEFAULT sha1, maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
 *   saltLength [2] INTEGER DEFAULT 20, trailerField [3] TrailerField DEFAULT trailerFieldBC }
 * ```
 */
function pssPlan(params: DerReader): VerifyPlan {
  let digest = "sha1";
  let mgfDigest = "sha1";
  let saltLength = 20;
  while (params.hasMore) {
    const field = params.next();
    switch (field.tag) {
      case contextConstructed(0):
        digest = hashOf(params.enter(field, "hashAlgorithm").enterNext(TAG.SEQUENCE, "hashAlgorithm"));
        break;
      case contextConstructed(1): {
        const mgf = params.enter(field, "maskGenAlgorithm").enterNext(TAG.SEQUENCE, "maskGenAlgorithm");
        if (decodeOid(mgf.content(mgf.expect(TAG.OID, "maskGenAlgorithm"))) !== id_mgf1) throw new CrlError("RSASSA-PSS: only MGF1 is supported");
        mgfDigest = hashOf(mgf.enterNext(TAG.SEQUENCE, "MGF1 hash"));
        break;
      }
      case contextConstructed(2): {
        const value = params.enter(field, "saltLength");
        const saltLengthValue = unsignedInteger(value, value.expect(TAG.INTEGER, "saltLength"), "saltLength");
        if (saltLengthValue > 1024n) throw new CrlError("RSASSA-PSS: saltLength too large");
        saltLength = Number(saltLengthValue);
        break;
      }
      case contextConstructed(3): {
        const value = params.enter(field, "trailerField");
        if (unsignedInteger(value, value.expect(TAG.INTEGER, "trailerField"), "trailerField") !== 1n) throw new CrlError("RSASSA-PSS: trailerField must be 1");
        break;
      }
      default:
        throw new CrlError(`RSASSA-PSS: unexpected field 0x${field.tag.toString(16)}`);
    }
  }
  // node:crypto uses the signature digest for MGF1 too; a different MGF1 hash cannot be checked.
  if (mgfDigest !== digest) throw new CrlError(`RSASSA-PSS: MGF1 with ${mgfDigest} under ${digest} is not supported`);
  return { name: `RSASSA-PSS-${digest.toUpperCase()}`, digest, keyTypes: ["rsa", "rsa-pss"], pssSaltLength: saltLength };
}

/** The digest name of a hash AlgorithmIdentifier (parameters NULL or absent). */
function hashOf(algorithm: DerReader): string {
  const oid = decodeOid(algorithm.content(algorithm.expect(TAG.OID, "hash algorithm")));
  const digest = DIGESTS.get(oid);
  if (digest === undefined) throw new CrlError(`unsupported hash algorithm ${oid}`);
  return digest;
}

import { createHash, type KeyObject } from "node:crypto";
import { ConfigError } from "../../errors.ts";
import {
  ECDSA_WITH_SHA256,
  ECDSA_WITH_SHA384,
  ECDSA_WITH_SHA512,
  RSASSA_PSS_SHA256,
  RSASSA_PSS_SHA384,
  RSASSA_PSS_SHA512,
  SHA256_WITH_RSA,
  SHA384_WITH_RSA,
  SHA512_WITH_RSA,
  type KnownSignatureAlgorithm,
} from "../signature-algorithms.ts";
import { ecdsaRawToDer } from "./ecdsa-signature.ts";
import type { Pkcs11Binding } from "./pkcs11-module.ts";

export type TokenKeyType = "rsa" | "ec";

/** What a token key can do, decided from the signer certificate's public key. */
export interface TokenKeyProfile {
  readonly keyType: TokenKeyType;
  /** Default first, as in the key-file signer (RFC 6960 §4.4.7: the client may prefer another). */
  readonly algorithms: readonly KnownSignatureAlgorithm[];
  /** Octets of a raw signature from the token: the modulus for RSA, r || s for ECDSA. */
  readonly signatureLength: number;
}

/**
 * The algorithms a token key offers, from the certificate's public key: RSA (PKCS#1 v1.5 and PSS,
 * `rsaPadding` first) and ECDSA on P-256, P-384 and P-521. Throws ConfigError at `field` for any
 * other key (RSA-PSS-only SPKI, Ed25519, other curves).
 */
export function tokenKeyProfile(publicKey: KeyObject, rsaPadding: "pkcs1" | "pss", field: string): TokenKeyProfile {
  const details = publicKey.asymmetricKeyDetails;
  if (publicKey.asymmetricKeyType === "rsa") {
    const pkcs1 = [SHA256_WITH_RSA, SHA384_WITH_RSA, SHA512_WITH_RSA];
    const pss = [RSASSA_PSS_SHA256, RSASSA_PSS_SHA384, RSASSA_PSS_SHA512];
    return { keyType: "rsa", algorithms: rsaPadding === "pss" ? [...pss, ...pkcs1] : [...pkcs1, ...pss], signatureLength: Math.ceil((details?.modulusLength ?? 0) / 8) };
  }
  if (publicKey.asymmetricKeyType === "ec") {
    switch (details?.namedCurve) {
      case "prime256v1":
        return { keyType: "ec", algorithms: [ECDSA_WITH_SHA256, ECDSA_WITH_SHA384, ECDSA_WITH_SHA512], signatureLength: 64 };
      case "secp384r1":
        return { keyType: "ec", algorithms: [ECDSA_WITH_SHA384, ECDSA_WITH_SHA512, ECDSA_WITH_SHA256], signatureLength: 96 };
      case "secp521r1":
        return { keyType: "ec", algorithms: [ECDSA_WITH_SHA512, ECDSA_WITH_SHA384, ECDSA_WITH_SHA256], signatureLength: 132 };
      default:
        throw new ConfigError(field, `the signer certificate's EC curve ${details?.namedCurve ?? "?"} is not supported on a token (use P-256, P-384 or P-521)`);
    }
  }
  throw new ConfigError(field, `the signer certificate holds a ${publicKey.asymmetricKeyType ?? "unknown"} key; a PKCS#11 signer supports RSA and ECDSA`);
}

/** How one signature algorithm is produced by a token. */
export interface TokenMechanism {
  readonly mechanism: { readonly mechanism: number; readonly parameter?: { type: number; hashAlg: number; mgf: number; saltLen: number } };
  /** The octets the token signs: the digest of `tbs` (in DigestInfo for PKCS#1 v1.5), hashed here. */
  input(tbs: Buffer): Buffer;
  /** The token's output as OCSP carries it (ECDSA: DER ECDSA-Sig-Value). */
  output(raw: Buffer): Buffer;
}

// DigestInfo prefixes (RFC 8017 §9.2 note 1): the raw CKM_RSA_PKCS mechanism signs what it is given.
const DIGEST_INFO: Readonly<Record<"sha256" | "sha384" | "sha512", Buffer>> = {
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

/**
 * The mechanism for `algorithm`. The digest is always computed in Node and the token gets the
 * bare mechanisms (CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_ECDSA): SoftHSM 2.6 has no
 * CKM_ECDSA_SHA256, every token has the bare ones, and only a digest crosses to the token.
 */
export function tokenMechanism(algorithm: KnownSignatureAlgorithm, pkcs11: Pkcs11Binding): TokenMechanism {
  const { digest, padding, saltLength } = algorithm.recipe;
  if (digest === null) throw new RangeError(`${algorithm.name} is not offered by PKCS#11 signers`);
  const hash = (tbs: Buffer) => createHash(digest).update(tbs).digest();
  const same = (raw: Buffer) => raw;
  if (algorithm.name.startsWith("ecdsa")) return { mechanism: { mechanism: pkcs11.CKM_ECDSA }, input: hash, output: ecdsaRawToDer };
  if (padding === undefined) {
    const prefix = DIGEST_INFO[digest];
    return { mechanism: { mechanism: pkcs11.CKM_RSA_PKCS }, input: (tbs) => Buffer.concat([prefix, hash(tbs)]), output: same };
  }
  const pssHash = { sha256: [pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256], sha384: [pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384], sha512: [pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512] }[digest];
  return {
    mechanism: { mechanism: pkcs11.CKM_RSA_PKCS_PSS, parameter: { type: pkcs11.CK_PARAMS_RSA_PSS, hashAlg: pssHash[0]!, mgf: pssHash[1]!, saltLen: saltLength ?? 0 } },
    input: hash,
    output: same,
  };
}

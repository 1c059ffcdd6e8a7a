import { X509Certificate, createPublicKey, sign, type KeyObject } from "node:crypto";
import { ConfigError, InternalError } from "../errors.ts";
import { readPrivateKeyFile, type PassphraseSource } from "./private-key-file.ts";
import type { Signer } from "./signer.ts";
import {
  ECDSA_WITH_SHA256,
  ECDSA_WITH_SHA384,
  ECDSA_WITH_SHA512,
  ED25519,
  ML_DSA_44,
  ML_DSA_65,
  ML_DSA_87,
  RSASSA_PSS_SHA256,
  RSASSA_PSS_SHA384,
  RSASSA_PSS_SHA512,
  SHA256_WITH_RSA,
  SHA384_WITH_RSA,
  SHA512_WITH_RSA,
  type KnownSignatureAlgorithm,
} from "./signature-algorithms.ts";

export interface KeyFileSignerOptions {
  /** PEM (PKCS#8, PKCS#1 or SEC1) or DER PKCS#8 private key file, plain or encrypted (private-key-file.ts). */
  readonly keyFile: string;
  /** For an encrypted key file. */
  readonly passphrase?: PassphraseSource | undefined;
  /** The certificate that goes with the key (the CA's or a delegated responder's), DER. */
  readonly certificate: Buffer;
  /** RSA keys: which padding is the default. RSA-PSS keys always use PSS. */
  readonly rsaPadding: "pkcs1" | "pss";
  /** Field path of the key setting, for errors. */
  readonly field: string;
  /** Field path of the passphrase setting, for errors (default: `field` with `.key` replaced by `.passphrase`). */
  readonly passphraseField?: string;
}

/**
 * A signer whose key is in a file. RSA and ML-DSA signing runs on libuv's thread pool (async
 * `crypto.sign`): at ~300 µs (RSA-2048) and ~1 ms (ML-DSA-65) a signature it would otherwise stall
 * every other request. ECDSA P-256 and Ed25519 sign in ~20 µs, less than a thread-pool round trip
 * costs, so they sign inline and `sign` returns the signature itself (no promise). Throws
 * ConfigError when the file cannot be read, cannot be decrypted, or holds an unsupported key.
 */
export async function keyFileSigner(options: KeyFileSignerOptions): Promise<Signer> {
  const key = await readPrivateKeyFile({
    file: options.keyFile,
    passphrase: options.passphrase,
    field: options.field,
    passphraseField: options.passphraseField ?? options.field.replace(/\.key$/, ".passphrase"),
  });
  const certificateKey = new X509Certificate(options.certificate).publicKey.export({ type: "spki", format: "der" });
  if (!createPublicKey(key).export({ type: "spki", format: "der" }).equals(certificateKey)) {
    throw new ConfigError(options.field, `${options.keyFile}: the key does not belong to the signer certificate`);
  }
  return privateKeySigner(key, options);
}

/**
 * The signer of a private key already read (`keyFileSigner`; a certificate request for a new key).
 * Throws ConfigError naming `field` when the key type is not supported.
 */
export function privateKeySigner(key: KeyObject, options: Pick<KeyFileSignerOptions, "certificate" | "rsaPadding" | "field" | "keyFile">): Signer {
  const algorithms = algorithmsFor(key, options);
  const offload = key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss" || key.asymmetricKeyType?.startsWith("ml-dsa") === true || key.asymmetricKeyDetails?.namedCurve === "secp521r1";
  return {
    certificate: options.certificate,
    algorithms,
    sign: (tbs, chosen) => {
      const { recipe } = chosen as KnownSignatureAlgorithm;
      // A bare KeyObject skips node's option parsing (~12% of a P-256 request in a profile); ECDSA's
      // default encoding is already DER, so only PSS needs the options form.
      const keyInput = recipe.padding === undefined ? key : { key, padding: recipe.padding, saltLength: recipe.saltLength };
      if (!offload) {
        try {
          return sign(recipe.digest, tbs, keyInput);
        } catch (error) {
          throw new InternalError(`signing with ${chosen.name} failed`, { cause: error });
        }
      }
      return new Promise((resolve, reject) => {
        sign(recipe.digest, tbs, keyInput, (error, signature) => {
          if (error === null) resolve(signature);
          else reject(new InternalError(`signing with ${chosen.name} failed`, { cause: error }));
        });
      });
    },
  };
}

function algorithmsFor(key: KeyObject, options: Pick<KeyFileSignerOptions, "rsaPadding" | "field" | "keyFile">): readonly KnownSignatureAlgorithm[] {
  const pkcs1 = [SHA256_WITH_RSA, SHA384_WITH_RSA, SHA512_WITH_RSA];
  const pss = [RSASSA_PSS_SHA256, RSASSA_PSS_SHA384, RSASSA_PSS_SHA512];
  switch (key.asymmetricKeyType) {
    case "rsa":
      return options.rsaPadding === "pss" ? [...pss, ...pkcs1] : [...pkcs1, ...pss];
    case "rsa-pss":
      return pss;
    case "ed25519":
      return [ED25519];
    case "ml-dsa-44":
      return [ML_DSA_44];
    case "ml-dsa-65":
      return [ML_DSA_65];
    case "ml-dsa-87":
      return [ML_DSA_87];
    case "ec":
      switch (key.asymmetricKeyDetails?.namedCurve) {
        case "prime256v1":
          return [ECDSA_WITH_SHA256, ECDSA_WITH_SHA384, ECDSA_WITH_SHA512];
        case "secp384r1":
          return [ECDSA_WITH_SHA384, ECDSA_WITH_SHA512, ECDSA_WITH_SHA256];
        case "secp521r1":
          return [ECDSA_WITH_SHA512, ECDSA_WITH_SHA384, ECDSA_WITH_SHA256];
        default:
          throw new ConfigError(options.field, `${options.keyFile}: EC curve ${key.asymmetricKeyDetails?.namedCurve ?? "?"} is not supported (use P-256, P-384 or P-521)`);
      }
    default:
      throw new ConfigError(options.field, `${options.keyFile}: ${key.asymmetricKeyType ?? "unknown"} keys are not supported (use RSA, RSA-PSS, ECDSA, Ed25519 or ML-DSA)`);
  }
}

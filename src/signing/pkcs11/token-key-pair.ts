/**
 * A new key pair made on a PKCS#11 token (`vouch signer new --pkcs11`): the private key is created
 * on the token (sensitive, not extractable, CKA_SIGN) and never leaves it; the public key is read
 * back to go into the certificate request, which the token key signs (proof of possession).
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { ConfigError } from "../../errors.ts";
import type { SignerKeyAlgorithm } from "../new-signer-key.ts";
import type { KnownSignatureAlgorithm } from "../signature-algorithms.ts";
import { PinUnavailableError, readPin, type PinSource } from "./pin-source.ts";
import { loadPkcs11Module, pkcs11Binding, type Pkcs11Module } from "./pkcs11-module.ts";
import { closeQuietly, findSlot, TokenProblem } from "./token-connection.ts";
import { tokenKeyProfile, tokenMechanism } from "./token-mechanisms.ts";

export interface TokenKeyPairOptions {
  readonly module: string;
  readonly token: string;
  readonly slot?: number | undefined;
  readonly pin: PinSource;
  /** CKA_LABEL and CKA_ID of both new keys. */
  readonly label: string;
  readonly id: Buffer;
  readonly algorithm: SignerKeyAlgorithm;
}

export interface TokenKeyPair {
  readonly publicKey: KeyObject;
  /** The key's default signature algorithm (as a token signer would use it). */
  readonly algorithm: KnownSignatureAlgorithm;
  sign(tbs: Buffer, algorithm: KnownSignatureAlgorithm): Buffer;
  /** Logs out and closes the session. */
  close(): void;
}

/** Named curves as PKCS#11 wants them in CKA_EC_PARAMS: the DER OID. */
const EC_PARAMS: Readonly<Record<string, { readonly der: string; readonly jwk: string; readonly coordinate: number }>> = {
  "ecdsa-p256": { der: "06082a8648ce3d030107", jwk: "P-256", coordinate: 32 },
  "ecdsa-p384": { der: "06052b81040022", jwk: "P-384", coordinate: 48 },
  "ecdsa-p521": { der: "06052b81040023", jwk: "P-521", coordinate: 66 },
};

/**
 * Generates the pair on the token. Throws TokenProblem (naming `token`, `slot`, `pin…` or `key`) when
 * the token cannot be reached or refuses, ConfigError for an algorithm a token signer cannot use
 * (RSA and ECDSA only), or the library's error.
 */
export async function generateTokenKeyPair(options: TokenKeyPairOptions): Promise<TokenKeyPair> {
  const pkcs11 = pkcs11Binding();
  const rsa = /^rsa-(\d+)$/.exec(options.algorithm);
  const curve = EC_PARAMS[options.algorithm];
  if (rsa === null && curve === undefined) throw new ConfigError("--algorithm", `${options.algorithm} keys cannot sign on a PKCS#11 token here (use rsa-N or ecdsa-p256/p384/p521)`);
  const pin = await readPin(options.pin).catch((error: unknown) => {
    throw error instanceof PinUnavailableError ? new TokenProblem(`pin.${error.field}`, error.message, { cause: error }) : error;
  });
  const module: Pkcs11Module = loadPkcs11Module(options.module);
  const { api } = module;
  const session = api.C_OpenSession(findSlot(module, { token: options.token, slot: options.slot }), pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
  try {
    try {
      api.C_Login(session, pkcs11.CKU_USER, pin);
    } catch (error) {
      if (!(error instanceof pkcs11.Pkcs11Error && error.code === pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
        throw new TokenProblem("pin", `cannot log in to token "${options.token}" (${error instanceof Error ? error.message : String(error)})`, { cause: error });
      }
    }
    const common = [
      { type: pkcs11.CKA_TOKEN, value: true },
      { type: pkcs11.CKA_LABEL, value: options.label },
      { type: pkcs11.CKA_ID, value: options.id },
    ];
    const mechanism = { mechanism: rsa === null ? pkcs11.CKM_EC_KEY_PAIR_GEN : pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN };
    const publicTemplate =
      rsa === null
        ? [...common, { type: pkcs11.CKA_VERIFY, value: true }, { type: pkcs11.CKA_EC_PARAMS, value: Buffer.from(curve!.der, "hex") }]
        : [...common, { type: pkcs11.CKA_VERIFY, value: true }, { type: pkcs11.CKA_MODULUS_BITS, value: Number(rsa[1]) }, { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }];
    const privateTemplate = [...common, { type: pkcs11.CKA_PRIVATE, value: true }, { type: pkcs11.CKA_SENSITIVE, value: true }, { type: pkcs11.CKA_EXTRACTABLE, value: false }, { type: pkcs11.CKA_SIGN, value: true }];
    const keys = api.C_GenerateKeyPair(session, mechanism, publicTemplate, privateTemplate);
    const publicKey = rsa === null ? ecPublicKey(module, session, keys.publicKey, curve!) : rsaPublicKey(module, session, keys.publicKey);
    const profile = tokenKeyProfile(publicKey, "pkcs1", "--algorithm");
    return {
      publicKey,
      algorithm: profile.algorithms[0]!,
      sign(tbs, algorithm) {
        const { mechanism: signing, input, output } = tokenMechanism(algorithm, pkcs11);
        api.C_SignInit(session, signing, keys.privateKey);
        return output(api.C_Sign(session, input(tbs), Buffer.alloc(profile.signatureLength)));
      },
      close: () => closeQuietly(module, session),
    };
  } catch (error) {
    closeQuietly(module, session);
    throw error;
  }
}

function rsaPublicKey(module: Pkcs11Module, session: Buffer, handle: Buffer): KeyObject {
  const pkcs11 = pkcs11Binding();
  const [modulus, exponent] = module.api.C_GetAttributeValue(session, handle, [{ type: pkcs11.CKA_MODULUS }, { type: pkcs11.CKA_PUBLIC_EXPONENT }]);
  return createPublicKey({ key: { kty: "RSA", n: (modulus!.value as Buffer).toString("base64url"), e: (exponent!.value as Buffer).toString("base64url") }, format: "jwk" });
}

/**
 * CKA_EC_POINT is the DER OCTET STRING around the uncompressed point 04 || X || Y (PKCS#11 v2.40);
 * some tokens give the bare point. The point's length tells which.
 */
function ecPublicKey(module: Pkcs11Module, session: Buffer, handle: Buffer, curve: { readonly jwk: string; readonly coordinate: number }): KeyObject {
  const pkcs11 = pkcs11Binding();
  const [attribute] = module.api.C_GetAttributeValue(session, handle, [{ type: pkcs11.CKA_EC_POINT }]);
  const value = attribute!.value as Buffer;
  const size = 1 + 2 * curve.coordinate;
  const point = value.length === size ? value : value.subarray(value.length - size);
  const x = point.subarray(1, 1 + curve.coordinate);
  const y = point.subarray(1 + curve.coordinate);
  return createPublicKey({ key: { kty: "EC", crv: curve.jwk, x: x.toString("base64url"), y: y.toString("base64url") }, format: "jwk" });
}

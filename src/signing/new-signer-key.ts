/**
 * The next signer's key and certificate request (`vouch signer new`, automatic renewal): a key of
 * the current signer's algorithm unless told otherwise, written as PKCS#8 PEM (encrypted with the
 * signer's passphrase when it has one), and a PKCS#10 request for it (certification-request.ts).
 */
import { createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { ConfigError } from "../errors.ts";
import { certificationRequest } from "./certification-request.ts";
import { privateKeySigner } from "./key-file-signer.ts";

/** Key algorithms a new signer may have. */
export const SIGNER_KEY_ALGORITHMS = [
  "rsa-2048",
  "rsa-3072",
  "rsa-4096",
  "rsa-pss-2048",
  "rsa-pss-3072",
  "rsa-pss-4096",
  "ecdsa-p256",
  "ecdsa-p384",
  "ecdsa-p521",
  "ed25519",
  "ml-dsa-44",
  "ml-dsa-65",
  "ml-dsa-87",
] as const;
export type SignerKeyAlgorithm = (typeof SIGNER_KEY_ALGORITHMS)[number];

const CURVES: Readonly<Record<string, SignerKeyAlgorithm>> = { prime256v1: "ecdsa-p256", secp384r1: "ecdsa-p384", secp521r1: "ecdsa-p521" };

/** The algorithm of an existing key (a signer certificate's public key), or undefined when a new signer cannot have it. */
export function keyAlgorithmOf(key: KeyObject): SignerKeyAlgorithm | undefined {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  if (type === "rsa" || type === "rsa-pss") {
    const name = `${type}-${details?.modulusLength ?? 0}`;
    return (SIGNER_KEY_ALGORITHMS as readonly string[]).includes(name) ? (name as SignerKeyAlgorithm) : undefined;
  }
  if (type === "ec") return CURVES[details?.namedCurve ?? ""];
  if (type === "ed25519" || type === "ml-dsa-44" || type === "ml-dsa-65" || type === "ml-dsa-87") return type;
  return undefined;
}

/** A new private key; RSA keys are made on the thread pool (a 4096-bit one takes seconds). */
export async function generateSignerKey(algorithm: SignerKeyAlgorithm): Promise<KeyObject> {
  const generate = promisify(generateKeyPair) as (type: string, options: object) => Promise<{ privateKey: KeyObject }>;
  const rsa = /^rsa(-pss)?-(\d+)$/.exec(algorithm);
  if (rsa !== null) return (await generate(rsa[1] === undefined ? "rsa" : "rsa-pss", { modulusLength: Number(rsa[2]) })).privateKey;
  if (algorithm.startsWith("ecdsa-")) {
    const curve = Object.keys(CURVES).find((name) => CURVES[name] === algorithm)!;
    return (await generate("ec", { namedCurve: curve })).privateKey;
  }
  return (await generate(algorithm, {})).privateKey;
}

/** Writes `key` as PKCS#8 PEM to a new file (never over an existing one), owner-only, encrypted (AES-256-CBC) when `passphrase` is given. */
export async function writeKeyFile(key: KeyObject, file: string, passphrase: string | undefined): Promise<void> {
  const pem = passphrase === undefined ? key.export({ type: "pkcs8", format: "pem" }) : key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase });
  await writeFile(file, pem, { mode: 0o600, flag: "wx" });
}

/** A certificate request for `key` asking for `subjectDer`, signed with the key's default algorithm (RSA: PKCS#1 v1.5 unless `rsaPadding` says pss). */
export async function keyCertificationRequest(key: KeyObject, subjectDer: Buffer, rsaPadding: "pkcs1" | "pss" = "pkcs1"): Promise<Buffer> {
  const signer = privateKeySigner(key, { certificate: Buffer.alloc(0), rsaPadding, field: "key", keyFile: "the new key" });
  const algorithm = signer.algorithms[0];
  if (algorithm === undefined) throw new ConfigError("key", "the new key has no signature algorithm");
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  return certificationRequest({ subjectDer, subjectPublicKeyInfoDer: spki, algorithm, sign: (tbs, chosen) => signer.sign(tbs, chosen) });
}

import { createPrivateKey, type KeyObject } from "node:crypto";
import { ConfigError } from "../errors.ts";
import { readConfiguredFile } from "../certificate-file.ts";
import { PinUnavailableError, readPin, type PinSource } from "./pkcs11/pin-source.ts";

/** Where a key file's passphrase comes from: the first line of a file, or an environment variable (as the PKCS#11 PIN). */
export type PassphraseSource = PinSource;

export interface PrivateKeyFileOptions {
  readonly file: string;
  /** For encrypted keys; unused for a key that is not encrypted. */
  readonly passphrase?: PassphraseSource | undefined;
  /** Field path of the key setting (`...signer.key`), for errors. */
  readonly field: string;
  /** Field path of the passphrase setting (`...signer.passphrase`), for errors. */
  readonly passphraseField: string;
}

/**
 * Reads a private key: PEM (PKCS#8, PKCS#1 or SEC1) or DER PKCS#8, plain or encrypted with a
 * passphrase: PKCS#8 `ENCRYPTED PRIVATE KEY` (`openssl genpkey -aes256`, `openssl pkcs8 -topk8`) or
 * legacy PEM encryption (`Proc-Type: 4,ENCRYPTED`, `openssl ec -aes256`, `openssl rsa -des3`).
 * Throws ConfigError with one line naming the field at fault: the key file (not found, not a key),
 * or the passphrase (missing for an encrypted key, unreadable, or not the key's).
 */
export async function readPrivateKeyFile(options: PrivateKeyFileOptions): Promise<KeyObject> {
  const { file, field, passphraseField } = options;
  const bytes = await readConfiguredFile(file, field);
  const isPem = bytes.includes("-----BEGIN");
  const encrypted = isPem ? bytes.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----") || bytes.includes("Proc-Type: 4,ENCRYPTED") : isEncryptedPkcs8Der(bytes);
  if (!encrypted) {
    try {
      return isPem ? createPrivateKey(bytes) : createPrivateKey({ key: bytes, format: "der", type: "pkcs8" });
    } catch (error) {
      throw new ConfigError(field, `${file}: not a readable private key (${(error as Error).message})`, { cause: error });
    }
  }
  if (options.passphrase === undefined) {
    throw new ConfigError(passphraseField, `${file} is encrypted: set the passphrase (file or env) to read it`);
  }
  let passphrase: string;
  try {
    passphrase = await readPin(options.passphrase, "passphrase");
  } catch (error) {
    if (error instanceof PinUnavailableError) throw new ConfigError(`${passphraseField}.${error.field}`, error.message, { cause: error });
    throw error;
  }
  try {
    return isPem ? createPrivateKey({ key: bytes, passphrase }) : createPrivateKey({ key: bytes, format: "der", type: "pkcs8", passphrase });
  } catch (error) {
    // OpenSSL says "bad decrypt" for a wrong passphrase; anything else is reported as it came.
    const reason = /bad decrypt|BAD_DECRYPT/i.test(String((error as NodeJS.ErrnoException).code ?? "") + (error as Error).message) ? "the passphrase does not decrypt" : "cannot decrypt";
    throw new ConfigError(passphraseField, `${reason} ${file} (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Whether DER `bytes` are an EncryptedPrivateKeyInfo (RFC 5958 §3): its SEQUENCE starts with an
 * AlgorithmIdentifier SEQUENCE, where a PrivateKeyInfo starts with its version INTEGER.
 */
function isEncryptedPkcs8Der(bytes: Buffer): boolean {
  if (bytes.length < 4 || bytes[0] !== 0x30) return false;
  const lengthOctets = bytes[1]! < 0x80 ? 0 : bytes[1]! & 0x7f;
  return bytes[2 + lengthOctets] === 0x30;
}

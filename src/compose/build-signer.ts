import type { Clock } from "../clock.ts";
import type { SignerConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import { keyFileSigner } from "../signing/key-file-signer.ts";
import { pkcs11Signer } from "../signing/pkcs11-signer.ts";
import type { Signer } from "../signing/signer.ts";

/**
 * The signer an issuer's `signer` block describes: a key file (`key`) or a key on a PKCS#11 token
 * (`pkcs11`); the schema guarantees exactly one. A token signer has `close` (its sessions). `field` is the path of the `signer` block. Throws
 * ConfigError naming the setting at fault, or when the key does not belong to `certificate`.
 */
export async function buildSigner(config: SignerConfig, certificate: Buffer, field: string, clock: Clock, logger: Logger): Promise<Signer & { readonly close?: () => void }> {
  if (config.pkcs11 === undefined) {
    return keyFileSigner({ keyFile: config.key ?? "", certificate, rsaPadding: config.rsaPadding, field: `${field}.key` });
  }
  const pkcs11 = config.pkcs11;
  return pkcs11Signer({
    module: pkcs11.module,
    token: pkcs11.token,
    slot: pkcs11.slot,
    keyLabel: pkcs11.key,
    keyId: pkcs11.id === undefined ? undefined : Buffer.from(pkcs11.id, "hex"),
    pin: pkcs11.pin.file === undefined ? { env: pkcs11.pin.env ?? "" } : { file: pkcs11.pin.file },
    certificate,
    rsaPadding: config.rsaPadding,
    sessions: pkcs11.sessions,
    retryIntervalMs: pkcs11.retryInterval,
    clock,
    logger,
    field: `${field}.pkcs11`,
  });
}

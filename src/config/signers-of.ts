/**
 * An issuer's signers as one list. A file of its own, without zod: the serving code (build-issuer.ts)
 * needs it, and a worker that is handed a parsed configuration never loads the schemas (issue 18).
 */
import type { SignerConfig } from "./signer-schema.ts";

/** The issuer's signers as one list, each with the field path it was written at (`signer` or `signers[1]`). */
export function signersOf(issuer: { readonly signer?: SignerConfig | undefined; readonly signers?: readonly SignerConfig[] | undefined }): { readonly config: SignerConfig; readonly field: string }[] {
  if (issuer.signers !== undefined) return issuer.signers.map((config, index) => ({ config, field: `signers[${index}]` }));
  return issuer.signer === undefined ? [] : [{ config: issuer.signer, field: "signer" }];
}

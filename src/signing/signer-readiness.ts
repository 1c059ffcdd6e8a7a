import type { Signer } from "./signer.ts";

/** An issuer's signers for readiness, as they are at the moment of the check. */
export interface SignerReadiness {
  /** The signers valid now: each must make a test signature. */
  readonly signers: readonly Signer[];
  /** Why it is not ready (e.g. no signer valid now). */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

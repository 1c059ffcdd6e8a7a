import type { Signer } from "./signer.ts";
import type { SigningLimiter } from "./signing-limiter.ts";

/**
 * The load-shedding layer over a Signer (SPEC §7): every signature goes through `limiter`, which
 * one process shares among all its signers. `sign` rejects with TryLaterError at once when the
 * limiter's queue is full (the pipeline answers `tryLater`), else as the wrapped signer does.
 */
export function boundedSigner(signer: Signer, limiter: SigningLimiter): Signer {
  // Spread: whatever else a signer offers (a token's health check, close) passes through unchanged.
  return { ...signer, sign: (tbs, algorithm) => limiter.run(() => signer.sign(tbs, algorithm)) };
}

/**
 * Which of an issuer's signers signs a response (SPEC step 8, issue 15): only a signer whose
 * certificate is valid now ever signs; among those, one whose `activateAt` has come before one still
 * in its overlap, then the newest (latest notBefore). A client without preferences gets the first
 * classical signer of that order (post-quantum ones only when no classical one is valid: few
 * clients verify ML-DSA yet); a client's preferred-signature-algorithms (RFC 6960 §4.4.7) pick the
 * first signer, in that order, that can sign the first algorithm it names that any can.
 * Pure functions: signer-rotation.ts keeps a selection until its `until`.
 */
import type { AlgorithmIdentifier } from "../ocsp/types.ts";
import type { SignerChoice, SignerIdentity } from "./responder-identity.ts";
import { matchingAlgorithm } from "./signature-algorithms.ts";

/** The signers usable over one stretch of time, in order of preference. */
export interface SignerSelection {
  /** Valid throughout [from, until): activated first, then newest first. */
  readonly usable: readonly SignerIdentity[];
  /** What a client without preferences gets; `undefined` when no signer is valid. */
  readonly defaultChoice: SignerChoice | undefined;
  /** The selection holds for `from <= now < until` (the signers' notBefore, activateAt and notAfter bound it). */
  readonly from: number;
  readonly until: number;
}

/** The selection among `all` at `now`. */
export function selectSigners(all: readonly SignerIdentity[], now: number): SignerSelection {
  const activated = (identity: SignerIdentity) => (identity.activateAt <= now ? 1 : 0);
  const usable = all
    .filter((identity) => identity.notBefore <= now && now <= identity.notAfter)
    .sort((a, b) => activated(b) - activated(a) || b.notBefore - a.notBefore || b.notAfter - a.notAfter);
  let from = -Infinity;
  let until = Infinity;
  for (const identity of all) {
    for (const edge of [identity.notBefore, identity.activateAt, identity.notAfter + 1]) {
      if (edge > now) until = Math.min(until, edge);
      else from = Math.max(from, edge);
    }
  }
  const first = usable.find((identity) => !identity.postQuantum) ?? usable[0];
  const algorithm = first?.signer.algorithms[0];
  const defaultChoice = first === undefined || algorithm === undefined ? undefined : { identity: first, algorithm, preferred: false };
  return { usable, defaultChoice, from, until };
}

/** The signer and algorithm for a client preferring `preferred` (possibly empty), from `selection`. */
export function chooseSigner(selection: SignerSelection, preferred: readonly AlgorithmIdentifier[]): SignerChoice | undefined {
  const fallback = selection.defaultChoice;
  if (preferred.length === 0 || fallback === undefined) return fallback;
  for (const wanted of preferred) {
    for (const identity of selection.usable) {
      const algorithm = matchingAlgorithm(identity.signer.algorithms, wanted);
      if (algorithm === undefined) continue;
      if (identity === fallback.identity && algorithm === fallback.algorithm) return fallback;
      return { identity, algorithm, preferred: identity !== fallback.identity };
    }
  }
  return fallback;
}

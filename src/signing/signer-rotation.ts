import type { Clock } from "../clock.ts";
import type { AlgorithmIdentifier } from "../ocsp/types.ts";
import type { ResponderIdentity, SignerChoice, SignerIdentity } from "./responder-identity.ts";
import { chooseSigner, selectSigners, type SignerSelection } from "./signer-selection.ts";

/** An issuer's signers over time: staged, current and retired ones, any of which may be replaced. */
export interface SignerRotation extends ResponderIdentity {
  /** Every signer known now, in no particular order. */
  readonly all: readonly SignerIdentity[];
  /** Installs a new set of signers (a file changed, a renewal); the next response chooses among them. */
  replace(identities: readonly SignerIdentity[]): void;
  /** The selection in force at `now` (made anew when `now` is outside the kept one). */
  selectionAt(now: number): SignerSelection;
}

export interface SignerRotationOptions {
  readonly clock: Clock;
  /**
   * Called, synchronously, when a new selection differs from the last one in its default signer or
   * its usable signers: at a rollover, an expiry, or a replaced set (for logs). Rare, but it may run
   * on the request path: keep it cheap and never throw.
   */
  readonly onChange?: (previous: SignerSelection | undefined, next: SignerSelection) => void;
}

/**
 * The ResponderIdentity of an issuer whose signers change while it serves: each response takes the
 * selection in force (signer-selection.ts); between the selection's edges that is one comparison.
 */
export function signerRotation(initial: readonly SignerIdentity[], options: SignerRotationOptions): SignerRotation {
  const { clock, onChange } = options;
  let all = initial;
  let selection: SignerSelection | undefined;
  // The last selection reported to onChange (the first one is reported against `undefined`).
  let reported: SignerSelection | undefined;

  const selectionAt = (now: number): SignerSelection => {
    if (selection !== undefined && now >= selection.from && now < selection.until) return selection;
    selection = selectSigners(all, now);
    if (reported === undefined || changed(reported, selection)) {
      const previous = reported;
      reported = selection;
      onChange?.(previous, selection);
    }
    return selection;
  };
  const current = (): SignerIdentity => selectionAt(clock.now()).defaultChoice?.identity ?? newest(all);
  selectionAt(clock.now());

  return {
    get all() {
      return all;
    },
    get signer() {
      return current().signer;
    },
    get responderIdDer() {
      return current().responderIdDer;
    },
    get certsDer() {
      return current().certsDer;
    },
    choose(preferred: readonly AlgorithmIdentifier[], now: number): SignerChoice | undefined {
      return chooseSigner(selectionAt(now), preferred);
    },
    replace(identities) {
      all = identities;
      selection = undefined;
      selectionAt(clock.now());
    },
    selectionAt,
  };
}

/** The signer with the latest notBefore: what the identity shows when none is valid (a retired or staged one). */
function newest(all: readonly SignerIdentity[]): SignerIdentity {
  return all.reduce((latest, identity) => (identity.notBefore > latest.notBefore ? identity : latest));
}

function changed(previous: SignerSelection, next: SignerSelection): boolean {
  if (previous.defaultChoice?.identity !== next.defaultChoice?.identity) return true;
  return previous.usable.length !== next.usable.length || previous.usable.some((identity, index) => next.usable[index] !== identity);
}

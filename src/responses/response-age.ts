/**
 * How two responses about one certificate are ordered, for the rule "newer never loses to older":
 * no cache tier replaces a response with an older one, and of two proofs the newer speaks.
 */

/** The times that date a response: its single response's thisUpdate, then the response's producedAt. */
export interface ResponseAge {
  readonly thisUpdate: Date;
  readonly producedAt: Date;
}

/**
 * Negative when `a` is older than `b`, positive when newer, 0 when they are as old: thisUpdate
 * decides, producedAt breaks a tie (a response re-signed from the same data is the newer one).
 */
export function compareAge(a: ResponseAge, b: ResponseAge): number {
  return a.thisUpdate.getTime() - b.thisUpdate.getTime() || a.producedAt.getTime() - b.producedAt.getTime();
}

/**
 * The workers of one instance (`vouch serve --workers N`) each load their own revocation data and
 * see a change a few milliseconds apart: the first to answer with it would say revoked while its
 * sibling, a moment behind, still said good to the same client (issue 14: "not one good answer for
 * a revoked certificate after the first revoked answer from the same instance"). So before a
 * worker's source answers with changed data it tells its siblings, through the supervisor, which
 * serials changed, and waits until each said it holds its answers for them until its own sources
 * have looked again (src/status/recheck.ts, through the issuer's `lookNow`). The Redis change
 * channel does the same between instances, after the fact (apply-changes.ts).
 */
import { issuerHashes } from "../ocsp/cert-id.ts";
import type { Logger } from "../observability/logger.ts";
import type { ServedIssuer } from "../issuers/issuer-directory.ts";
import type { StatusChanges } from "../status/change-events.ts";

/** The supervisor's ask-channel kind of a hold (payload: a HoldRequest; answer: how many issuers hold). */
export const HOLD_ASK = "vouch.hold-changed";

/** Which answers a sibling holds: the issuer by its SHA-256 CertID hashes (hex), and its serials (hex of the minimal content octets) or all of them. */
export interface HoldRequest {
  readonly nameHash: string;
  readonly keyHash: string;
  readonly serials: readonly string[] | null;
}

/** How many siblings were asked, and how many said they hold in time. */
export interface HoldReport {
  readonly asked: number;
  readonly holding: number;
}

/** The other workers of this instance (serve-worker.ts, through the supervisor). */
export interface Siblings {
  /** Asks every other worker to hold; resolves once each answered or the time ran out. Never rejects. */
  hold(request: HoldRequest): Promise<HoldReport>;
}

/** Past this many serials a hold is for all of the issuer's answers (the message stays small). */
const MAX_HELD_SERIALS = 10_000;

/** What a sibling is asked to hold for `changes`. */
export function holdRequest(changes: StatusChanges): HoldRequest {
  const { nameHash, keyHash } = changes.issuer.hashes.get("sha256")!;
  const serials = changes.kind === "serials" && changes.serials.size <= MAX_HELD_SERIALS ? [...changes.serials].map((change) => change.serial.toString("hex")) : null;
  return { nameHash: nameHash.toString("hex"), keyHash: keyHash.toString("hex"), serials };
}

/**
 * Makes every issuer's sources wait, before answering with a change, until the siblings hold their
 * answers for it; returns what stops that.
 */
export function gateOnSiblings(issuers: readonly ServedIssuer[], siblings: Siblings, logger: Logger): () => void {
  const stops = issuers.map(
    (issuer) =>
      issuer.data.changes.beforeAnswering?.(async (changes) => {
        const report = await siblings.hold(holdRequest(changes));
        if (report.holding < report.asked) {
          logger.warn({ issuer: issuer.name, asked: report.asked, holding: report.holding }, "not every sibling worker said it holds its answers for a change; answering with it anyway");
        }
      }) ?? (() => {}),
  );
  return () => {
    for (const stop of stops) stop();
  };
}

/**
 * A sibling's request: every issuer of `issuers` that `request` names holds its answers for those
 * serials until its sources have looked again. Returns how many issuers hold (0: none served here).
 */
export function holdForSibling(issuers: readonly ServedIssuer[], request: HoldRequest): number {
  let holding = 0;
  for (const issuer of issuers) {
    const sha256 = issuerHashes(issuer.certificate).get("sha256")!;
    if (sha256.nameHash.toString("hex") !== request.nameHash || sha256.keyHash.toString("hex") !== request.keyHash) continue;
    // lookNow holds synchronously (build-issuer.ts); the look itself goes on after this answers.
    void issuer.data.lookNow(request.serials === null ? "everything" : request.serials.map((serial) => Buffer.from(serial, "hex")));
    holding++;
  }
  return holding;
}

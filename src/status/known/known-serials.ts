/**
 * Authoritative answers for a CA that publishes only CRLs (issue 16 item 4): a CRL lists revocations
 * only, so on its own it calls any other serial good, even one the CA never issued. Paired with a
 * source that lists what the CA issued (a folder of its certificates, or the SQL store's issued
 * rows), a serial that the CRL does not list and the CA never issued is "not-issued", which the
 * responder answers by its non-issued policy (unknown, or revoked with extended-revoke).
 * The CRL keeps the last word on revocation: a serial it lists is revoked whatever the other says.
 */
import { isPromise, type Awaitable } from "../../awaitable.ts";
import type { CertId } from "../../ocsp/types.ts";
import type { StatusChangeFeed } from "../change-events.ts";
import type { OpenedSource, StatusAnswer } from "../status-source.ts";

/**
 * `crl`'s answers, with "good" turned "not-issued" (same dates) where `known` says not-issued. While
 * `known` has no data (or does not serve the issuer) the CRL's answer stands. Freshness, fetches and
 * serials are the CRL's; change events are both sources'; closing closes both.
 */
export function withKnownSerials(crl: OpenedSource, known: OpenedSource): OpenedSource {
  const refine = (answer: StatusAnswer | undefined, id: CertId, signal: AbortSignal): Awaitable<StatusAnswer | undefined> => {
    if (answer?.kind !== "good") return answer;
    const issued = known.status(id, signal);
    const decide = (listed: StatusAnswer | undefined): StatusAnswer =>
      listed?.kind === "not-issued" ? { kind: "not-issued", thisUpdate: answer.thisUpdate, nextUpdate: answer.nextUpdate } : answer;
    return isPromise(issued) ? issued.then(decide) : decide(issued);
  };
  const changes: StatusChangeFeed | undefined =
    crl.changes === undefined && known.changes === undefined
      ? undefined
      : {
          subscribe(listener) {
            const stops = [crl.changes?.subscribe(listener), known.changes?.subscribe(listener)];
            return () => {
              for (const stop of stops) stop?.();
            };
          },
        };
  return {
    status(id: CertId, signal: AbortSignal): Awaitable<StatusAnswer | undefined> {
      const answer = crl.status(id, signal);
      return isPromise(answer) ? answer.then((settled) => refine(settled, id, signal)) : refine(answer, id, signal);
    },
    ...(crl.freshness === undefined ? {} : { freshness: () => crl.freshness!() }),
    ...(crl.fetches === undefined ? {} : { fetches: () => crl.fetches!() }),
    ...(changes === undefined ? {} : { changes }),
    async close() {
      await Promise.all([crl.close(), known.close()]);
    },
  };
}

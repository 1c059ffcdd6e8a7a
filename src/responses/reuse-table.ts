/**
 * Signed answers kept for a short while to be handed out again (issue 14 item 4, SPEC §5): a client
 * that asks the same thing twice without a nonce gets the same bytes, so a GET with If-None-Match
 * gets its 304, and GET-heavy traffic (Java and NSS ask by GET, without a nonce) costs a signature
 * per CertID per `reuseFor` instead of one per request. Every responder type has one; the response
 * cache of the cached types keeps responses far longer, this only for `reuseFor`.
 *
 * An answer is reused only while it still says what the sources say now (the caller passes the
 * fresh answer), never past its nextUpdate, and change events drop it at once (apply-changes.ts).
 * Small and bounded: at most `maxEntries`, the oldest going first.
 */
import type { CertId, SingleResponse } from "../ocsp/types.ts";
import type { StatusChanges } from "../status/change-events.ts";
import type { ChangeTarget } from "./apply-changes.ts";
import { cacheKey } from "./cache-key.ts";
import { isOfIssuer, serialKey, type IssuerOfChange } from "./changed-cert-ids.ts";

/** `R`: the signed response as the pipeline holds it (its body, producedAt and cache window). */
export interface ReusedAnswer<R> {
  readonly response: R;
  /** The answer the response carries (as signed: its nextUpdate capped at the signer's notAfter). */
  readonly answer: SingleResponse;
  /** The signer that signed it: after a rollover the new signer's answer is wanted, not a reused one. */
  readonly signer: object;
}

export interface ReuseTable<R> extends ChangeTarget {
  /**
   * The answer held for `id` at `now` when it says what `current` says and `signer` signed it, else
   * `undefined` (and the one held is dropped).
   */
  find(id: CertId, current: SingleResponse, signer: object | undefined, now: number): ReusedAnswer<R> | undefined;
  /** Holds `response` for `id`, signed at `now`, until `now + reuseFor` or its nextUpdate, whichever is first. */
  keep(id: CertId, reused: ReusedAnswer<R>, now: number): void;
  readonly size: number;
  /** Drops the entries of `issuer` (for `serials`, or all of them); returns how many. */
  drop(issuer: IssuerOfChange, serials: readonly Buffer[] | "everything"): number;
  /** Drops every entry. */
  dropAll(): void;
}

interface Entry<R> extends ReusedAnswer<R> {
  readonly id: CertId;
  readonly until: number;
}

/** Default of `maxEntries`: ~10,000 responses of ~1-2 kB, some 20 MB at most. */
const DEFAULT_REUSE_ENTRIES = 10_000;

export function reuseTable<R>(options: { readonly reuseForMs: number; readonly maxEntries?: number }): ReuseTable<R> {
  const { reuseForMs } = options;
  const maxEntries = options.maxEntries ?? DEFAULT_REUSE_ENTRIES;
  // A Map iterates in insertion order: its first key is the oldest entry.
  const entries = new Map<string, Entry<R>>();
  const drop = (issuer: IssuerOfChange, serials: readonly Buffer[] | "everything"): number => {
    if (entries.size === 0) return 0;
    const keys = serials === "everything" ? undefined : new Set(serials.map(serialKey));
    let dropped = 0;
    for (const [key, entry] of entries) {
      if ((keys === undefined || keys.has(serialKey(entry.id.serialNumber))) && isOfIssuer(entry.id, issuer)) {
        entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  };
  return {
    get size() {
      return entries.size;
    },
    find(id, current, signer, now) {
      const key = cacheKey(id);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.until <= now || entry.signer !== signer || !sameAnswer(entry.answer, current)) {
        entries.delete(key);
        return undefined;
      }
      return entry;
    },
    keep(id, reused, now) {
      const nextUpdate = reused.answer.nextUpdate?.getTime();
      const until = Math.min(now + reuseForMs, nextUpdate ?? -Infinity);
      if (until <= now) return;
      const key = cacheKey(id);
      entries.delete(key);
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { ...reused, id, until });
    },
    dropAll() {
      entries.clear();
    },
    drop,
    applyChange(changes: StatusChanges) {
      drop(changes.issuer, changes.kind === "everything" ? "everything" : [...changes.serials].map((change) => change.serial));
    },
  };
}

/** Whether two answers tell a client the same: status, revocation time and reason, invalidity date. */
function sameAnswer(held: SingleResponse, current: SingleResponse): boolean {
  const a = held.status;
  const b = current.status;
  if (a.kind !== b.kind) return false;
  if (a.kind === "revoked" && b.kind === "revoked" && (a.revokedAt.getTime() !== b.revokedAt.getTime() || a.reason !== b.reason)) return false;
  return held.invalidityDate?.getTime() === current.invalidityDate?.getTime();
}

import type { CrlFetchReport } from "../observability/crl-fetch-metrics.ts";
import type { Awaitable } from "../awaitable.ts";
import type { StatusChangeFeed } from "./change-events.ts";
import type { CertId, CrlReason } from "../ocsp/types.ts";

/**
 * What a revocation source knows about one certificate (SPEC §2 step 7).
 * `thisUpdate`/`nextUpdate` describe the data the answer came from: a CRL's own fields; for a
 * mirror of a database, when it was last confirmed current and how long that may vouch for it.
 * An answer never promises more freshness than its data has (guard-stale.ts enforces the nextUpdate).
 */
export type StatusAnswer =
  | { readonly kind: "good"; readonly thisUpdate: Date; readonly nextUpdate?: Date | undefined }
  | {
      readonly kind: "revoked";
      readonly thisUpdate: Date;
      readonly nextUpdate?: Date | undefined;
      readonly revokedAt: Date;
      readonly reason?: CrlReason | undefined;
      readonly invalidityDate?: Date | undefined;
    }
  /** The source serves the issuer but cannot say (e.g. a CRL source never says this). */
  | { readonly kind: "unknown"; readonly thisUpdate: Date; readonly nextUpdate?: Date | undefined }
  /**
   * The source lists every certificate the issuer issued, and this serial is not one of them
   * (SPEC §4 non-issued policy decides what the client is told).
   */
  | { readonly kind: "not-issued"; readonly thisUpdate: Date; readonly nextUpdate?: Date | undefined };

/** How current a source's data is (StatusSource.freshness). */
export interface SourceFreshness {
  /** When the data in use was loaded, or last confirmed current (ms since the epoch). */
  readonly loadedAt: number;
  /** When the data stops vouching for good answers (ms), when it has such a limit. */
  readonly nextUpdate?: number | undefined;
  /** Why the data cannot be brought up to date now (e.g. the database is unreachable), while that lasts. */
  readonly problem?: string | undefined;
}

/**
 * A revocation source's answers (Boulder's `Source`, per CertID): the one thing the layers
 * (`firstAnswer`, `guardStale`, `meteredSource`) wrap, each doing one thing. What a source's data
 * offers besides (freshness, the serials it lists, closing) is not on this path but on the opened
 * source (`OpenedSource`), combined per issuer by `sourceData`, so no layer can drop it.
 */
export interface StatusSource {
  /**
   * Status of one certificate; `undefined` when this source does not serve the CertID's issuer
   * (or has no usable data for it yet). Throws, or rejects with, an OcspError (e.g. TryLaterError)
   * when it serves the issuer but cannot answer now. Sources that answer from memory return the
   * answer itself; a promise is for sources that must wait (layers pass either on as they got it).
   */
  status(id: CertId, signal: AbortSignal): Awaitable<StatusAnswer | undefined>;
}

/** A source as opened: its answers, and what its data offers beside them. */
export interface OpenedSource extends StatusSource {
  /**
   * How current the data is, for readiness and the data-age metric: when the data in use was
   * loaded (ms since the epoch) and, when the data has one, its nextUpdate (ms). `undefined` when
   * the source has no data (or is closed). Sources that read live data on every lookup leave the
   * method out: they are always current.
   */
  freshness?(): SourceFreshness | undefined;
  /**
   * Every serial the source knows for its issuer (each serial INTEGER's minimal content octets), for
   * response pre-production (SPEC §6). Present only on sources that list certificates (index, sql, memory).
   */
  serials?(): Iterable<Buffer>;
  /** How each URL's fetches went (crl sources with urls: metrics); absent for sources that fetch nothing. */
  fetches?(): readonly CrlFetchReport[];
  /** Which serials changed at each refresh (change-events.ts); absent for data that never changes. */
  readonly changes?: StatusChangeFeed;
  /**
   * Looks for changes now instead of at the next watch event or poll: another instance said the
   * data changed (issue 14 item 2). Resolves once a refresh that began after the call has ended
   * (never rejects: a failed refresh keeps the last data). Absent for data that never changes.
   */
  lookNow?(): Promise<void>;
  /** Stops file watchers and timers; the source answers nothing afterwards. */
  close(): Promise<void>;
}

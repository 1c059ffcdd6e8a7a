/**
 * A StatusSource over fixed, in-memory data: for tests, for embedding, and as the reference for
 * what every source must do (match the issuer by CertID hashes, find the serial by its key).
 */
import type { Clock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import type { CertId, CrlReason } from "../ocsp/types.ts";
import { CRL_REASON_CODES } from "../ocsp/types.ts";
import { issuerMatch } from "./issuer-match.ts";
import type { SerialKey } from "./serial-key.ts";
import { serialKeyFromHex, serialKeyFromInteger, serialOctetsFromHex } from "./serial-key.ts";
import { requireClock, requireDer } from "./source-options.ts";
import type { OpenedSource, StatusAnswer } from "./status-source.ts";

/** What the data says about one serial: a StatusAnswer without its update times. */
export type MemoryEntry =
  | { readonly kind: "good" }
  | { readonly kind: "unknown" }
  | { readonly kind: "revoked"; readonly revokedAt: Date; readonly reason?: CrlReason | undefined; readonly invalidityDate?: Date | undefined };

export interface MemorySourceOptions {
  /** DER of the issuer certificate the data is about. */
  readonly issuer: Buffer;
  /** Entries by hex serial, any case and padding ("00AB", "ab" and "0AB" are one serial). */
  readonly entries: ReadonlyMap<string, MemoryEntry>;
  /** True when `entries` lists every issued serial: an absent one is "not-issued" (otherwise good). */
  readonly listsIssued: boolean;
  readonly clock: Clock;
  /** thisUpdate of every answer (default: the clock's now at each lookup, as for live data). */
  readonly thisUpdate?: Date;
  /** nextUpdate of every answer (default none). */
  readonly nextUpdate?: Date;
}

/**
 * A source answering from `options.entries`; `undefined` for CertIDs of other issuers and after
 * `close`. Throws ConfigError when `issuer` is not a certificate, an entry key is not hex (field
 * `entries.<key>`), two keys name the same serial, an entry is not a MemoryEntry, or clock/dates
 * are missing or invalid.
 */
export function memorySource(options: MemorySourceOptions): OpenedSource {
  const match = issuerMatch(requireDer(options.issuer, "issuer"));
  const clock = requireClock(options.clock);
  if (typeof options.listsIssued !== "boolean") throw new ConfigError("listsIssued", "must be true or false");
  if (!(options.entries instanceof Map)) throw new ConfigError("entries", "must be a Map from hex serial to entry");
  for (const [field, date] of [["thisUpdate", options.thisUpdate], ["nextUpdate", options.nextUpdate]] as const) {
    if (date !== undefined && !validDate(date)) throw new ConfigError(field, "must be a valid Date");
  }
  const entries = new Map<SerialKey, MemoryEntry>();
  for (const [hex, entry] of options.entries) {
    const field = `entries.${hex}`;
    const key = serialKeyFromHex(hex);
    if (key === undefined) throw new ConfigError(field, "serial must be hex");
    if (entries.has(key)) throw new ConfigError(field, `serial ${key} is listed twice`);
    checkEntry(entry, field);
    entries.set(key, entry);
  }
  const { listsIssued, thisUpdate: fixedThisUpdate, nextUpdate } = options;
  let closed = false;

  return {
    status(id: CertId): StatusAnswer | undefined {
      if (closed || !match.matches(id)) return undefined;
      const thisUpdate = fixedThisUpdate ?? new Date(clock.now());
      const entry = entries.get(serialKeyFromInteger(id.serialNumber));
      if (entry === undefined) return { kind: listsIssued ? "not-issued" : "good", thisUpdate, nextUpdate };
      if (entry.kind === "revoked") {
        return { kind: "revoked", thisUpdate, nextUpdate, revokedAt: entry.revokedAt, reason: entry.reason, invalidityDate: entry.invalidityDate };
      }
      return { kind: entry.kind, thisUpdate, nextUpdate };
    },
    async close(): Promise<void> {
      closed = true;
    },
    serials: () => (closed ? [] : [...entries.keys()].map((key) => serialOctetsFromHex(key)!)),
  };
}

function validDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function checkEntry(entry: MemoryEntry, field: string): void {
  switch (entry.kind) {
    case "good":
    case "unknown":
      return;
    case "revoked":
      if (!validDate(entry.revokedAt)) throw new ConfigError(`${field}.revokedAt`, "must be a valid Date");
      if (entry.reason !== undefined && !(entry.reason in CRL_REASON_CODES)) throw new ConfigError(`${field}.reason`, "must be a CRLReason");
      if (entry.invalidityDate !== undefined && !validDate(entry.invalidityDate)) {
        throw new ConfigError(`${field}.invalidityDate`, "must be a valid Date");
      }
      return;
    default:
      throw new ConfigError(`${field}.kind`, "must be good, unknown or revoked");
  }
}

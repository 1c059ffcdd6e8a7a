/**
 * The in-memory copy of one issuer's rows that the sql source answers from: a compact SerialTable
 * loaded from the whole table (serial-table.ts, ~50 bytes per row, no per-row objects), plus a
 * small Map of the rows changed since, which wins over the table. When the Map grows past
 * MAX_OVERLAY the source loads a fresh table instead.
 */
import type { SerialRecord, SerialTable } from "../table/serial-table.ts";
import { serialKeyFromInteger, serialOctetsFromHex } from "../serial-key.ts";
import { crlReasonFromCode } from "../../ocsp/types.ts";
import type { TableLoader } from "./load-table-in-worker.ts";
import type { CertificateRow } from "./status-store.ts";

/** Changes kept beside the table before a reload is cheaper than the Map (~150 bytes per entry). */
export const MAX_OVERLAY = 50_000;

/** One issuer's statuses as of change number `seq`. */
export interface StatusMirror {
  /** The record for a CertID's serial octets (padding allowed), `undefined` when not listed. */
  lookup(serial: Buffer): SerialRecord | undefined;
  /** Applies rows read from the store after the mirror was loaded. */
  apply(rows: readonly CertificateRow[]): void;
  /** Every serial listed (INTEGER content octets), each once; for pre-production (SPEC §6). */
  serials(): Iterable<Buffer>;
  /** Rows kept in the overlay. */
  readonly overlaySize: number;
  /** Rows in the loaded table. */
  readonly baseSize: number;
}

/** The record a stored row stands for. */
function record(row: CertificateRow): SerialRecord {
  return {
    revokedAt: row.revokedAt,
    reason: row.reason === undefined ? undefined : crlReasonFromCode(row.reason),
    invalidityDate: row.invalidityDate,
  };
}

/**
 * Loads every row of issuer `issuerId` with `loader`'s threads (load-table-in-worker.ts), and
 * resolves with the mirror and the change number it is complete as of: rows changed after that
 * number may or may not be in it, so the caller catches up from there. Rejects with the engine's error.
 */
export async function loadMirror(loader: TableLoader, issuerId: number): Promise<{ mirror: StatusMirror; seq: number }> {
  const { table, seq } = await loader.load(issuerId);
  return { mirror: mirrorOf(table), seq };
}

function mirrorOf(base: SerialTable): StatusMirror {
  const overlay = new Map<string, SerialRecord>();
  return {
    lookup(serial) {
      if (overlay.size > 0) {
        const changed = overlay.get(serialKeyFromInteger(serial));
        if (changed !== undefined) return changed;
      }
      return base.lookup(serial);
    },
    apply(rows) {
      for (const row of rows) overlay.set(serialKeyFromInteger(Buffer.from(row.serial.buffer, row.serial.byteOffset, row.serial.byteLength)), record(row));
    },
    *serials() {
      for (const serial of base.serials()) if (overlay.size === 0 || !overlay.has(serialKeyFromInteger(serial))) yield serial;
      for (const key of overlay.keys()) {
        const octets = serialOctetsFromHex(key);
        if (octets !== undefined) yield octets;
      }
    },
    get overlaySize() {
      return overlay.size;
    },
    baseSize: base.size,
  };
}

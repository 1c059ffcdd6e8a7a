/**
 * Answers held back until the sources have looked again (issue 14 item 2: "each instance re-checks
 * its own source before answering for that CertID again"). When another worker or instance reports
 * a change, this worker's sources may not have seen it yet (its own file watch or notification is a
 * few milliseconds behind); a client asking now about a changed serial would hear the old answer
 * from this worker after hearing the new one from another. So the serials reported are held: a
 * status() for one of them waits for the sources' fresh look, then asks them. Nothing else waits,
 * and with nothing held a status() costs one size check.
 */
import type { CertId } from "../ocsp/types.ts";
import { serialKeyFromInteger } from "./serial-key.ts";
import type { StatusSource } from "./status-source.ts";

export interface RecheckingSource extends StatusSource {
  /** Holds answers for `serials` (minimal content octets), or all of them, until `until` settles. */
  hold(serials: readonly Buffer[] | "everything", until: Promise<void>): void;
}

export function recheckingSource(inner: StatusSource): RecheckingSource {
  const held = new Map<string, Promise<void>>();
  let all: Promise<void> | undefined;
  return {
    status(id: CertId, signal: AbortSignal) {
      if (all === undefined && held.size === 0) return inner.status(id, signal);
      const waiting = all ?? held.get(serialKeyFromInteger(id.serialNumber));
      return waiting === undefined ? inner.status(id, signal) : waiting.then(() => inner.status(id, signal));
    },
    hold(serials, until) {
      const settled = until.catch(() => undefined);
      if (serials === "everything") {
        all = settled;
        void settled.then(() => {
          if (all === settled) all = undefined;
        });
        return;
      }
      const keys = serials.map((serial) => serialKeyFromInteger(serial));
      for (const key of keys) held.set(key, settled);
      void settled.then(() => {
        for (const key of keys) if (held.get(key) === settled) held.delete(key);
      });
    },
  };
}

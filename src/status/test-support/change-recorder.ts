/**
 * Records what a source publishes on its change feed, for tests that make a change with a real tool
 * and check the batch it caused, and that nothing else came.
 */
import type { StatusChangeFeed, StatusChanges } from "../change-events.ts";
import { waitUntil } from "./wait-until.ts";

export interface ChangeRecorder {
  readonly batches: readonly StatusChanges[];
  /** Batches `next` has handed out. */
  readonly taken: number;
  /** The next batch not taken yet (waits up to ~15 s for it). */
  next(what: string): Promise<StatusChanges>;
  stop(): void;
}

export function recordChanges(feed: StatusChangeFeed): ChangeRecorder {
  const batches: StatusChanges[] = [];
  let taken = 0;
  const stop = feed.subscribe((changes) => batches.push(changes));
  return {
    batches,
    get taken() {
      return taken;
    },
    async next(what) {
      const batch = await waitUntil(what, () => batches[taken], 600);
      taken++;
      return batch;
    },
    stop,
  };
}

/** A batch's serials as "hex:kind", sorted ("everything" when it lists none). */
export function listed(changes: StatusChanges): string[] {
  if (changes.kind === "everything") return ["everything"];
  return [...changes.serials].map(({ serial, kind }) => `${serial.toString("hex")}:${kind}`).sort();
}

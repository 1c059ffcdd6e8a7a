/**
 * Where a responder meets the change events of its issuers' sources (status/change-events.ts,
 * issue 14): each batch is applied to whatever keeps answers for later (the response cache's tiers
 * and schedules, the table of reused signed answers), then measured (`vouch_revocation_applied_seconds`:
 * from the change becoming known to its source, a file's mtime or a store row's change time, until
 * every target holds it) and logged, one line per batch.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/logger.ts";
import type { LazyHistogram } from "../observability/lazy-histogram.ts";
import type { StatusChangeFeed, StatusChanges } from "../status/change-events.ts";

/** Something that keeps answers and must drop what a change made wrong. */
export interface ChangeTarget {
  /** Never rejects. */
  applyChange(changes: StatusChanges): void | Promise<void>;
}

export interface ApplyChangesOptions {
  readonly responder: string;
  readonly issuers: readonly { readonly name: string; readonly data: { readonly changes: StatusChangeFeed } }[];
  readonly targets: readonly ChangeTarget[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly applied?: LazyHistogram<"responder" | "source"> | undefined;
}

/** Subscribes to every issuer's changes; returns what unsubscribes. Batches are applied one after the other, in order. */
export function applyChanges(options: ApplyChangesOptions): () => void {
  const { responder, targets, clock, logger, applied } = options;
  let queue: Promise<void> = Promise.resolve();
  const apply = async (issuer: string, changes: StatusChanges): Promise<void> => {
    await Promise.all(targets.map((target) => target.applyChange(changes)));
    const now = clock.now();
    const seconds = Math.max(0, now - changes.changedAt) / 1000;
    applied?.labels({ responder, source: changes.source }).observe(seconds);
    logger.info(
      {
        issuer,
        source: changes.source,
        ...(changes.kind === "everything" ? { everything: changes.reason } : { serials: changes.serials.size, kinds: kindCounts(changes) }),
        detectedMs: changes.appliedAt - changes.changedAt,
        appliedMs: now - changes.changedAt,
      },
      "revocation data change applied",
    );
  };
  const stops = options.issuers.map((issuer) =>
    issuer.data.changes.subscribe((changes) => {
      queue = queue.then(() => apply(issuer.name, changes)).catch((error: unknown) => logger.error({ err: error }, "applying a revocation data change failed"));
    }),
  );
  return () => {
    for (const stop of stops) stop();
  };
}

function kindCounts(changes: StatusChanges & { kind: "serials" }): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let index = 0; index < changes.serials.size; index++) {
    const kind = changes.serials.kind(index);
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

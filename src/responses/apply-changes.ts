/**
 * Where a responder meets the change events of its issuers' sources (status/change-events.ts,
 * issue 14): each batch is applied to whatever keeps answers for later (the response cache's tiers
 * and schedules, the table of reused signed answers), then measured (`vouch_revocation_applied_seconds`:
 * from the change becoming known to its source, a file's mtime or a store row's change time, until
 * every target holds it) and logged, one line per batch. With a shared Redis tier the batch is then
 * published to the other instances (redis-change-channel.ts), and theirs are applied here too: to
 * the memory tiers only (the publisher deleted the Redis keys), and the issuer's own sources are
 * asked to look at once.
 */
import type { Clock } from "../clock.ts";
import { issuerHashes } from "../ocsp/cert-id.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { Logger } from "../observability/logger.ts";
import type { LazyHistogram } from "../observability/lazy-histogram.ts";
import { SerialChanges, SerialChangesBuilder, type ChangedIssuer, type StatusChangeFeed, type StatusChanges } from "../status/change-events.ts";
import type { PurgeRequest, PurgeScope } from "./cache-purge.ts";
import type { RemoteChange } from "./redis-change-channel.ts";

/** Where a batch comes from: this worker's own sources, or another instance (or worker) through Redis. */
export type ChangeOrigin = "local" | "remote";

/** Something that keeps answers and must drop what a change made wrong. */
export interface ChangeTarget {
  /** Never rejects. */
  applyChange(changes: StatusChanges, origin: ChangeOrigin): void | Promise<void>;
  /** Drops everything it holds in process memory (changes may have been missed). */
  dropAll?(): void;
}

/** Changes of other instances, when the responder shares a Redis tier with them. */
export interface RemoteChanges {
  onChange(listener: (change: RemoteChange) => void): void;
  onMissed(listener: (downForMs: number) => void): void;
  /** `vouch cache purge` asked every instance sharing the Redis tier to drop `scope` from memory. */
  onPurge(listener: (scope: PurgeScope, request: PurgeRequest) => void): void;
  /** Tells the other instances of a change this worker's sources saw. */
  publish(changes: StatusChanges): void;
}

export interface ApplyChangesOptions {
  readonly responder: string;
  readonly issuers: readonly {
    readonly name: string;
    readonly certificate: Buffer;
    readonly data: { readonly changes: StatusChangeFeed; lookNow(serials?: readonly Buffer[] | "everything"): Promise<void> };
  }[];
  readonly targets: readonly ChangeTarget[];
  readonly remote?: RemoteChanges | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly applied?: LazyHistogram<"responder" | "source" | "origin"> | undefined;
}

/** Subscribes to every issuer's changes; returns what unsubscribes. Batches are applied one after the other, in order. */
export function applyChanges(options: ApplyChangesOptions): () => void {
  const { responder, targets, clock, logger, applied, remote } = options;
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;
  const enqueue = (work: () => Promise<void>): void => {
    queue = queue.then(work).catch((error: unknown) => logger.error({ err: error }, "applying a revocation data change failed"));
  };
  const apply = async (issuer: string, changes: StatusChanges, origin: ChangeOrigin): Promise<void> => {
    await Promise.all(targets.map((target) => target.applyChange(changes, origin)));
    const now = clock.now();
    applied?.labels({ responder, source: changes.source, origin }).observe(Math.max(0, now - changes.changedAt) / 1000);
    logger.info(
      {
        issuer,
        source: changes.source,
        origin,
        ...(changes.kind === "everything" ? { everything: changes.reason } : { serials: changes.serials.size, kinds: kindCounts(changes) }),
        ...(origin === "local" ? { detectedMs: changes.appliedAt - changes.changedAt } : {}),
        appliedMs: now - changes.changedAt,
      },
      origin === "local" ? "revocation data change applied" : "revocation data change of another instance applied",
    );
    if (origin === "local") remote?.publish(changes);
  };
  const stops = options.issuers.map((issuer) =>
    issuer.data.changes.subscribe((changes) => {
      enqueue(() => apply(issuer.name, changes, "local"));
    }),
  );

  if (remote !== undefined) {
    // The responder's issuers by their SHA-256 CertID hashes, as messages name them.
    const byHashes = new Map<string, { readonly issuer: ApplyChangesOptions["issuers"][number]; readonly changed: ChangedIssuer }>();
    for (const issuer of options.issuers) {
      const hashes = issuerHashes(issuer.certificate);
      const sha256 = hashes.get("sha256")!;
      byHashes.set(`${sha256.nameHash.toString("hex")}:${sha256.keyHash.toString("hex")}`, {
        issuer,
        changed: { certificate: issuer.certificate, subjectDer: certificateFields(issuer.certificate).subjectDer, hashes },
      });
    }
    remote.onChange((change) => {
      if (stopped) return;
      const found = byHashes.get(`${change.nameHash.toString("hex")}:${change.keyHash.toString("hex")}`);
      if (found === undefined) return;
      // The other instance's source saw it first: this one's may be a moment behind, or not see it by
      // itself. Its answers for those serials wait for its look (recheck.ts).
      void found.issuer.data.lookNow(change.serials === "everything" ? "everything" : change.serials.map((entry) => entry.serial));
      enqueue(() => apply(found.issuer.name, remoteBatch(found.changed, change, clock.now()), "remote"));
    });
    remote.onMissed((downForMs) => {
      if (stopped) return;
      for (const target of targets) target.dropAll?.();
      for (const issuer of options.issuers) void issuer.data.lookNow();
      logger.warn({ downForMs }, "the change channel (Redis) was unreachable: changes published meanwhile may be missed, so the memory tiers were dropped");
    });
  }
  return () => {
    stopped = true;
    for (const stop of stops) stop();
  };
}

function remoteBatch(issuer: ChangedIssuer, change: RemoteChange, now: number): StatusChanges {
  const common = { issuer, source: change.source, changedAt: change.changedAt, appliedAt: now };
  if (change.serials === "everything") return { ...common, kind: "everything", reason: "another instance saw a change too large to list" };
  const builder = new SerialChangesBuilder();
  for (const { serial, kind } of change.serials) builder.add(serial, kind);
  return { ...common, kind: "serials", serials: new SerialChanges(builder.parts()) };
}

function kindCounts(changes: StatusChanges & { kind: "serials" }): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let index = 0; index < changes.serials.size; index++) {
    const kind = changes.serials.kind(index);
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

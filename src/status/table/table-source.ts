/**
 * The one revocation source over a table of serials, whatever the data is (table-loader.ts): every
 * kind ends as a SerialTable in memory, rows changed since laid over it, and a refresh that runs in
 * the background. This file owns what they share, once:
 * - the lookup and the one mapping of a record to an answer, dated by the kind's rule (`Dating`);
 * - freshness, the serials view, and the rows laid over the table (one overlay);
 * - one refresh at a time (a request during one runs another right after it);
 * - what a failed refresh does, for every kind: see `keepLastData`;
 * - telling subscribers which serials each refresh changed (change-events.ts), worked out before the
 *   changed data answers: the gates (ChangeGate) hear of them first, the subscribers the moment it
 *   answers. Rows laid over the table are compared with it; a whole new table with the one it
 *   replaces (on a loading thread when they are large), and only while someone listens.
 * Answers come from memory, synchronously: a lookup is a probe into the overlay (when it has rows)
 * and one into the table, and allocates only the answer.
 */
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import { issuerHashes } from "../../ocsp/cert-id.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import type { CertId } from "../../ocsp/types.ts";
import { changeKind, isRevoked, SerialChanges, SerialChangesBuilder, type ChangedIssuer, type ChangeGate, type StatusChangeFeed, type StatusChanges } from "../change-events.ts";
import { issuerMatch } from "../issuer-match.ts";
import { runOnItsOwnThread } from "../loading-thread.ts";
import type { OpenedSource, SourceFreshness, StatusAnswer } from "../status-source.ts";
import type { CurrentTable, Refresh, RowBatch, TableLoader, TableSnapshot } from "./table-loader.ts";
import { tableDiffJob } from "./table-diff.ts";
import { overlaidTable } from "./table-overlay.ts";
import { putRecord, sameRecord, SerialTableBuilder, type SerialRecord, type SerialTable } from "./serial-table.ts";

/**
 * Past this many changed serials a whole new table's change says "everything" instead: listing
 * them costs their octets (~20 per serial) on the serving thread, and whoever drops cached answers
 * for them is better off dropping all of the issuer's.
 */
const MAX_LISTED_CHANGES = 100_000;

/**
 * Whole tables of up to this many rows (both together) are compared on the serving thread: ~0.15 s
 * per million rows (table-diff.ts), so well under a millisecond here, against a thread's start.
 */
const MAX_ROWS_COMPARED_HERE = 20_000;

export interface TableSourceOptions {
  /** DER of the CA certificate whose certificates the data is about. */
  readonly issuer: Buffer;
  readonly loader: TableLoader;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** An opened table source. */
export interface TableSource extends OpenedSource {
  freshness(): SourceFreshness | undefined;
  readonly changes: StatusChangeFeed;
  /**
   * The answer for a serial (INTEGER content octets) of this source's issuer, for a caller that has
   * found the issuer itself; `status` checks the CertID's issuer first. `undefined` while the source
   * has no data, and once it is closed.
   */
  serialStatus(serial: Uint8Array): StatusAnswer | undefined;
}

/** The data answers come from. */
interface Data {
  readonly base: SerialTable;
  /** Rows changed since `base` was loaded; they win over it. Created with the first such row. */
  overlay: SerialTableBuilder | undefined;
  /** `base`, or `base` with `overlay` over it: the one reference lookups read. */
  view: SerialTable;
  /** Published data's own dates. */
  readonly thisUpdate: number | undefined;
  readonly nextUpdate: number | undefined;
}

/**
 * Opens a source over `loader`'s data. Resolves once the first load is done (so the source answers
 * from its first call), or once the loader says there is no data yet (it then answers `undefined`
 * and keeps looking). Rejects with the loader's error when the first load fails, or with
 * ConfigError("issuer") when `issuer` is not a certificate.
 */
export async function openTableSource(options: TableSourceOptions): Promise<TableSource> {
  const { loader, clock, logger } = options;
  const { name, dating, listsIssued, failures } = loader.data;
  let match: ReturnType<typeof issuerMatch>;
  let issuer: ChangedIssuer;
  try {
    match = issuerMatch(options.issuer);
    issuer = { certificate: options.issuer, subjectDer: certificateFields(options.issuer).subjectDer, hashes: issuerHashes(options.issuer) };
  } catch (error) {
    await loader.close();
    throw error;
  }
  const listeners = new Set<(changes: StatusChanges) => void>();
  const gates = new Set<ChangeGate>();
  const publish = (changes: StatusChanges): void => {
    for (const listener of listeners) {
      try {
        listener(changes);
      } catch (error) {
        logger.error({ err: error }, "a listener to status changes failed");
      }
    }
  };
  const published = { issuer, source: name };
  let data: Data | undefined;
  /** When the refresh that last loaded or confirmed the data started (ms). */
  let confirmedAt = 0;
  /** Why the data cannot be confirmed now, while that lasts (per-outage loaders only). */
  let problem: string | undefined;
  let closed = false;

  const install = (snapshot: TableSnapshot): Data => {
    data = { base: snapshot.table, overlay: undefined, view: snapshot.table, thisUpdate: snapshot.thisUpdate, nextUpdate: snapshot.nextUpdate };
    return data;
  };
  const started = clock.now();
  let first: Awaited<ReturnType<TableLoader["load"]>>;
  try {
    first = await loader.load();
  } catch (error) {
    await loader.close();
    throw error;
  }
  if (first !== undefined) {
    confirmedAt = started;
    first.announce?.(install(first.snapshot).view);
  }

  /** The answer for `serial` from `current`, dated by the kind's rule. */
  const answer = (current: Data, serial: Uint8Array): StatusAnswer => {
    const record = current.view.lookup(serial);
    switch (dating.kind) {
      case "live":
        return liveAnswer(record, listsIssued, new Date(clock.now()));
      case "published":
        return datedAnswer(record, listsIssued, new Date(current.thisUpdate ?? confirmedAt), current.nextUpdate === undefined ? undefined : new Date(current.nextUpdate));
      case "mirror":
        return datedAnswer(record, listsIssued, new Date(confirmedAt), new Date(confirmedAt + dating.maxStalenessMs));
    }
  };

  /**
   * The one policy for a refresh that fails, whatever the data: the last data stays in use as it
   * was, and only its own dates age it. Index data (live) therefore answers from its last good
   * version without limit, CRLs until their nextUpdate (guardStale then answers tryLater, but for
   * permanent revocations), an SQL mirror until its last confirmation + maxStaleness.
   */
  const keepLastData = (error: unknown): void => {
    if (failures.kind === "per-version") {
      const message = error instanceof ConfigError ? error.describe() : error instanceof Error ? error.message : String(error);
      logger.warn({ file: error instanceof ConfigError ? error.file : undefined, err: message }, "status data not reloaded; keeping the last good data");
      return;
    }
    if (problem === undefined) logger.warn({ err: error }, failures.warning);
    problem = failures.problem(error);
  };

  /** Awaits every gate (change-events.ts ChangeGate) with `changes`, before the data answers with them. */
  const passGates = async (changes: readonly StatusChanges[]): Promise<void> => {
    if (gates.size === 0 || changes.length === 0) return;
    await Promise.all(
      [...gates].flatMap((gate) =>
        changes.map((batch) =>
          gate(batch).catch((error: unknown) => {
            logger.error({ err: error }, "a gate before changed data answers failed");
          }),
        ),
      ),
    );
  };

  /**
   * Which serials the rows change, batch by batch (a later batch compared with the earlier ones laid
   * over the table): worked out before the rows answer, so that the gates hear of them first.
   */
  const rowChanges = (current: Data, batches: readonly RowBatch[]): { changes: SerialChangesBuilder; changedAt: number }[] => {
    const changed: { changes: SerialChangesBuilder; changedAt: number }[] = [];
    for (const [index, { rows, changedAt }] of batches.entries()) {
      const changes = new SerialChangesBuilder();
      for (const serial of rows.serials()) {
        const after = rows.lookup(serial);
        if (after === undefined) continue;
        let before: SerialRecord | undefined;
        let listedEarlier = false;
        for (let earlier = index - 1; earlier >= 0 && !listedEarlier; earlier--) {
          const record = batches[earlier]!.rows.lookup(serial);
          if (record !== undefined) [before, listedEarlier] = [record, true];
        }
        if (!listedEarlier) before = current.view.lookup(serial);
        const kind = changeKind(before, after, listsIssued);
        if (kind !== undefined) changes.add(serial, kind);
      }
      if (changes.size > 0) changed.push({ changes, changedAt });
    }
    return changed;
  };

  /** Lays the rows that say something new over the table. */
  const layRows = (current: Data, batches: readonly RowBatch[]): void => {
    for (const { rows } of batches) {
      for (const serial of rows.serials()) {
        const after = rows.lookup(serial);
        if (after === undefined || sameRecord(current.view.lookup(serial), after)) continue;
        current.overlay ??= new SerialTableBuilder({ maxRows: rows.size, maxPoolBytes: rows.size * 32, expectedRows: rows.size });
        putRecord(current.overlay, serial, after);
      }
      current.view = current.overlay === undefined ? current.base : overlaidTable(current.base, current.overlay);
    }
  };

  /**
   * What a whole new table changes against the one it replaces (`before`; none when there was
   * none). Undefined when nothing changed or no one listens. It is worked out BEFORE the new table
   * answers, so that the gates hear of it and it is published the moment this worker answers with
   * it. Small tables (a CRL of a few thousand entries) are compared here, in well under a
   * millisecond; larger ones on a loading thread of their own (the tables are in shared memory, and
   * the thread and its garbage go once it is done), whose start alone took tens of ms under load
   * (bench/propagation.ts: CRL p99 1.5 s with every comparison on a thread).
   */
  const wholeChanges = async (before: SerialTable | undefined, after: SerialTable, changedAt: number): Promise<((appliedAt: number) => StatusChanges) | undefined> => {
    if (listeners.size === 0 && gates.size === 0) return undefined;
    try {
      const input = { before: before?.layers ?? [], after: after.layers, listsIssued, limit: MAX_LISTED_CHANGES };
      const diff = (before?.size ?? 0) + after.size <= MAX_ROWS_COMPARED_HERE ? tableDiffJob(input).output : await runOnItsOwnThread("table.diff", input);
      if (diff.kind === "serials" && diff.serials.kinds.length === 0) return undefined;
      return diff.kind === "serials"
        ? (appliedAt) => ({ ...published, kind: "serials", changedAt, appliedAt, serials: new SerialChanges(diff.serials) })
        : (appliedAt) => ({ ...published, kind: "everything", changedAt, appliedAt, reason: `more than ${MAX_LISTED_CHANGES} serials changed` });
    } catch (error) {
      return (appliedAt) => ({ ...published, kind: "everything", changedAt, appliedAt, reason: `the changes could not be worked out: ${error instanceof Error ? error.message : String(error)}` });
    }
  };

  const apply = async (result: Refresh, startedAt: number): Promise<void> => {
    switch (result.kind) {
      case "idle":
        return;
      case "same":
        confirmedAt = startedAt;
        return;
      case "whole": {
        const before = data?.view;
        const changes = await wholeChanges(before, result.snapshot.table, result.changedAt);
        if (changes !== undefined) await passGates([changes(clock.now())]);
        if (closed) return;
        confirmedAt = startedAt;
        const after = install(result.snapshot).view;
        if (changes !== undefined) publish(changes(clock.now()));
        result.announce?.(after);
        if (before !== undefined) announceGarbage(before, after);
        return;
      }
      case "rows": {
        if (data === undefined) return;
        const current = data;
        const changed = rowChanges(current, result.batches);
        const batches = (appliedAt: number): StatusChanges[] =>
          changed.map(({ changes, changedAt }) => ({ ...published, kind: "serials", changedAt, appliedAt, serials: new SerialChanges(changes.parts()) }));
        await passGates(batches(clock.now()));
        // Only a refresh changes the data, one at a time: `current` is still the data in use, unless closed.
        if (closed) return;
        confirmedAt = startedAt;
        layRows(current, result.batches);
        for (const changes of batches(clock.now())) publish(changes);
        result.announce?.(current.view);
        return;
      }
    }
  };

  const refreshOnce = async (): Promise<void> => {
    const startedAt = clock.now();
    const current: CurrentTable | undefined = data === undefined ? undefined : { table: data.view, overlayRows: data.overlay?.size ?? 0 };
    let result: Refresh;
    try {
      result = await loader.refresh(current);
    } catch (error) {
      if (!closed) keepLastData(error);
      return;
    }
    if (closed) return;
    if (problem !== undefined && failures.kind === "per-outage") logger.info({}, failures.recovered);
    problem = undefined;
    await apply(result, startedAt);
  };

  // One refresh at a time; a request during one runs another right after it.
  let running: Promise<void> | undefined;
  let again = false;
  const requestRefresh = (): void => {
    if (closed) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await refreshOnce();
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
  };
  try {
    await loader.watch(requestRefresh);
  } catch (error) {
    await loader.close();
    throw error;
  }

  const serialStatus = (serial: Uint8Array): StatusAnswer | undefined => (closed || data === undefined ? undefined : answer(data, serial));
  return {
    status(id: CertId): StatusAnswer | undefined {
      return closed || data === undefined || !match.matches(id) ? undefined : answer(data, id.serialNumber);
    },
    serialStatus,
    lookNow() {
      requestRefresh();
      // The refresh loop runs once more for a request made while it ran: `running` covers that run too.
      return running ?? Promise.resolve();
    },
    changes: {
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      beforeAnswering(gate) {
        gates.add(gate);
        return () => gates.delete(gate);
      },
    },
    freshness(): SourceFreshness | undefined {
      if (closed || data === undefined) return undefined;
      const nextUpdate = dating.kind === "mirror" ? confirmedAt + dating.maxStalenessMs : dating.kind === "published" ? data.nextUpdate : undefined;
      return { loadedAt: confirmedAt, ...(nextUpdate === undefined ? {} : { nextUpdate }), ...(problem === undefined ? {} : { problem }) };
    },
    // Data that lists every issued certificate lists them for response pre-production (SPEC §6).
    ...(listsIssued ? { serials: () => (closed || data === undefined ? [] : data.view.serials()) } : {}),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      listeners.clear();
      gates.clear();
      await loader.close();
      await running;
    },
  };
}

/**
 * Tells V8 that the arrays of `before` which `after` does not use are garbage now. V8 does not count
 * SharedArrayBuffer memory in what triggers a garbage collection (measured: twelve 40 MB shared
 * arrays replaced one after another were all kept until an unrelated full GC, and a 1M-line index
 * reloaded whole six times under load held ~150 MB more than with ArrayBuffers), so a replaced table
 * could stay long after nothing reads it. An ArrayBuffer of the same size is counted, and, never
 * written, costs no memory: allocating one makes V8 collect soon, the replaced table with it.
 */
function announceGarbage(before: SerialTable, after: SerialTable): void {
  const kept = new Set(after.layers.flat());
  let bytes = 0;
  for (const parts of before.layers.flat()) {
    if (kept.has(parts)) continue;
    for (const array of [parts.pool, parts.slots, parts.start, parts.length, parts.hash, parts.revokedAt, parts.reason, parts.invalidity]) bytes += array.byteLength;
  }
  if (bytes > 0) void new ArrayBuffer(bytes);
}

/** An answer from live data: dated at the lookup, no nextUpdate. */
function liveAnswer(record: SerialRecord | undefined, listsIssued: boolean, thisUpdate: Date): StatusAnswer {
  if (record === undefined) return { kind: listsIssued ? "not-issued" : "good", thisUpdate };
  if (!isRevoked(record)) return { kind: "good", thisUpdate };
  return { kind: "revoked", thisUpdate, revokedAt: new Date(record.revokedAt), reason: record.reason, invalidityDate: dateOrUndefined(record.invalidityDate) };
}

/** An answer from data with dates (published, or a mirror's confirmation). */
function datedAnswer(record: SerialRecord | undefined, listsIssued: boolean, thisUpdate: Date, nextUpdate: Date | undefined): StatusAnswer {
  if (record === undefined) return { kind: listsIssued ? "not-issued" : "good", thisUpdate, nextUpdate };
  if (!isRevoked(record)) return { kind: "good", thisUpdate, nextUpdate };
  return { kind: "revoked", thisUpdate, nextUpdate, revokedAt: new Date(record.revokedAt), reason: record.reason, invalidityDate: dateOrUndefined(record.invalidityDate) };
}

function dateOrUndefined(ms: number | undefined): Date | undefined {
  return ms === undefined ? undefined : new Date(ms);
}

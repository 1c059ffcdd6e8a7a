import { accessSync, constants, mkdirSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import { BILLING_PREFIX_PATTERN, BILLING_WRITER_PATTERN, DEFAULT_BILLING_PREFIX, billingFileName, utcDay } from "./billing-file-names.ts";
import { checkedWrite } from "./billing-record-check.ts";
import { billingRecordLine } from "./billing-record-json.ts";
import type { BillingRecord, BillingSink } from "./billing-sink.ts";
import { groupCommit, validateBatching } from "./group-commit.ts";

/** Where and how the file sink writes. */
export interface FileBillingSinkOptions {
  /** Folder of the daily files; created when missing. */
  readonly directory: string;
  /** Times flushes for the logs; the rotation day comes from each record's own time. */
  readonly clock: Clock;
  readonly logger: Logger;
  /** File names are `<prefix>-YYYY-MM-DD.jsonl` (default "billing"). */
  readonly prefix?: string;
  /**
   * Set when several processes bill into one folder (`vouch serve --workers N`): each appends only to
   * its own `<prefix>-YYYY-MM-DD.<writer>.jsonl`, since a failed batch is cut back out of the file it
   * was appended to, which must hold no other process's records.
   */
  readonly writer?: string;
  /** Group commit delay (default 2 ms). */
  readonly maxDelayMs?: number;
  /** Group commit batch size (default 512). */
  readonly maxBatch?: number;
  /** Called after each batch is durable, with its number of records (metrics, tests). */
  readonly onFlush?: (records: number) => void;
  /** Called after a batch could not be made durable (metrics, readiness). */
  readonly onFailure?: (records: number, error: unknown) => void;
}

/** The day file currently open for appending. */
interface OpenFile {
  readonly day: string;
  readonly path: string;
  readonly handle: FileHandle;
  /** The file did not end with a newline when opened (a torn write): start the next write with one. */
  needsNewline: boolean;
}

/**
 * Builds the JSON-lines billing sink: one record per line in `<directory>/<prefix>-YYYY-MM-DD.jsonl`
 * (UTC day of the record), appended with O_APPEND. Each group-commit batch is one write and one
 * fdatasync per day file it touches (one, except across midnight), and the batch's writes resolve
 * only after that. A failed batch is cut back out of the file and the file closed; the next batch
 * reopens it, so a transient error (disk full, a moved directory) costs only the batches it hit.
 */
export function fileBillingSink(options: FileBillingSinkOptions): BillingSink {
  const { directory, clock, logger, onFlush } = validate(options);
  const prefix = options.prefix ?? DEFAULT_BILLING_PREFIX;
  const log = logger.child({ sink: "file" });
  let current: OpenFile | undefined;

  const openDay = async (day: string): Promise<OpenFile> => {
    await release();
    // Recreated on every open: an operator may have moved the folder away (archiving) at midnight.
    await mkdir(directory, { recursive: true });
    const path = join(directory, billingFileName(prefix, day, options.writer));
    // "a+" is O_APPEND|O_CREAT|O_RDWR: appends never overwrite, and the last byte can be read back.
    const handle = await open(path, "a+", 0o640);
    try {
      const { size } = await handle.stat();
      let needsNewline = false;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        needsNewline = last[0] !== 0x0a;
      } else {
        // A new file's directory entry must be durable too, or a power cut can lose the whole file.
        await syncDirectory(directory);
      }
      return { day, path, handle, needsNewline };
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
  };

  const release = async (): Promise<void> => {
    const file = current;
    current = undefined;
    await file?.handle.close();
  };

  const append = async (day: string, text: string): Promise<void> => {
    const file = current?.day === day ? current : await openDay(day);
    current = file;
    const bytes = Buffer.from(file.needsNewline ? `\n${text}` : text, "utf8");
    // Measured per batch, not tracked: several responders (or processes) may share a day file.
    let before: number | undefined;
    const progress = { written: 0 };
    try {
      before = (await file.handle.stat()).size;
      await writeAll(file.handle, bytes, progress);
      await file.handle.datasync();
      file.needsNewline = false;
    } catch (error) {
      current = undefined;
      if (before !== undefined && progress.written > 0) await cutBack(file.handle, before, progress.written);
      await file.handle.close().catch(() => {});
      throw error;
    }
  };

  const commit = groupCommit<BillingRecord>({
    maxDelayMs: options.maxDelayMs,
    maxBatch: options.maxBatch,
    flush: async (records) => {
      const started = clock.now();
      try {
        for (const [day, text] of linesByDay(records)) await append(day, text);
      } catch (error) {
        log.error({ err: error, records: records.length, file: directory }, "billing batch could not be made durable");
        options.onFailure?.(records.length, error);
        throw error;
      }
      onFlush?.(records.length);
      log.debug({ records: records.length, ms: clock.now() - started }, "billing batch durable");
    },
  });

  return {
    write: checkedWrite((record) => commit.add(record)),
    probe: () => probeDirectory(directory, `.${prefix}-probe${options.writer === undefined ? "" : `.${options.writer}`}`),
    async close() {
      await commit.close();
      await release();
    },
  };
}

/**
 * What the next day file needs: the folder (made again when missing), a new file in it, and a synced
 * write. The probe file is removed again; its leading dot keeps the billing readers away from it.
 */
async function probeDirectory(directory: string, name: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  const path = join(directory, name);
  const handle = await open(path, "w", 0o600);
  try {
    await handle.write("probe\n");
    await handle.datasync();
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
}

function validate(options: FileBillingSinkOptions): FileBillingSinkOptions {
  if (typeof options.directory !== "string" || options.directory === "") throw new ConfigError("directory", "must be a folder path");
  if (options.writer !== undefined && !BILLING_WRITER_PATTERN.test(options.writer)) {
    throw new ConfigError("writer", `"${options.writer}" may hold only letters, digits, '_' and '-'`);
  }
  if (options.prefix !== undefined && !BILLING_PREFIX_PATTERN.test(options.prefix)) {
    throw new ConfigError("prefix", "use letters, digits, '.', '_' and '-', starting with a letter or digit");
  }
  validateBatching(options);
  try {
    // Synchronous on purpose: this runs once at start-up, and an unusable folder should stop the
    // start there rather than turn the first requests into tryLater.
    mkdirSync(options.directory, { recursive: true });
    accessSync(options.directory, constants.W_OK);
  } catch (error) {
    throw new ConfigError("directory", `cannot write billing files there: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return options;
}

/** The batch's lines, one string per UTC day, in order of first appearance. */
function linesByDay(records: readonly BillingRecord[]): Map<string, string> {
  const parts = new Map<string, string[]>();
  for (const record of records) {
    const day = utcDay(record.time);
    let lines = parts.get(day);
    if (lines === undefined) parts.set(day, (lines = []));
    lines.push(billingRecordLine(record));
  }
  return new Map([...parts].map(([day, lines]) => [day, lines.join("")]));
}

/** One write call in practice; loops only if the kernel takes fewer bytes (regular files rarely do). */
async function writeAll(handle: FileHandle, bytes: Buffer, progress: { written: number }): Promise<void> {
  while (progress.written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, progress.written, bytes.length - progress.written, null);
    if (bytesWritten <= 0) throw new Error("the billing file accepted no bytes");
    progress.written += bytesWritten;
  }
}

/**
 * Removes the lines of a failed batch, so that nothing in the file was refused an answer. Only when
 * the file holds exactly what it held plus this batch's bytes: if another writer appended since,
 * truncating would destroy its records, and a few unanswered lines are the lesser harm. Best effort:
 * the storage is already failing.
 */
async function cutBack(handle: FileHandle, before: number, written: number): Promise<void> {
  try {
    if ((await handle.stat()).size === before + written) await handle.truncate(before);
  } catch {
    // Left as is; the reader skips a torn line, and the next open ends it with a newline.
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

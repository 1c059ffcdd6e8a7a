/**
 * A compact, read-only table of serials for sources that load a whole file (index.txt, CRLs).
 * It is an open-addressing hash table over typed arrays, keyed by the serial's minimal
 * two's-complement octets, with every serial's octets in one byte pool. Measured on 1M CRL
 * entries: the first version (Map<hex string, row>) spent ~2 s in Map.set and blocked the event
 * loop for up to ~230 ms (Map rehash plus GC over a million strings); this table is sized up
 * front from the input's length (no growth copy, no rehash), costs about 50 bytes per entry, and
 * leaves no per-entry objects for the garbage collector to trace.
 */
import type { CrlReason } from "../../ocsp/types.ts";
import { crlReasonFromCode, CRL_REASON_CODES } from "../../ocsp/types.ts";

/** What a table knows about one serial. Times are milliseconds since the epoch. */
export interface SerialRecord {
  /** `undefined` when the serial is listed but not revoked (an index.txt V or E line). */
  readonly revokedAt: number | undefined;
  readonly reason: CrlReason | undefined;
  readonly invalidityDate: number | undefined;
}

/** A finished table: lookups only. */
export interface SerialTable {
  /**
   * The record for a serial given as INTEGER content octets (a CertID's, any redundant leading
   * 0x00/0xff octets allowed), or `undefined` when it is not listed.
   */
  lookup(serial: Uint8Array): SerialRecord | undefined;
  /** Number of distinct serials. */
  readonly size: number;
  /** Each serial's minimal content octets (views into the table's pool: do not modify). */
  serials(): Iterable<Buffer>;
  /**
   * The arrays behind the table, for another thread to read it (table-diff.ts): layers looked up in
   * order, the first that lists a serial answering for it; each layer one or more tables of disjoint serials.
   */
  readonly layers: readonly TableLayer[];
}

/** Tables of disjoint serials, looked up as one (see SerialTable.layers). */
export type TableLayer = readonly SerialTableParts[];

/**
 * A finished table's typed arrays, always in SharedArrayBuffers: posted to another thread of the
 * process they are shared, not copied, so a loading thread hands a table to the serving thread for
 * nothing, worker threads answer from one copy (preloads.ts), and the table in use and a new one can
 * be compared on a loading thread (table-diff.ts). `serialTableFromParts` turns them back into a table.
 */
export interface SerialTableParts {
  readonly pool: Uint8Array;
  readonly slots: Int32Array;
  readonly start: Uint32Array;
  readonly length: Uint8Array;
  readonly hash: Uint32Array;
  readonly revokedAt: Float64Array;
  readonly reason: Uint8Array;
  readonly invalidity: Float64Array;
  readonly count: number;
  /** Rows added for a serial already in the table (lines that repeat a serial). */
  readonly duplicates: number;
}

/** A table over `parts` (as `SerialTableBuilder.parts()` made them); the arrays must not change afterwards. */
export function serialTableFromParts(parts: SerialTableParts): SerialTable {
  const { slots, start, length, hash: hashes, revokedAt, reason: reasons, invalidity, count } = parts;
  const pool = Buffer.from(parts.pool.buffer, parts.pool.byteOffset, parts.pool.byteLength);
  return {
    size: count,
    layers: [[parts]],
    *serials() {
      for (let row = 0; row < count; row++) {
        const at = start[row] ?? 0;
        yield pool.subarray(at, at + (length[row] ?? 0));
      }
    },
    lookup(serial: Uint8Array): SerialRecord | undefined {
      const s = minimal(serial, 0, serial.length);
      if (serial.length <= s) return undefined;
      const row = findRow(pool, slots, hashes, length, start, serial, s, serial.length, hash(serial, s, serial.length));
      return row === EMPTY ? undefined : recordAt(revokedAt, reasons, invalidity, row);
    },
  };
}

/**
 * The row of `parts` holding the serial `bytes[start, end)` (minimal octets) whose hash is `h` (as
 * the `hash` array stores it), or -1: for code that walks one table's rows and finds them in another
 * without hashing or allocating again (table-diff.ts).
 */
export function rowIn(parts: SerialTableParts, bytes: Uint8Array, start: number, end: number, h: number): number {
  return findRow(parts.pool, parts.slots, parts.hash, parts.length, parts.start, bytes, start, end, h);
}

/** The record in `row` of `parts`. */
export function recordOf(parts: SerialTableParts, row: number): SerialRecord {
  return recordAt(parts.revokedAt, parts.reason, parts.invalidity, row);
}

/** Whether row `a` of `left` and row `b` of `right` hold the same record (compared in the arrays, nothing allocated). */
export function sameRow(left: SerialTableParts, a: number, right: SerialTableParts, b: number): boolean {
  return Object.is(left.revokedAt[a], right.revokedAt[b]) && left.reason[a] === right.reason[b] && Object.is(left.invalidity[a], right.invalidity[b]);
}

/** The record in `row` of a table's arrays. */
function recordAt(revokedAt: Float64Array, reasons: Uint8Array, invalidity: Float64Array, row: number): SerialRecord {
  const at = revokedAt[row] ?? Number.NaN;
  const code = reasons[row] ?? NO_REASON;
  return {
    revokedAt: Number.isNaN(at) ? undefined : at,
    reason: code === NO_REASON ? undefined : crlReasonFromCode(code),
    invalidityDate: invalidityFrom(invalidity[row] ?? 0),
  };
}

/** Whether two records say the same (both absent included). */
export function sameRecord(a: SerialRecord | undefined, b: SerialRecord | undefined): boolean {
  return a?.revokedAt === b?.revokedAt && a?.reason === b?.reason && a?.invalidityDate === b?.invalidityDate && (a === undefined) === (b === undefined);
}

/** Adds `record` for `serial` (minimal octets) to `builder`, replacing a row it has (see SerialTableBuilder.put). */
export function putRecord(builder: SerialTableBuilder, serial: Uint8Array, record: SerialRecord): void {
  builder.put(serial, 0, serial.length, record.revokedAt ?? Number.NaN, reasonCode(record.reason), record.invalidityDate ?? Number.NaN);
}

/** The row holding `bytes[s, end)`, or EMPTY. Linear probing; the table is at most MAX_LOAD full. */
function findRow(
  pool: Uint8Array,
  slots: Int32Array,
  hashes: Uint32Array,
  lengths: Uint8Array,
  starts: Uint32Array,
  bytes: Uint8Array,
  s: number,
  end: number,
  h: number,
): number {
  const mask = slots.length - 1;
  const length = end - s;
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const row = (slots[i] ?? 0) - 1;
    if (row === EMPTY) return EMPTY;
    if (hashes[row] !== h || lengths[row] !== length) continue;
    const at = starts[row] ?? 0;
    let same = true;
    for (let k = 0; k < length; k++) {
      if (pool[at + k] !== bytes[s + k]) {
        same = false;
        break;
      }
    }
    if (same) return row;
  }
}

/**
 * Invalidity dates are rare, so "none" is the zero a fresh array holds: the array's pages are then
 * never written (on the machines measured, first-touching fresh memory cost ~5 ms per MB, 40 ms for
 * this array at 1M rows). A date of exactly 0 ms (1970-01-01) is stored as -0 to stay apart.
 */
function invalidityTo(date: number): number {
  return Number.isNaN(date) ? 0 : date === 0 ? -0 : date;
}

function invalidityFrom(stored: number): number | undefined {
  return Object.is(stored, 0) ? undefined : stored === 0 ? 0 : stored;
}

/** Where a table's arrays live (see SerialTableParts): zero-filled, and untouched pages are never mapped. */
function sharedMemory(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(bytes);
}

/** The code a table stores for "no reason". */
export const NO_REASON = 0xff;

/** The reason code a table stores for a CrlReason (`undefined` → NO_REASON). */
function reasonCode(reason: CrlReason | undefined): number {
  return reason === undefined ? NO_REASON : CRL_REASON_CODES[reason];
}

/**
 * Rows per slot before the slots double. Above one half linear probing is still short (~1.5
 * probes a hit at 0.6), and it lets a table of a round million rows (sized for a few percent
 * more) keep 2^21 slots instead of 2^22: 8 MB less memory touched at random.
 */
const MAX_LOAD = 0.6;

/** Slots hold row + 1, so that a fresh (zero-filled, lazily mapped) Int32Array is all empty. */
const EMPTY = -1;
/** Longer serials are not certificates' (RFC 5280 allows 20 octets); 255 keeps lengths in a byte. */
const MAX_SERIAL_OCTETS = 255;

/**
 * The start of the minimal two's-complement encoding of the INTEGER in `bytes[start, end)`
 * (redundant leading 0x00/0xff octets skipped), so that padded and unpadded spellings of one
 * serial hash and compare alike.
 */
function minimal(bytes: Uint8Array, start: number, end: number): number {
  let s = start;
  while (s < end - 1) {
    const a = bytes[s] ?? 0;
    const b = bytes[s + 1] ?? 0;
    if ((a === 0x00 && b < 0x80) || (a === 0xff && b >= 0x80)) s++;
    else break;
  }
  return s;
}

/** FNV-1a over `bytes[start, end)`. */
function hash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] ?? 0), 0x01000193);
  return h >>> 0;
}

/**
 * Collects rows, then `build()`s the table. When a serial is added twice, a revoked row wins over
 * a not-revoked one (never answer good for something a line says is revoked); otherwise the later
 * row wins. It answers lookups as it grows, so it also serves as a table that changes in place (the
 * rows laid over a loaded table, table-source.ts); its arrays must not change while `parts()` handed
 * out are in use elsewhere.
 */
export class SerialTableBuilder implements SerialTable {
  #pool: Buffer;
  #poolUsed = 0;
  #slots: Int32Array;
  #start: Uint32Array;
  #length: Uint8Array;
  #hash: Uint32Array;
  #revokedAt: Float64Array;
  #reason: Uint8Array;
  #invalidity: Float64Array;
  #count = 0;
  #duplicates = 0;

  /**
   * `maxRows` and `maxPoolBytes` are upper bounds the caller can derive from its input's size
   * (every entry takes some minimum number of bytes). Sizing for them up front means no growth
   * copy and no rehash ever runs; the arrays are zero-filled, so the pages of an overestimate
   * are never touched. `expectedRows` (default `maxRows`) sizes the hash slots, which are touched
   * at random. All are optional; the table grows past them if needed.
   */
  constructor(bounds: { maxRows?: number; maxPoolBytes?: number; expectedRows?: number } = {}) {
    const rows = Math.max(1024, Math.ceil(bounds.maxRows ?? 0));
    this.#pool = Buffer.from(sharedMemory(Math.max(1 << 16, Math.ceil(bounds.maxPoolBytes ?? 0))));
    // Unlike the row arrays, the slots are touched at random, so an overestimate costs real memory
    // (a 100 MB index.txt once sized them for 4.9M rows: 64 MB, every page touched by 1M entries).
    // They are sized for the likely count and doubled by #rehash if it is passed.
    const likely = Math.max(1024, Math.min(rows, Math.ceil(bounds.expectedRows ?? rows)));
    this.#slots = new Int32Array(sharedMemory(4 * 2 ** Math.ceil(Math.log2(likely / MAX_LOAD))));
    this.#start = new Uint32Array(sharedMemory(4 * rows));
    this.#length = new Uint8Array(sharedMemory(rows));
    this.#hash = new Uint32Array(sharedMemory(4 * rows));
    this.#revokedAt = new Float64Array(sharedMemory(8 * rows));
    this.#reason = new Uint8Array(sharedMemory(rows));
    this.#invalidity = new Float64Array(sharedMemory(8 * rows));
  }


  /**
   * Adds the serial whose INTEGER content octets are `bytes[start, end)`. `revokedAt` and
   * `invalidityDate` are milliseconds or NaN for none; `code` is a CRLReason code or NO_REASON.
   * Throws RangeError for an empty or over-long (> 255 octets) serial.
   */
  add(bytes: Uint8Array, start: number, end: number, revokedAt: number, code: number, invalidityDate: number): void {
    const row = this.#row(bytes, start, end);
    if (this.#existed) {
      this.#duplicates++;
      if (!Number.isNaN(this.#revokedAt[row] ?? Number.NaN) && Number.isNaN(revokedAt)) return;
    }
    this.#set(row, revokedAt, code, invalidityDate);
  }

  /** As `add`, but the row given always replaces one already there (a newer version of the same line). */
  put(bytes: Uint8Array, start: number, end: number, revokedAt: number, code: number, invalidityDate: number): void {
    this.#set(this.#row(bytes, start, end), revokedAt, code, invalidityDate);
  }

  /** The record of a serial added so far, as the built table would answer. */
  lookup(serial: Uint8Array): SerialRecord | undefined {
    const s = minimal(serial, 0, serial.length);
    if (serial.length <= s) return undefined;
    const row = this.#find(serial, s, serial.length, hash(serial, s, serial.length));
    return row === EMPTY ? undefined : recordAt(this.#revokedAt, this.#reason, this.#invalidity, row);
  }

  /** Distinct serials added so far. */
  get size(): number {
    return this.#count;
  }

  /** The arrays as they are now (see SerialTable.layers). */
  get layers(): readonly TableLayer[] {
    return [[this.parts()]];
  }

  /** Each serial added so far (views into the pool: do not modify). */
  *serials(): Iterable<Buffer> {
    for (let row = 0; row < this.#count; row++) {
      const at = this.#start[row] ?? 0;
      yield this.#pool.subarray(at, at + (this.#length[row] ?? 0));
    }
  }

  /** Whether the serial of the last #row call was already in the table (a field: no object per row). */
  #existed = false;

  /** The row of the serial `bytes[start, end)`, inserted when new; throws RangeError as `add` does. */
  #row(bytes: Uint8Array, start: number, end: number): number {
    const s = minimal(bytes, start, end);
    if (end <= s || end - s > MAX_SERIAL_OCTETS) throw new RangeError(`serial of ${end - start} octets`);
    const h = hash(bytes, s, end);
    const row = this.#find(bytes, s, end, h);
    this.#existed = row !== EMPTY;
    return this.#existed ? row : this.#insert(bytes, s, end, h);
  }

  #set(row: number, revokedAt: number, code: number, invalidityDate: number): void {
    this.#revokedAt[row] = revokedAt;
    this.#reason[row] = code;
    // A new row's invalidity is already "none" (see invalidityTo): write only when it is not.
    if (!Number.isNaN(invalidityDate) || !Object.is(this.#invalidity[row], 0)) this.#invalidity[row] = invalidityTo(invalidityDate);
  }

  /** The finished table; the builder must not be used afterwards. */
  build(): SerialTable {
    return serialTableFromParts(this.parts());
  }

  /** The finished table's arrays (see SerialTableParts); the builder must not be used afterwards. */
  parts(): SerialTableParts {
    return {
      pool: this.#pool,
      slots: this.#slots,
      start: this.#start,
      length: this.#length,
      hash: this.#hash,
      revokedAt: this.#revokedAt,
      reason: this.#reason,
      invalidity: this.#invalidity,
      count: this.#count,
      duplicates: this.#duplicates,
    };
  }

  #find(bytes: Uint8Array, s: number, end: number, h: number): number {
    return findRow(this.#pool, this.#slots, this.#hash, this.#length, this.#start, bytes, s, end, h);
  }

  #insert(bytes: Uint8Array, s: number, end: number, h: number): number {
    const row = this.#count++;
    if (row === this.#start.length) this.#growRows();
    const length = end - s;
    if (this.#poolUsed + length > this.#pool.length) {
      const pool = Buffer.from(sharedMemory(this.#pool.length * 2));
      this.#pool.copy(pool, 0, 0, this.#poolUsed);
      this.#pool = pool;
    }
    // A loop rather than set(subarray()): serials are ~20 octets, and the view cost more than the copy.
    const pool = this.#pool;
    const at = this.#poolUsed;
    for (let k = 0; k < length; k++) pool[at + k] = bytes[s + k] ?? 0;
    this.#start[row] = at;
    this.#length[row] = length;
    this.#hash[row] = h;
    this.#poolUsed = at + length;
    if (this.#count > this.#slots.length * MAX_LOAD) this.#rehash();
    else this.#place(row, h);
    return row;
  }

  #place(row: number, h: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = row + 1;
  }

  /** Doubles the slots and re-places every row from its stored hash (no re-hashing of bytes). */
  #rehash(): void {
    this.#slots = new Int32Array(sharedMemory(4 * this.#slots.length * 2));
    for (let row = 0; row < this.#count; row++) this.#place(row, this.#hash[row] ?? 0);
  }

  #growRows(): void {
    const size = this.#start.length * 2;
    const grow = <T extends Uint8Array | Uint32Array | Float64Array>(old: T, make: (buffer: ArrayBufferLike) => T): T => {
      const next = make(sharedMemory(size * old.BYTES_PER_ELEMENT));
      next.set(old);
      return next;
    };
    this.#start = grow(this.#start, (buffer) => new Uint32Array(buffer));
    this.#length = grow(this.#length, (buffer) => new Uint8Array(buffer));
    this.#hash = grow(this.#hash, (buffer) => new Uint32Array(buffer));
    this.#revokedAt = grow(this.#revokedAt, (buffer) => new Float64Array(buffer));
    this.#reason = grow(this.#reason, (buffer) => new Uint8Array(buffer));
    this.#invalidity = grow(this.#invalidity, (buffer) => new Float64Array(buffer));
  }
}

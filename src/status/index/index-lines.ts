/**
 * The line parser behind every index.txt load: it is fed bytes (a whole file, or one chunk of it
 * at a time) and adds each complete line to a SerialTableBuilder, reading the bytes in place.
 * Measured on 1M lines (bench/source-ready.ts): the previous parser found each field with
 * Buffer#indexOf (a call into C++ per field, ~30% of its time) and made a string per R line for
 * the reason word; this one walks each line once in JavaScript, matches reason words as bytes and
 * reuses the last time it parsed when the next field spells the same time (the expiry and
 * revocation times of a CA's lines repeat a lot). Strings are made only for error messages and for
 * the rare forms (negative serials, revocation fields with an argument), which take the general path.
 */
import { ConfigError } from "../../errors.ts";
import { CRL_REASON_CODES } from "../../ocsp/types.ts";
import { parseDerTime } from "../../ocsp/der-time.ts";
import { parseRevocationField, REASON_WORDS, type ReasonWord } from "./index-revocation-field.ts";
import { serialOctetsFromHex } from "../serial-key.ts";
import { NO_REASON, type SerialTableBuilder } from "../table/serial-table.ts";

/** Where IndexLines puts each line's row: a SerialTableBuilder, or something that watches the rows on their way to one. */
export type RowSink = Pick<SerialTableBuilder, "add">;

const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const COMMA = 0x2c;

/** Hex digit values by octet, -1 for anything else. */
const NIBBLE = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let c = 0; c < 256; c++) {
    if (c >= 0x30 && c <= 0x39) table[c] = c - 0x30;
    else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) table[c] = (c | 0x20) - 0x61 + 10;
  }
  return table;
})();

/** The reason words as lower-case octets, for matching without a string. */
const REASON_BYTES: readonly { readonly bytes: Uint8Array; readonly word: ReasonWord }[] = [...REASON_WORDS].map(([name, word]) => ({ bytes: Buffer.from(name, "latin1"), word }));

/** The last time field parsed and its value: one compare instead of a parse when the next one is the same. */
class TimeMemo {
  readonly #bytes = new Uint8Array(15);
  #length = 0;
  #value = Number.NaN;

  at(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    if (length === this.#length) {
      const memo = this.#bytes;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (memo[i] !== bytes[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#value;
    }
    const value = parseDerTime(bytes, start, end);
    // Only valid times are remembered (they are 13 or 15 octets, which the memo holds).
    if (!Number.isNaN(value)) {
      this.#bytes.set(bytes.subarray(start, end));
      this.#length = length;
      this.#value = value;
    }
    return value;
  }
}

/**
 * Adds the lines of one index.txt to `builder`. V and E lines are listed but not revoked; R lines
 * are revoked, except `removeFromCRL` (RFC 5280 §5.3.1: a hold that was lifted, only meaningful in
 * delta CRLs), which is listed as not revoked. Lines are numbered across calls to `feed`.
 */
export class IndexLines {
  readonly #builder: RowSink;
  readonly #file: string;
  /** Lines consumed so far (empty ones too, so that messages name the line an editor shows). */
  #line = 0;
  readonly #tabs = new Int32Array(5);
  readonly #serial = new Uint8Array(256);
  readonly #expiry = new TimeMemo();
  readonly #revoked = new TimeMemo();
  // The revocation field last read by #revocation (fields, so that no object is made per line).
  #revokedAt = Number.NaN;
  #code = NO_REASON;
  #invalidity = Number.NaN;

  /** `firstLine`: lines before the first byte fed (a part of a file parsed alone), so that messages still name the file's line. */
  constructor(builder: RowSink, file: string, firstLine = 0) {
    this.#builder = builder;
    this.#file = file;
    this.#line = firstLine;
  }

  /** Lines consumed so far. */
  get lines(): number {
    return this.#line;
  }

  /**
   * Parses the complete lines in `bytes[start, end)` and returns where the first one not consumed
   * starts. With `last`, `end` is the end of the input and a final line without a newline counts
   * too (the return value is then `end`). Throws ConfigError("file", "line N: ...", { file }) on
   * the first malformed line.
   */
  feed(bytes: Uint8Array, start: number, end: number, last: boolean): number {
    const tabs = this.#tabs;
    let p = start;
    while (p < end) {
      let tabCount = 0;
      let i = p;
      for (; i < end; i++) {
        const c = bytes[i];
        if (c === NEWLINE) break;
        if (c === TAB && tabCount < 5) tabs[tabCount++] = i;
      }
      if (i === end && !last) return p;
      this.#line++;
      const next = i + 1;
      if (i > p && bytes[i - 1] === RETURN) i--;
      if (i > p) {
        const problem = tabCount < 5 ? `expected 6 tab-separated fields, found ${tabCount + 1}` : this.#add(bytes, p);
        if (problem !== undefined) throw new ConfigError("file", `line ${this.#line}: ${problem}`, { file: this.#file });
      }
      p = next;
    }
    return Math.min(p, end);
  }

  /** Adds the line at `start`, whose first five tabs are in #tabs; returns what is wrong with it instead. */
  #add(bytes: Uint8Array, start: number): string | undefined {
    const tabs = this.#tabs;
    const t0 = tabs[0] ?? 0;
    const t1 = tabs[1] ?? 0;
    const t2 = tabs[2] ?? 0;
    const t3 = tabs[3] ?? 0;
    const status = t0 - start === 1 ? bytes[start] : undefined;
    if (Number.isNaN(this.#expiry.at(bytes, t0 + 1, t1))) return `expiry "${latin1(bytes, t0 + 1, t1)}" is not a valid time`;
    let serial: Uint8Array | undefined = this.#serial;
    let serialLength = hexSerial(bytes, t2 + 1, t3, this.#serial);
    if (serialLength < 0) {
      // A negative serial ("-" + hex, as openssl writes one) or not hex at all: the general path says which.
      serial = serialOctetsFromHex(latin1(bytes, t2 + 1, t3));
      serialLength = serial?.length ?? 0;
    }
    if (serial === undefined || serialLength === 0 || serialLength > 255) return `serial "${latin1(bytes, t2 + 1, t3)}" is not hex (of at most 255 octets)`;
    switch (status) {
      case 0x56: // V
      case 0x45: // E: expired certificates were never revoked, so they answer good.
        if (t2 !== t1 + 1) return `a ${String.fromCharCode(status)} line has a revocation field ("${latin1(bytes, t1 + 1, t2)}")`;
        this.#builder.add(serial, 0, serialLength, Number.NaN, NO_REASON, Number.NaN);
        return undefined;
      case 0x52: {
        // R
        if (t2 === t1 + 1) return "an R line has no revocation field";
        const problem = this.#revocation(bytes, t1 + 1, t2);
        if (problem !== undefined) return problem;
        if (this.#code === CRL_REASON_CODES.removeFromCRL) this.#builder.add(serial, 0, serialLength, Number.NaN, NO_REASON, Number.NaN);
        else this.#builder.add(serial, 0, serialLength, this.#revokedAt, this.#code, this.#invalidity);
        return undefined;
      }
      default:
        return `status "${latin1(bytes, start, t0)}" is not V, E or R`;
    }
  }

  /**
   * Reads the revocation field `bytes[start, end)` into #revokedAt, #code and #invalidity, or
   * returns what is wrong with it. `time` and `time,reason` are read in place; the forms with an
   * argument, and every error, go through parseRevocationField.
   */
  #revocation(bytes: Uint8Array, start: number, end: number): string | undefined {
    let comma = start;
    while (comma < end && bytes[comma] !== COMMA) comma++;
    const revokedAt = this.#revoked.at(bytes, start, comma);
    let word: ReasonWord | undefined;
    if (!Number.isNaN(revokedAt)) {
      if (comma === end) {
        this.#set(revokedAt, NO_REASON, Number.NaN);
        return undefined;
      }
      word = reasonWordAt(bytes, comma + 1, end);
      // A second comma makes the word run past a known one, so `word` is undefined then.
      if (word !== undefined && (word.argument === "none" || word.argument === "optional-oid")) {
        this.#set(revokedAt, word.code, Number.NaN);
        return undefined;
      }
    }
    const parsed = parseRevocationField(latin1(bytes, start, end));
    if (typeof parsed === "string") return parsed;
    this.#set(parsed.revokedAt, parsed.code, parsed.invalidityDate);
    return undefined;
  }

  #set(revokedAt: number, code: number, invalidity: number): void {
    this.#revokedAt = revokedAt;
    this.#code = code;
    this.#invalidity = invalidity;
  }
}

/** The reason word spelled (in any case) by exactly `bytes[start, end)`, or undefined. */
function reasonWordAt(bytes: Uint8Array, start: number, end: number): ReasonWord | undefined {
  const length = end - start;
  for (const { bytes: name, word } of REASON_BYTES) {
    if (name.length !== length) continue;
    let same = true;
    for (let i = 0; i < length; i++) {
      // ASCII letters only differ in bit 0x20 between cases; the names are all letters.
      if (((bytes[start + i] ?? 0) | 0x20) !== name[i]) {
        same = false;
        break;
      }
    }
    if (same) return word;
  }
  return undefined;
}

/**
 * A non-negative hex serial in `bytes[start, end)` as INTEGER content octets written into `out`
 * after a 0x00 octet (needed when the top bit is set; SerialTableBuilder.add skips it otherwise);
 * returns the count written, or -1 when the text is not plain hex (a sign, another character, too
 * long), for the general path to handle.
 */
function hexSerial(bytes: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let s = start;
  while (s < end - 1 && bytes[s] === 0x30) s++;
  const digits = end - s;
  if (digits <= 0 || digits > 2 * 254) return -1;
  out[0] = 0;
  let o = 1;
  let p = s;
  if ((digits & 1) === 1) {
    const low = NIBBLE[bytes[p++] ?? 0] ?? -1;
    if (low < 0) return -1;
    out[o++] = low;
  }
  while (p < end) {
    const high = NIBBLE[bytes[p] ?? 0] ?? -1;
    const low = NIBBLE[bytes[p + 1] ?? 0] ?? -1;
    if (high < 0 || low < 0) return -1;
    out[o++] = (high << 4) | low;
    p += 2;
  }
  return o;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("latin1");
}

/**
 * What changed in an issuer's revocation data, as its source publishes it after each refresh
 * (table-source.ts): which serials, how, and when. Whatever keeps answers for later (a response
 * cache, other instances sharing one) subscribes, to drop what the change made wrong at once
 * instead of when it expires. A batch lists serials when the change is known serial by serial, and
 * says "everything" when it is not (a change too large to list, or one that could not be worked out).
 */
import type { IssuerHashes } from "../ocsp/cert-id.ts";
import type { HashAlgorithm } from "../ocsp/types.ts";
import type { SerialRecord } from "./table/serial-table.ts";

/**
 * How one serial's answer changed:
 * - revoked: it is revoked now, and was not, or was with another time, reason or invalidity date;
 * - unrevoked: it was revoked and is good now (a lifted hold, a removeFromCRL entry, an entry
 *   dropped from a newer CRL, `vouch store unrevoke`);
 * - issued: it was not listed and is listed good now (data that lists every issued certificate);
 * - removed: it was listed and is not any more (an index.txt line removed): it answers not-issued now.
 */
export const CHANGE_KINDS = ["revoked", "unrevoked", "issued", "removed"] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** The issuer whose data changed: enough to compute its certificates' CertIDs under every hash algorithm. */
export interface ChangedIssuer {
  readonly certificate: Buffer;
  /** The issuer's Name DER (its certificate's subject), as CertID's issuerNameHash hashes it. */
  readonly subjectDer: Buffer;
  /** issuerNameHash and issuerKeyHash under each hash algorithm a CertID may use. */
  readonly hashes: ReadonlyMap<HashAlgorithm, IssuerHashes>;
}

interface ChangeBatch {
  readonly issuer: ChangedIssuer;
  /** The kind of data that changed ("index", "crl", "sql"). */
  readonly source: string;
  /** When the change became known to the source (ms): a file's mtime, a store row's change time. */
  readonly changedAt: number;
  /** When the source began answering with it (ms). */
  readonly appliedAt: number;
}

/** One refresh's changes for one issuer. */
export type StatusChanges =
  | (ChangeBatch & { readonly kind: "serials"; readonly serials: SerialChanges })
  /** Any of the issuer's answers may have changed; `reason` says why the serials are not listed. */
  | (ChangeBatch & { readonly kind: "everything"; readonly reason: string });

/**
 * What a source awaits before it answers with changed data (`appliedAt` is then when it is about to):
 * a worker tells its sibling workers to hold their answers for those serials until their own sources
 * have looked (src/status/recheck.ts), so that no client hears the old answer from a sibling after
 * it heard the new one from this worker. Must not reject, and must settle soon (it delays the change).
 */
export type ChangeGate = (changes: StatusChanges) => Promise<void>;

/** Where changes are published. */
export interface StatusChangeFeed {
  /** Calls `listener` with each batch from now on, in order; returns what stops that. */
  subscribe(listener: (changes: StatusChanges) => void): () => void;
  /** Makes the source await `gate` with each batch before answering with it; returns what stops that. */
  beforeAnswering?(gate: ChangeGate): () => void;
}

/** Changed serials in compact arrays (a change listing a million serials makes no million objects, and crosses threads as three arrays). */
export interface SerialChangesParts {
  /** Every serial's minimal INTEGER content octets, one after the other. */
  readonly pool: Uint8Array;
  /** Where each serial ends in `pool`. */
  readonly ends: Uint32Array;
  /** Each serial's CHANGE_KINDS index. */
  readonly kinds: Uint8Array;
}

/** A list of changed serials. */
export class SerialChanges implements Iterable<{ readonly serial: Buffer; readonly kind: ChangeKind }> {
  readonly #parts: SerialChangesParts;

  constructor(parts: SerialChangesParts) {
    this.#parts = parts;
  }

  get size(): number {
    return this.#parts.kinds.length;
  }

  /** The `index`th serial (a view into the list: do not modify). */
  serial(index: number): Buffer {
    const { pool, ends } = this.#parts;
    const start = index === 0 ? 0 : (ends[index - 1] ?? 0);
    return Buffer.from(pool.buffer, pool.byteOffset + start, (ends[index] ?? start) - start);
  }

  kind(index: number): ChangeKind {
    return CHANGE_KINDS[this.#parts.kinds[index] ?? 0]!;
  }

  *[Symbol.iterator](): Iterator<{ readonly serial: Buffer; readonly kind: ChangeKind }> {
    for (let index = 0; index < this.size; index++) yield { serial: this.serial(index), kind: this.kind(index) };
  }
}

/** Collects changed serials into SerialChangesParts. */
export class SerialChangesBuilder {
  #pool = new Uint8Array(256);
  #ends = new Uint32Array(16);
  #kinds = new Uint8Array(16);
  #count = 0;
  #used = 0;

  get size(): number {
    return this.#count;
  }

  add(serial: Uint8Array, kind: ChangeKind): void {
    while (this.#used + serial.length > this.#pool.length) this.#pool = grown(this.#pool, new Uint8Array(this.#pool.length * 2));
    if (this.#count === this.#ends.length) {
      this.#ends = grown(this.#ends, new Uint32Array(this.#ends.length * 2));
      this.#kinds = grown(this.#kinds, new Uint8Array(this.#kinds.length * 2));
    }
    this.#pool.set(serial, this.#used);
    this.#used += serial.length;
    this.#ends[this.#count] = this.#used;
    this.#kinds[this.#count++] = CHANGE_KINDS.indexOf(kind);
  }

  parts(): SerialChangesParts {
    return { pool: this.#pool.slice(0, this.#used), ends: this.#ends.slice(0, this.#count), kinds: this.#kinds.slice(0, this.#count) };
  }
}

function grown<T extends Uint8Array | Uint32Array>(old: T, next: T): T {
  next.set(old);
  return next;
}

/** removeFromCRL (RFC 5280 §5.3.1) means the entry is no longer revoked: a hold was released. */
export function isRevoked(record: SerialRecord): record is SerialRecord & { revokedAt: number } {
  return record.revokedAt !== undefined && record.reason !== "removeFromCRL";
}

/**
 * How a serial's answer changed from `before` to `after` (records; undefined: not listed), in data
 * that lists every issued certificate (`listsIssued`: unlisted is not-issued) or only revocations
 * (unlisted is good); undefined when the answer is the same.
 */
export function changeKind(before: SerialRecord | undefined, after: SerialRecord | undefined, listsIssued: boolean): ChangeKind | undefined {
  const wasRevoked = before !== undefined && isRevoked(before);
  if (after !== undefined && isRevoked(after)) {
    const same = wasRevoked && before.revokedAt === after.revokedAt && before.reason === after.reason && before.invalidityDate === after.invalidityDate;
    return same ? undefined : "revoked";
  }
  const listed = (record: SerialRecord | undefined): boolean => !listsIssued || record !== undefined;
  if (wasRevoked) return listed(after) ? "unrevoked" : "removed";
  if (listed(before) === listed(after)) return undefined;
  return listed(after) ? "issued" : "removed";
}

/**
 * The in-memory tier of the response cache (SPEC §6): bounded by bytes and by count, the per-issuer
 * table deciding what is kept and for how long, and eviction of the expired entry (else the one
 * closest to expiry) through an expiry-ordered heap, so that a put on a full cache costs O(log n).
 * A second heap orders the entries of renewing rows by when they are due for renewal.
 */
import type { Clock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import type { CertId } from "../ocsp/types.ts";
import { cacheKey } from "./cache-key.ts";
import { cachedResponse } from "./cached-single.ts";
import { isOfIssuer, serialKey, type IssuerOfChange } from "./changed-cert-ids.ts";
import { IndexedHeap } from "./indexed-heap.ts";
import { compareAge } from "./response-age.ts";
import type { IssuerTable } from "./issuer-table.ts";
import type { CachedResponse, ResponseCache, ResponseToCache } from "./response-cache.ts";

export interface MemoryResponseCacheOptions {
  /** Most responses kept. */
  readonly maxCount: number;
  /** Most bytes kept: each response's body plus ENTRY_OVERHEAD_BYTES. */
  readonly maxBytes: number;
  readonly issuers: IssuerTable;
  readonly clock: Clock;
  /** Told of each entry removed to make room (the `vouch_response_cache_evictions_total` counter). */
  readonly onEvict?: (() => void) | undefined;
}

/** The memory tier: a ResponseCache with what the other layers (Redis, renewing) need. */
export interface MemoryResponseCache extends ResponseCache {
  /**
   * Keeps a response another tier already holds (a Redis hit), with the expiry that tier gave it;
   * it is not renewed here (the instance that produced it renews it). Ignored when already expired.
   */
  fill(id: CertId, response: CachedResponse): void;
  peek(id: CertId): CachedResponse | undefined;
  /** True when a live response for `id` is held (pre-production skips those). */
  has(id: CertId): boolean;
  /**
   * Up to `max` CertIDs of renewing-row entries whose renewal time (expiry − margin) has come, earliest
   * first; each is handed out once (a later put for it schedules it again).
   */
  dueForRenewal(max: number): CertId[];
  /**
   * Drops what a change event made wrong (status/change-events.ts): every entry of `issuer` for one
   * of `serials` (any hash algorithm, any encoding), or for every serial of the issuer with
   * "everything". Returns the CertIDs dropped, so that renewing can sign them again at once.
   */
  evictChanged(issuer: IssuerOfChange, serials: Iterable<Buffer> | "everything"): CertId[];
  /** Drops every entry; returns how many there were. */
  evictAll(): number;
  /** Live entries held. */
  readonly count: number;
  /** Bytes accounted (bodies plus per-entry overhead). */
  readonly bytes: number;
  readonly maxCount: number;
}

/** What one entry costs besides its body (key, CertID, objects): an estimate, for the byte bound. */
export const ENTRY_OVERHEAD_BYTES = 256;

interface Entry {
  readonly key: string;
  readonly id: CertId;
  readonly response: CachedResponse;
  readonly bytes: number;
  /** serialKey of its CertID: entries are grouped by serial for eviction on change. */
  readonly serial: string;
  /** When to renew it, or Infinity (not renewed). */
  readonly renewAt: number;
  expiryPosition: number;
  renewPosition: number;
}

/**
 * A memory tier. `put` keeps a response only when its issuer matches a row of the table, and for
 * min(nextUpdate, now + expiresAfter); responses already expired, larger than `maxBytes`, or older
 * (thisUpdate, then producedAt) than the live entry held for the CertID are not kept (nor are such
 * `fill`s). `get` returns the very object stored (same body Buffer) until it expires. Throws
 * ConfigError naming `maxCount` or `maxBytes` when they are not positive integers.
 */
export function memoryResponseCache(options: MemoryResponseCacheOptions): MemoryResponseCache {
  const { issuers, clock, onEvict } = options;
  const maxCount = requireLimit(options.maxCount, "maxCount");
  const maxBytes = requireLimit(options.maxBytes, "maxBytes");
  const entries = new Map<string, Entry>();
  const byExpiry = new IndexedHeap<Entry>({
    priority: (entry) => entry.response.expiresAt,
    position: (entry) => entry.expiryPosition,
    setPosition: (entry, position) => (entry.expiryPosition = position),
  });
  const byRenewal = new IndexedHeap<Entry>({
    priority: (entry) => entry.renewAt,
    position: (entry) => entry.renewPosition,
    setPosition: (entry, position) => (entry.renewPosition = position),
  });
  /** Entries by serialKey: a change names serials, and finds their entries without a scan. */
  const bySerial = new Map<string, Set<Entry>>();
  let bytes = 0;

  const remove = (entry: Entry): void => {
    entries.delete(entry.key);
    const group = bySerial.get(entry.serial);
    if (group !== undefined && group.delete(entry) && group.size === 0) bySerial.delete(entry.serial);
    byExpiry.remove(entry);
    byRenewal.remove(entry);
    bytes -= entry.bytes;
  };

  const keep = (id: CertId, response: CachedResponse, renewAt: number, now: number): void => {
    const key = cacheKey(id);
    const size = response.body.length + ENTRY_OVERHEAD_BYTES;
    if (size > maxBytes) return;
    const old = entries.get(key);
    if (old !== undefined) {
      // Newer never loses to older: a live entry newer than what is offered stays.
      if (old.response.expiresAt > now && compareAge(response, old.response) < 0) return;
      remove(old);
    }
    // The heap's top is the expired entry if there is one, else the next to expire.
    while (entries.size >= maxCount || bytes + size > maxBytes) {
      remove(byExpiry.peek()!);
      onEvict?.();
    }
    const entry: Entry = { key, id, response, bytes: size, serial: serialKey(id.serialNumber), renewAt, expiryPosition: -1, renewPosition: -1 };
    entries.set(key, entry);
    let group = bySerial.get(entry.serial);
    if (group === undefined) bySerial.set(entry.serial, (group = new Set()));
    group.add(entry);
    bytes += size;
    byExpiry.push(entry);
    if (renewAt !== Infinity) byRenewal.push(entry);
  };

  const live = (id: CertId, now: number): Entry | undefined => {
    const entry = entries.get(cacheKey(id));
    if (entry === undefined) return undefined;
    if (entry.response.expiresAt <= now) {
      remove(entry);
      return undefined;
    }
    return entry;
  };

  return {
    maxCount,
    get count() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
    async get(id) {
      return live(id, clock.now())?.response;
    },
    peek(id) {
      return live(id, clock.now())?.response;
    },
    has(id) {
      return live(id, clock.now()) !== undefined;
    },
    async put(id, response: ResponseToCache) {
      const row = issuers.rowFor(response.issuerNameDer);
      if (row === undefined) return;
      const now = clock.now();
      const expiresAt = Math.min(response.nextUpdate.getTime(), now + row.expiresAfter);
      if (expiresAt <= now) return;
      const cached = cachedResponse({ body: response.body, thisUpdate: response.thisUpdate, nextUpdate: response.nextUpdate, producedAt: response.producedAt, expiresAt }, response);
      keep(id, cached, row.renew === undefined ? Infinity : expiresAt - row.renew.margin, now);
    },
    fill(id, response) {
      const now = clock.now();
      if (response.expiresAt <= now) return;
      keep(id, response, Infinity, now);
    },
    dueForRenewal(max) {
      const now = clock.now();
      const due: CertId[] = [];
      while (due.length < max) {
        const next = byRenewal.peek();
        if (next === undefined || next.renewAt > now) break;
        byRenewal.remove(next);
        if (next.response.expiresAt > now) due.push(next.id);
      }
      return due;
    },
    evictChanged(issuer, serials) {
      const dropped: CertId[] = [];
      const drop = (entry: Entry): void => {
        if (!isOfIssuer(entry.id, issuer)) return;
        remove(entry);
        dropped.push(entry.id);
      };
      if (serials === "everything") {
        for (const entry of [...entries.values()]) drop(entry);
        return dropped;
      }
      for (const serial of serials) {
        const group = bySerial.get(serialKey(serial));
        if (group !== undefined) for (const entry of [...group]) drop(entry);
      }
      return dropped;
    },
    evictAll() {
      const count = entries.size;
      for (const entry of [...entries.values()]) remove(entry);
      return count;
    },
    async close() {
      entries.clear();
      bySerial.clear();
      while (byExpiry.pop() !== undefined);
      while (byRenewal.pop() !== undefined);
      bytes = 0;
    },
  };
}

function requireLimit(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(field, "must be a positive integer");
  return value;
}

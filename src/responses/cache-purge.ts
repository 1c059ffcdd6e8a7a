/**
 * `vouch cache purge` (issue 14 item 3): the operator's emergency brake. Whatever the change events
 * would have dropped, and more: one certificate (serial and issuer), every certificate of an
 * issuer, or everything, from the memory tiers and reused answers of a running process, and from
 * Redis. The request crosses the admin listener and the supervisor's channel as plain JSON.
 */
import { issuerHashes } from "../ocsp/cert-id.ts";
import type { IssuerOfChange } from "./changed-cert-ids.ts";

/** The kind of the supervisor's question that makes each worker purge (serve-worker.ts answers it). */
export const PURGE_ASK = "vouch.cache-purge";

/** What to purge, as it travels: the issuer certificate in base64 DER, the serial's content octets in hex. */
export interface PurgeRequest {
  /** Only this responder's caches (default: every responder's). */
  readonly responder?: string | undefined;
  /** Only this issuer's certificates (base64 of the certificate DER); absent: everything. */
  readonly issuer?: string | undefined;
  /** With `issuer`: only this serial (hex of the INTEGER content octets). */
  readonly serial?: string | undefined;
}

/** What one process purged. */
export interface PurgeResult {
  /** Responses dropped from memory tiers and reused answers. */
  readonly memory: number;
  /** Keys deleted from Redis, or undefined when no responder purged has a Redis tier. */
  readonly redis?: number | undefined;
  /** Redis tiers that could not be reached (their keys stay). */
  readonly redisFailed: number;
  /** Responders purged. */
  readonly responders: readonly string[];
}

/** What the caches are told: an issuer (every hash algorithm) and serials, or everything. */
export type PurgeScope = { readonly kind: "everything" } | { readonly kind: "issuer"; readonly issuer: IssuerOfChange; readonly serials: readonly Buffer[] | "everything" };

/** The scope of `request`; throws TypeError naming the field when it is malformed. */
export function purgeScope(request: PurgeRequest): PurgeScope {
  if (request.issuer === undefined) {
    if (request.serial !== undefined) throw new TypeError("serial: a serial needs its issuer");
    return { kind: "everything" };
  }
  let hashes;
  try {
    hashes = issuerHashes(Buffer.from(request.issuer, "base64"));
  } catch {
    throw new TypeError("issuer: not a certificate (base64 DER)");
  }
  if (request.serial === undefined) return { kind: "issuer", issuer: { hashes }, serials: "everything" };
  if (!/^(?:[0-9a-f]{2})+$/i.test(request.serial)) throw new TypeError("serial: not hex octets");
  return { kind: "issuer", issuer: { hashes }, serials: [Buffer.from(request.serial, "hex")] };
}

/** Adds up the results of several processes (workers). */
export function sumPurgeResults(results: readonly PurgeResult[]): PurgeResult & { readonly processes: number } {
  const redisCounts = results.map((result) => result.redis).filter((count) => count !== undefined);
  return {
    processes: results.length,
    memory: results.reduce((sum, result) => sum + result.memory, 0),
    ...(redisCounts.length === 0 ? {} : { redis: redisCounts.reduce((sum, count) => sum + count, 0) }),
    redisFailed: results.reduce((sum, result) => sum + result.redisFailed, 0),
    responders: [...new Set(results.flatMap((result) => result.responders))],
  };
}

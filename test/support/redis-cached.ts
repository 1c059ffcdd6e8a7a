/**
 * What the end-to-end tests of the Redis response tier share: a `cached` responder that keeps every
 * issuer's answers for an hour in memory and in Redis under a key prefix of the test's own, a start
 * that waits until every worker listens, and the clean-up of that prefix's keys.
 */
import type { Redis } from "ioredis";
import type { Pki } from "../../src/pki/openssl-pki.ts";
import { pkiIssuer, testResponder, type YamlFields } from "./vouch-config.ts";
import { waitForLogs, withMessage } from "./wait-for-log.ts";
import type { VouchProcess } from "./vouch-process.ts";

export interface RedisTier {
  /** Where Redis listens, e.g. redis://127.0.0.1:6379 (or a proxy the test controls). */
  readonly url: string;
  /** The test's own key prefix, so that its keys can be told from any other test's. */
  readonly keyPrefix: string;
  /** How long a Redis command may take before the responder answers without it. */
  readonly timeout: string;
}

/** What a test changes of the usual Redis-cached responder. */
export interface RedisCachedFields {
  /** Fields of the issuer (its sources), replacing or adding to pkiIssuer's. */
  readonly issuer?: YamlFields;
  /** Fields of the responder (its listener), replacing or adding. */
  readonly responder?: YamlFields;
  /** The response cache's one issuer row; every issuer for PT1H unless given. */
  readonly row?: YamlFields;
}

/** A `cached` responder named `cached` answering for `pki`, its response cache in memory and in `redis`. */
export function redisCachedResponder(pki: Pki, redis: RedisTier, fields: RedisCachedFields = {}): YamlFields {
  return testResponder("cached", [pkiIssuer(pki, fields.issuer)], {
    type: "cached",
    responseCache: { issuers: [fields.row ?? { issuer: "*", expiresAfter: "PT1H" }], redis },
    ...fields.responder,
  });
}

/** The arguments that run a server with two worker threads. */
export const TWO_WORKERS = { args: ["--workers", "2"] };

/** `started` once both of its workers log that they listen (the process resolves on the first). */
export async function bothWorkersListening(started: Promise<VouchProcess>): Promise<VouchProcess> {
  const vouch = await started;
  await waitForLogs(vouch, withMessage("listening"), 2);
  return vouch;
}

/** Deletes every key under `prefix`: a test leaves nothing behind in the shared Redis. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { TryLaterError } from "../errors.ts";
import type { CertId, CrlReason } from "../ocsp/types.ts";
import { guardStale } from "./guard-stale.ts";
import type { StatusAnswer, StatusSource } from "./status-source.ts";

const SIGNAL = new AbortController().signal;
const ID: CertId = { hashAlgorithm: "sha1", issuerNameHash: Buffer.alloc(20), issuerKeyHash: Buffer.alloc(20), serialNumber: Buffer.from([1]), der: Buffer.alloc(0) };
const THIS_UPDATE = new Date("2030-01-01T00:00:00Z");
const NEXT_UPDATE = new Date("2030-01-08T00:00:00Z");
const REVOKED_AT = new Date("2029-06-01T00:00:00Z");

function fixed(answer: StatusAnswer | undefined): StatusSource {
  return { status: async () => answer };
}
const revoked = (reason: CrlReason | undefined): StatusAnswer => ({
  kind: "revoked",
  thisUpdate: THIS_UPDATE,
  nextUpdate: NEXT_UPDATE,
  revokedAt: REVOKED_AT,
  reason,
});

describe("guardStale", () => {
  const BEFORE = "2030-01-07T23:59:59Z";
  const AT = "2030-01-08T00:00:00Z";
  const AFTER = "2030-02-01T00:00:00Z";
  const cases: { name: string; answer: StatusAnswer | undefined; now: string; expected: StatusAnswer | undefined | "tryLater" }[] = [
    { name: "fresh good passes", answer: { kind: "good", thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE }, now: BEFORE, expected: { kind: "good", thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE } },
    { name: "good at nextUpdate is stale", answer: { kind: "good", thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE }, now: AT, expected: "tryLater" },
    { name: "stale good", answer: { kind: "good", thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE }, now: AFTER, expected: "tryLater" },
    { name: "stale unknown", answer: { kind: "unknown", thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE }, now: AFTER, expected: "tryLater" },
    { name: "stale not-issued", answer: { kind: "not-issued", thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE }, now: AFTER, expected: "tryLater" },
    { name: "stale certificateHold", answer: revoked("certificateHold"), now: AFTER, expected: "tryLater" },
    { name: "stale keyCompromise passes without nextUpdate", answer: revoked("keyCompromise"), now: AFTER, expected: { ...revoked("keyCompromise"), nextUpdate: undefined } },
    { name: "stale revocation without reason passes without nextUpdate", answer: revoked(undefined), now: AFTER, expected: { ...revoked(undefined), nextUpdate: undefined } },
    { name: "fresh certificateHold passes", answer: revoked("certificateHold"), now: BEFORE, expected: revoked("certificateHold") },
    { name: "live data (no nextUpdate) passes", answer: { kind: "not-issued", thisUpdate: THIS_UPDATE }, now: AFTER, expected: { kind: "not-issued", thisUpdate: THIS_UPDATE } },
    { name: "undefined passes", answer: undefined, now: AFTER, expected: undefined },
  ];
  for (const { name, answer, now, expected } of cases) {
    test(name, async () => {
      const source = guardStale(fixed(answer), fixedClock(now));
      if (expected === "tryLater") {
        await assert.rejects(async () => source.status(ID, SIGNAL), TryLaterError);
      } else {
        assert.deepEqual(await source.status(ID, SIGNAL), expected);
      }
    });
  }

  test("is a layer of answers only: freshness, serials and closing are the issuer's data (source-data.ts)", () => {
    assert.deepEqual(Object.keys(guardStale(fixed(undefined), fixedClock(0))), ["status"]);
  });
});

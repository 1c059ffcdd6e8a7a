import assert from "node:assert/strict";
import { test } from "node:test";
import { fixedClock } from "../clock.ts";
import { TryLaterError } from "../errors.ts";
import { createMetrics, type VouchMetrics } from "../observability/metrics.ts";
import type { CertId } from "../ocsp/types.ts";
import { parseSamples } from "../../test/support/prometheus.ts";
import { meterFreshness, meteredSource } from "./metered-source.ts";
import type { OpenedSource, StatusAnswer } from "./status-source.ts";

const SIGNAL = new AbortController().signal;
const ID: CertId = { hashAlgorithm: "sha1", issuerNameHash: Buffer.alloc(20), issuerKeyHash: Buffer.alloc(20), serialNumber: Buffer.from([1]), der: Buffer.alloc(0) };
const clock = fixedClock("2030-01-01T00:00:00Z");
const LABELS = { responder: "r", issuer: "CN=CA", source: "crl" };

/** A source answering each of `script` in turn (an Error is thrown). */
function scripted(script: (StatusAnswer | undefined | Error)[], freshness?: OpenedSource["freshness"]): OpenedSource {
  let next = 0;
  return {
    async status() {
      const step = script[next++];
      if (step instanceof Error) throw step;
      return step;
    },
    ...(freshness === undefined ? {} : { freshness }),
    close: async () => {},
  };
}

async function values(metrics: VouchMetrics, name: string): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const sample of parseSamples(await metrics.text())) if (sample.name === name) found[sample.labels.result ?? "value"] = sample.value;
  return found;
}

test("meteredSource counts every answer by kind, none for an issuer it does not serve, and error for a rejection it passes on", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  const thisUpdate = new Date(0);
  const stale = new TryLaterError("stale");
  const source = meteredSource(
    scripted([
      { kind: "good", thisUpdate },
      { kind: "good", thisUpdate },
      { kind: "revoked", thisUpdate, revokedAt: thisUpdate },
      { kind: "unknown", thisUpdate },
      { kind: "not-issued", thisUpdate },
      undefined,
      stale,
    ]),
    { metrics, ...LABELS },
  );
  assert.deepEqual(await values(metrics, "vouch_source_results_total"), { good: 0, revoked: 0, unknown: 0, "not-issued": 0, none: 0, error: 0 });
  for (let i = 0; i < 6; i++) await source.status(ID, SIGNAL);
  await assert.rejects(async () => source.status(ID, SIGNAL), (error) => error === stale);
  assert.deepEqual(await values(metrics, "vouch_source_results_total"), { good: 2, revoked: 1, unknown: 1, "not-issued": 1, none: 1, error: 1 });
});

test("meterFreshness reports its source's data age and time to nextUpdate at each scrape, until stopped", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  const data = { loadedAt: clock.now() - 90_000, nextUpdate: clock.now() + 30_000 };
  const opened = scripted([], () => data);
  const stop = meterFreshness(opened, { metrics, ...LABELS });
  assert.deepEqual(opened.freshness!(), data);
  assert.deepEqual(await values(metrics, "vouch_source_data_age_seconds"), { value: 90 });
  assert.deepEqual(await values(metrics, "vouch_source_next_update_seconds"), { value: 30 });
  clock.advance(60_000);
  assert.deepEqual(await values(metrics, "vouch_source_data_age_seconds"), { value: 150 });
  assert.deepEqual(await values(metrics, "vouch_source_next_update_seconds"), { value: -30 });
  stop();
  assert.deepEqual(await values(metrics, "vouch_source_data_age_seconds"), {});
});

test("meteredSource has no freshness and meterFreshness no gauge for a live source", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  const source = meteredSource(scripted([]), { metrics, ...LABELS });
  meterFreshness(scripted([]), { metrics, ...LABELS });
  assert.equal("freshness" in source, false);
  assert.deepEqual(await values(metrics, "vouch_source_data_age_seconds"), {});
});

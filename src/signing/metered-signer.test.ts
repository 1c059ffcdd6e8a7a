import assert from "node:assert/strict";
import { test } from "node:test";
import { fixedClock } from "../clock.ts";
import { InternalError } from "../errors.ts";
import { createMetrics, type VouchMetrics } from "../observability/metrics.ts";
import { parseSamples } from "../../test/support/prometheus.ts";
import { meteredSigner } from "./metered-signer.ts";
import { ECDSA_WITH_SHA256 } from "./signature-algorithms.ts";
import type { Signer } from "./signer.ts";

const clock = fixedClock("2030-01-01T00:00:00Z");
const CERTIFICATE = Buffer.from([0x30, 0x00]);

const signs = (signature: Buffer): Signer => ({ certificate: CERTIFICATE, algorithms: [ECDSA_WITH_SHA256], sign: async () => signature });
const failing = (error: Error): Signer => ({ certificate: CERTIFICATE, algorithms: [ECDSA_WITH_SHA256], sign: () => Promise.reject(error) });
const throwing = (error: Error): Signer => ({
  certificate: CERTIFICATE,
  algorithms: [ECDSA_WITH_SHA256],
  sign: () => {
    throw error;
  },
});

async function results(metrics: VouchMetrics): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const sample of parseSamples(await metrics.text())) if (sample.name === "vouch_signer_results_total") found[sample.labels.result!] = sample.value;
  return found;
}

test("meteredSigner counts signatures and passes them on; it keeps the certificate and algorithms", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  const signer = meteredSigner(signs(Buffer.from("sig")), { metrics, responder: "r", issuer: "CN=CA" });
  assert.equal(signer.certificate, CERTIFICATE);
  assert.deepEqual(signer.algorithms, [ECDSA_WITH_SHA256]);
  assert.deepEqual(await signer.sign(Buffer.from("tbs"), ECDSA_WITH_SHA256), Buffer.from("sig"));
  assert.deepEqual(await results(metrics), { signed: 1, error: 0 });
});

test("meteredSigner counts a rejection or a synchronous throw as error and passes the same error on", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  const error = new InternalError("token removed");
  await assert.rejects(async () => meteredSigner(failing(error), { metrics, responder: "r", issuer: "CN=CA" }).sign(Buffer.alloc(1), ECDSA_WITH_SHA256), (e) => e === error);
  await assert.rejects(async () => meteredSigner(throwing(error), { metrics, responder: "r", issuer: "CN=CA" }).sign(Buffer.alloc(1), ECDSA_WITH_SHA256), (e) => e === error);
  assert.deepEqual(await results(metrics), { signed: 0, error: 2 });
});

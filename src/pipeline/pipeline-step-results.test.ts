/**
 * The pipeline runner reports every step's result (STYLE convention 9), so that no step counts its
 * own: answered, passed, or the OCSP error status; decoding reports as step "decode". Steps here are
 * hand-written fakes; the request is a real one from `openssl ocsp -reqout`, the metrics a real registry.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { TryLaterError, UnauthorizedError } from "../errors.ts";
import { recordingLogger } from "../observability/logger.ts";
import { createMetrics, type VouchMetrics } from "../observability/metrics.ts";
import { stepResultRecorders } from "../observability/step-results.ts";
import { certificateSerial, createPki, type Pki } from "../pki/openssl-pki.ts";
import { opensslRequest } from "../../test/support/openssl.ts";
import { parseSamples } from "../../test/support/prometheus.ts";
import { issuerDirectory } from "../issuers/issuer-directory.ts";
import { createExchange } from "./exchange.ts";
import { pipeline } from "./pipeline.ts";
import type { Step } from "./step.ts";
import type { StepName } from "./step-names.ts";
import { sendStep } from "./steps/10-send.ts";

const clock = fixedClock("2030-01-01T00:00:00Z");
/** The steps here are fakes: which issuers the responder serves does not matter to them. */
const NO_ISSUERS = issuerDirectory([]);
let pki: Pki;
let request: Buffer;

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-step-results-")), "pki") });
  request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
});

const passes = (name: StepName): Step => ({ name, run() {} });
const answers = (name: StepName): Step => ({
  name,
  run(exchange) {
    exchange.response = { body: Buffer.from([0x30, 0x00]), producedAt: new Date(0), cacheWindow: undefined };
  },
});
const failing = (name: StepName, error: Error): Step => ({
  name,
  run() {
    throw error;
  },
});
const neverCalled = (name: StepName): Step => ({
  name,
  run() {
    throw new Error(`${name} must not run`);
  },
});

async function run(metrics: VouchMetrics, deciding: Step[], received: Buffer, logger = recordingLogger()): Promise<void> {
  const steps = pipeline({ deciding, finishing: [sendStep({ clock })], rules: { maxSingleRequests: 10, noncePolicy: "optional", nonceMaxLength: 32 }, issuers: NO_ISSUERS, logger, clock, stepResults: stepResultRecorders(metrics, "r") });
  await steps.run(createExchange({ received, method: "POST", clientAddress: "192.0.2.7", ifNoneMatch: undefined, signal: new AbortController().signal, startedAt: clock.now() }));
}

/** The non-zero step results, as "step result=count". */
async function counted(metrics: VouchMetrics): Promise<string[]> {
  return parseSamples(await metrics.text())
    .filter((sample) => sample.name === "vouch_step_results_total" && sample.value !== 0)
    .map((sample) => `${sample.labels.step} ${sample.labels.result}=${sample.value}`)
    .sort();
}

test("a step that answers is counted answered (a cache hit), the steps before it passed, the ones after not at all", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  await run(metrics, [passes("authorization"), answers("response-cache"), neverCalled("local-validation")], request);
  await run(metrics, [passes("authorization"), answers("response-cache"), neverCalled("local-validation")], request);
  assert.deepEqual(await counted(metrics), ["authorization passed=2", "decode passed=2", "response-cache answered=2", "send passed=2"]);
});

test("a step that passes (a cache miss) and one that fails are counted with the failure's OCSP status", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  await run(metrics, [passes("response-cache"), failing("local-validation", new TryLaterError("stale")), neverCalled("sign")], request);
  await run(metrics, [failing("authorization", new UnauthorizedError("no")), neverCalled("sign")], request);
  await run(metrics, [failing("sign", new Error("a bug"))], request);
  assert.deepEqual(await counted(metrics), [
    "authorization unauthorized=1",
    "decode passed=3",
    "local-validation tryLater=1",
    "response-cache passed=1",
    "send passed=3",
    "sign internalError=1",
  ]);
});

test("bytes that do not decode count as step decode failing malformedRequest", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  await run(metrics, [neverCalled("local-validation")], Buffer.from("not DER"));
  assert.deepEqual(await counted(metrics), ["decode malformedRequest=1", "send passed=1"]);
});

test("every result of every step is exported at 0 from the start", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  pipeline({ deciding: [passes("sign")], finishing: [], rules: { maxSingleRequests: 1, noncePolicy: "optional", nonceMaxLength: 32 }, issuers: NO_ISSUERS, logger: recordingLogger(), clock, stepResults: stepResultRecorders(metrics, "r") });
  const zero = parseSamples(await metrics.text()).filter((sample) => sample.name === "vouch_step_results_total" && sample.labels.step === "sign");
  assert.deepEqual(zero.map((sample) => sample.labels.result).sort(), ["answered", "internalError", "malformedRequest", "passed", "sigRequired", "tryLater", "unauthorized"]);
  assert.ok(zero.every((sample) => sample.value === 0));
});

test("a refusal is logged with the step, result, client, and the serial and issuerKeyHash asked about", async () => {
  const logger = recordingLogger();
  await run(createMetrics({ clock, processMetrics: false }), [failing("authorization", new UnauthorizedError("not on the list"))], request, logger);
  const record = logger.records.find((entry) => entry.message === "request refused");
  assert.ok(record !== undefined);
  assert.equal(record.fields.step, "authorization");
  assert.equal(record.fields.result, "unauthorized");
  assert.equal(record.fields.client, "192.0.2.7");
  assert.equal(record.fields.serial, await certificateSerial(pki.good));
  assert.match(String(record.fields.issuerKeyHash), /^[0-9a-f]{40}$/);
  assert.equal(record.fields.reason, "not on the list");
});

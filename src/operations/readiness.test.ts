/**
 * Readiness with real key-file signers from a generated PKI (a real test signature, verified with
 * node:crypto) and hand-written fakes for the failures a token can have.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { InternalError } from "../errors.ts";
import { createPki, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { keyFileSigner } from "../signing/key-file-signer.ts";
import type { Signer } from "../signing/signer.ts";
import { combineReadyReports, readinessCheck, withComponents, type ReadinessTarget, type ReadyReport } from "./readiness.ts";

let pki: Pki;
let signer: Signer;
let caCertificate: Buffer;
// Inside the signer certificate's validity (it is valid from the PKI's creation).
const clock = fixedClock(Date.now() + 3_600_000);

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-ready-")), "pki"), caKeyType: "rsa-2048" });
  caCertificate = await readPemDer(pki.ca);
  signer = await keyFileSigner({ keyFile: pki.signerKey, certificate: await readPemDer(pki.signer), rsaPadding: "pss", field: "signer.key" });
});

type Data = ReadinessTarget["data"];
const live: Data = {};
const loaded = (freshness: ReturnType<NonNullable<Data["freshness"]>>): Data => ({ freshness: () => freshness });

/** Counts its signatures (and can be told to fail or hang). */
function counting(inner: Signer, behaviour: "sign" | "fail" | "hang" = "sign"): Signer & { calls: number } {
  const wrapped = {
    calls: 0,
    certificate: inner.certificate,
    algorithms: inner.algorithms,
    sign(tbs: Buffer, algorithm: Signer["algorithms"][number]) {
      wrapped.calls++;
      if (behaviour === "fail") return Promise.reject(new InternalError("CKR_DEVICE_REMOVED"));
      if (behaviour === "hang") return new Promise<Buffer>(() => {});
      return inner.sign(tbs, algorithm);
    },
  };
  return wrapped;
}

const check = (data: Data, testSigner: Signer, options: { interval?: number; timeout?: number } = {}) =>
  readinessCheck({ targets: [{ responder: "r", issuer: "CN=CA", data, signer: testSigner }], clock, signerTestIntervalMs: options.interval ?? 5000, signerTestTimeoutMs: options.timeout });

describe("readinessCheck", () => {
  test("ready with live data, or loaded data before its nextUpdate, and a signer whose test signature verifies", async () => {
    for (const source of [live, loaded({ loadedAt: 0 }), loaded({ loadedAt: 0, nextUpdate: clock.now() + 1 })]) {
      assert.deepEqual(await check(source, signer)(), { ready: true, issuers: [{ responder: "r", issuer: "CN=CA", ready: true, problems: [] }] });
    }
  });

  test("not ready without data, or with data at or past its nextUpdate", async () => {
    assert.deepEqual((await check(loaded(undefined), signer)()).issuers[0]!.problems, ["no revocation data loaded"]);
    const stale = await check(loaded({ loadedAt: 0, nextUpdate: clock.now() }), signer)();
    assert.equal(stale.ready, false);
    assert.match(stale.issuers[0]!.problems[0]!, /past its nextUpdate \(\d{4}-/);
  });

  test("a stale source that knows why (an sql store out of reach) says so; the same problem while still current is not a failure", async () => {
    const problem = "the sql store postgres://db/x cannot be read: Connection terminated unexpectedly";
    const stale = await check(loaded({ loadedAt: 0, nextUpdate: clock.now(), problem }), signer)();
    assert.match(stale.issuers[0]!.problems[0]!, /^revocation data is past its nextUpdate \(\d{4}-.*\): the sql store postgres:\/\/db\/x cannot be read: Connection terminated unexpectedly$/);
    const current = await check(loaded({ loadedAt: clock.now(), nextUpdate: clock.now() + 1000, problem }), signer)();
    assert.equal(current.ready, true, "answers are still within maxStaleness");
  });

  test("not ready when the test signature fails, does not verify with the certificate's key, or hangs", async () => {
    const failed = await check(live, counting(signer, "fail"))();
    assert.deepEqual(failed.issuers[0]!.problems, ["signer test signature failed: CKR_DEVICE_REMOVED"]);
    const otherKey = await check(live, { ...signer, certificate: caCertificate })();
    assert.match(otherKey.issuers[0]!.problems[0]!, /does not verify with the signer certificate's key/);
    const hung = await check(live, counting(signer, "hang"), { timeout: 30 })();
    assert.deepEqual(hung.issuers[0]!.problems, ["signer test signature timed out after 30 ms"]);
  });

  test("not ready when the signer certificate has expired", async () => {
    const later = fixedClock("2099-01-01T00:00:00Z");
    const report = await readinessCheck({ targets: [{ responder: "r", issuer: "CN=CA", data: live, signer }], clock: later })();
    assert.match(report.issuers[0]!.problems[0]!, /^signer certificate is not valid now \(valid \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)$/);
  });

  test("reuses a test signature for the interval, shares it between overlapping checks and issuers of one signer", async () => {
    const probe = counting(signer);
    const ready = readinessCheck({
      targets: [
        { responder: "a", issuer: "CN=CA", data: live, signer: probe },
        { responder: "b", issuer: "CN=CA", data: live, signer: probe },
      ],
      clock,
      signerTestIntervalMs: 5000,
    });
    await Promise.all([ready(), ready()]);
    clock.advance(4999);
    assert.equal((await ready()).ready, true);
    assert.equal(probe.calls, 1);
    clock.advance(1);
    await ready();
    assert.equal(probe.calls, 2);
  });

  test("reports every issuer, and is ready only when all are", async () => {
    const report = await readinessCheck({
      targets: [
        { responder: "a", issuer: "CN=One", data: live, signer },
        { responder: "a", issuer: "CN=Two", data: loaded(undefined), signer },
      ],
      clock,
    })();
    assert.equal(report.ready, false);
    assert.deepEqual(report.issuers.map((issuer) => [issuer.issuer, issuer.ready]), [["CN=One", true], ["CN=Two", false]]);
  });
});

describe("combineReadyReports", () => {
  const report = (ready: boolean, problems: string[] = []): ReadyReport => ({ ready, issuers: [{ responder: "r", issuer: "CN=CA", ready, problems }] });

  test("is ready only when every process is, with each issuer's problems merged", () => {
    assert.deepEqual(combineReadyReports([report(true), report(true)]), report(true));
    assert.deepEqual(combineReadyReports([report(true), report(false, ["x"]), report(false, ["x", "y"])]), report(false, ["x", "y"]));
  });

  test("no reports at all is not ready", () => {
    assert.deepEqual(combineReadyReports([]), { ready: false, issuers: [] });
  });
});

describe("components", () => {
  const issuers = async (): Promise<ReadyReport> => ({ ready: true, issuers: [{ responder: "r", issuer: "CN=CA", ready: true, problems: [] }] });
  const redisDown = { responder: "r", component: "redis", state: "degraded", problems: ["redis down"] } as const;
  const billingBroken = { responder: "r", component: "billing", state: "failing", problems: ["cannot write"] } as const;

  test("withComponents: a degraded component is listed and stays ready; a failing one is not ready; working ones are left out", async () => {
    assert.deepEqual(await withComponents(issuers, [async () => undefined])(), await issuers());
    assert.deepEqual(await withComponents(issuers, [async () => redisDown])(), { ...(await issuers()), components: [redisDown] });
    const failing = await withComponents(issuers, [async () => redisDown, async () => billingBroken])();
    assert.equal(failing.ready, false);
    assert.deepEqual(failing.components, [redisDown, billingBroken]);
  });

  test("combineReadyReports: a component failing in one process fails the whole, with every process's problems", () => {
    const healthy = { ready: true, issuers: [] };
    const combined = combineReadyReports([
      { ready: true, issuers: [], components: [redisDown] },
      { ready: false, issuers: [], components: [{ ...redisDown, state: "failing", problems: ["redis down", "other"] }] },
      healthy,
    ]);
    assert.deepEqual(combined, { ready: false, issuers: [], components: [{ responder: "r", component: "redis", state: "failing", problems: ["redis down", "other"] }] });
    assert.deepEqual(combineReadyReports([healthy, healthy]), healthy);
  });
});

import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { createPki, readPemDer } from "../pki/openssl-pki.ts";
import type { CertificateValidator, ValidationResult } from "./certificate-validator.ts";
import { rememberValidations } from "./remembered-validations.ts";

let leaf: Buffer;
before(async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-remember-")), "pki") });
  leaf = await readPemDer(pki.good);
});

/** A validator that answers `results` in turn and counts its calls. */
function answering(...results: ValidationResult[]): CertificateValidator & { calls: number } {
  const fake = {
    calls: 0,
    authenticate: async () => results[Math.min(fake.calls++, results.length - 1)]!,
  };
  return fake;
}

const ok: ValidationResult = { ok: true, chain: [] };
const revoked: ValidationResult = { ok: false, failed: "revoked", detail: "revoked" };
const signal = new AbortController().signal;

test("a successful validation is remembered for the TTL, then run again", async () => {
  const clock = fixedClock("2026-11-24T12:00:00Z");
  const inner = answering(ok, revoked);
  const validator = rememberValidations(inner, { ttlMs: 10_000, maxEntries: 10, clock });
  assert.equal((await validator.authenticate(leaf, "request-signing", signal)).ok, true);
  clock.advance(9_000);
  assert.equal((await validator.authenticate(leaf, "request-signing", signal)).ok, true);
  assert.equal(inner.calls, 1, "remembered");
  clock.advance(2_000);
  assert.deepEqual(await validator.authenticate(leaf, "request-signing", signal), revoked, "after the TTL the revocation is seen");
  assert.equal(inner.calls, 2);
});

test("failures are never remembered, and purposes are remembered apart", async () => {
  const clock = fixedClock("2026-11-24T12:00:00Z");
  const inner = answering(revoked, ok, ok);
  const validator = rememberValidations(inner, { ttlMs: 10_000, maxEntries: 10, clock });
  assert.equal((await validator.authenticate(leaf, "request-signing", signal)).ok, false);
  assert.equal((await validator.authenticate(leaf, "request-signing", signal)).ok, true);
  await validator.authenticate(leaf, "tls-client-auth", signal);
  assert.equal(inner.calls, 3);
});

test("a TTL of 0 remembers nothing", async () => {
  const inner = answering(ok);
  const validator = rememberValidations(inner, { ttlMs: 0, maxEntries: 10, clock: fixedClock("2026-11-24T12:00:00Z") });
  await validator.authenticate(leaf, "request-signing", signal);
  await validator.authenticate(leaf, "request-signing", signal);
  assert.equal(inner.calls, 2);
});

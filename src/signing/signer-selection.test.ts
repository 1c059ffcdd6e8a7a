import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import type { SignerIdentity } from "./responder-identity.ts";
import { ECDSA_WITH_SHA256, ECDSA_WITH_SHA384, ML_DSA_65, SHA256_WITH_RSA, type KnownSignatureAlgorithm } from "./signature-algorithms.ts";
import { chooseSigner, selectSigners } from "./signer-selection.ts";
import { signerRotation } from "./signer-rotation.ts";

const HOUR = 3_600_000;

function identity(name: string, algorithms: readonly KnownSignatureAlgorithm[], notBefore: number, notAfter: number, activateAfter = 0): SignerIdentity {
  return {
    signer: { certificate: Buffer.from(name), algorithms, sign: () => Buffer.from(name) },
    responderIdDer: Buffer.from(name),
    certsDer: [Buffer.from(name)],
    notBefore,
    notAfter,
    activateAt: notBefore + activateAfter,
    serial: name,
    postQuantum: algorithms[0] === ML_DSA_65,
  };
}

const p256 = [ECDSA_WITH_SHA256, ECDSA_WITH_SHA384];

describe("selectSigners", () => {
  test("only a signer valid now signs; the newest valid one is the default", () => {
    const old = identity("old", p256, 0, 10 * HOUR);
    const next = identity("next", p256, 5 * HOUR, 20 * HOUR);
    assert.equal(selectSigners([old, next], 1 * HOUR).defaultChoice?.identity, old);
    assert.equal(selectSigners([old, next], 6 * HOUR).defaultChoice?.identity, next);
    assert.equal(selectSigners([old, next], 15 * HOUR).defaultChoice?.identity, next);
    assert.equal(selectSigners([old, next], 21 * HOUR).defaultChoice, undefined);
    assert.equal(selectSigners([next], 1 * HOUR).defaultChoice, undefined, "not yet valid");
  });

  test("activateAfter keeps the older signer until the overlap has passed, unless it is the only valid one", () => {
    const old = identity("old", p256, 0, 10 * HOUR);
    const next = identity("next", p256, 5 * HOUR, 20 * HOUR, 2 * HOUR);
    assert.equal(selectSigners([old, next], 6 * HOUR).defaultChoice?.identity, old);
    assert.equal(selectSigners([old, next], 7 * HOUR).defaultChoice?.identity, next);
    const expiredOld = identity("old", p256, 0, 5.5 * HOUR);
    assert.equal(selectSigners([expiredOld, next], 6 * HOUR).defaultChoice?.identity, next);
  });

  test("the selection holds until the next notBefore, activation or notAfter", () => {
    const old = identity("old", p256, 0, 10 * HOUR);
    const next = identity("next", p256, 5 * HOUR, 20 * HOUR, 2 * HOUR);
    const selection = selectSigners([old, next], 1 * HOUR);
    assert.equal(selection.from, 0);
    assert.equal(selection.until, 5 * HOUR);
    assert.equal(selectSigners([old, next], 8 * HOUR).until, 10 * HOUR + 1);
  });

  test("a post-quantum signer is the default only when no classical one is valid", () => {
    const classical = identity("p256", p256, 0, 10 * HOUR);
    const mlDsa = identity("mldsa", [ML_DSA_65], 1 * HOUR, 20 * HOUR);
    assert.equal(selectSigners([classical, mlDsa], 2 * HOUR).defaultChoice?.identity, classical);
    assert.equal(selectSigners([classical, mlDsa], 11 * HOUR).defaultChoice?.identity, mlDsa);
  });
});

describe("chooseSigner", () => {
  const classical = identity("p256", p256, 0, 10 * HOUR);
  const rsa = identity("rsa", [SHA256_WITH_RSA], 0, 10 * HOUR);
  const mlDsa = identity("mldsa", [ML_DSA_65], 0, 10 * HOUR);
  const selection = selectSigners([classical, mlDsa, rsa], HOUR);
  const der = (algorithm: KnownSignatureAlgorithm) => ({ oid: algorithm.identifier.oid, der: algorithm.identifier.der });

  test("a client preferring ML-DSA gets the ML-DSA signer, marked as chosen for it", () => {
    const choice = chooseSigner(selection, [der(ML_DSA_65)]);
    assert.equal(choice?.identity, mlDsa);
    assert.equal(choice?.algorithm, ML_DSA_65);
    assert.equal(choice?.preferred, true);
  });

  test("the client's first algorithm that any signer supports wins", () => {
    assert.equal(chooseSigner(selection, [der(ECDSA_WITH_SHA384), der(ML_DSA_65)])?.algorithm, ECDSA_WITH_SHA384);
    assert.equal(chooseSigner(selection, [{ oid: "1.2.3.4", der: Buffer.from("300506032a0304", "hex") }, der(ML_DSA_65)])?.identity, mlDsa);
  });

  test("no preference, or none supported, gets the default signer and algorithm", () => {
    assert.equal(chooseSigner(selection, []), selection.defaultChoice);
    assert.equal(chooseSigner(selection, [{ oid: "1.2.3.4", der: Buffer.from("300506032a0304", "hex") }]), selection.defaultChoice);
    assert.equal(chooseSigner(selection, [der(ECDSA_WITH_SHA256)]), selection.defaultChoice);
    assert.equal(selection.defaultChoice?.identity.serial, "p256", "both classical signers have the same notBefore: the list order decides");
  });

  test("an expired ML-DSA signer is never chosen, even when asked for", () => {
    const later = selectSigners([classical, identity("mldsa", [ML_DSA_65], 0, 0.5 * HOUR)], HOUR);
    assert.equal(chooseSigner(later, [der(ML_DSA_65)])?.identity, classical);
  });
});

describe("signerRotation", () => {
  test("follows the clock across a rollover, reports each change once, and takes replaced signers", () => {
    const clock = fixedClock(HOUR);
    const changes: string[] = [];
    const old = identity("old", p256, 0, 10 * HOUR);
    const next = identity("next", p256, 5 * HOUR, 20 * HOUR);
    const rotation = signerRotation([old, next], { clock, onChange: (_previous, selection) => changes.push(selection.defaultChoice?.identity.serial ?? "none") });
    assert.equal(rotation.choose([], HOUR)?.identity, old);
    assert.equal(rotation.choose([], 2 * HOUR)?.identity, old);
    assert.equal(rotation.choose([], 6 * HOUR)?.identity, next);
    assert.equal(rotation.choose([], 21 * HOUR), undefined);
    assert.deepEqual(changes, ["old", "next", "none"]);
    clock.set(21 * HOUR);
    assert.equal(rotation.signer, next.signer, "with none valid, the identity shows the newest signer");
    const renewed = identity("renewed", p256, 21 * HOUR, 40 * HOUR);
    rotation.replace([old, next, renewed]);
    assert.equal(rotation.choose([], 21 * HOUR)?.identity, renewed);
    assert.equal(rotation.responderIdDer, renewed.responderIdDer);
    assert.deepEqual(changes, ["old", "next", "none", "renewed"]);
  });
});

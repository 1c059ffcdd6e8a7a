import assert from "node:assert/strict";
import { test } from "node:test";
import { InternalError, TryLaterError } from "../errors.ts";
import { boundedSigner } from "./bounded-signer.ts";
import type { SignatureAlgorithm, Signer } from "./signer.ts";
import { signingLimiter } from "./signing-limiter.ts";

const ALGORITHM: SignatureAlgorithm = { name: "test", identifier: { oid: "1.2.3", der: Buffer.from([0x30, 0x00]) } };

/** A signer whose signatures finish only when the test says so; `started` lists the tbs it was asked to sign. */
function slowSigner(): Signer & { started: string[]; finish(tbs: string): void; fail(tbs: string): void } {
  const pending = new Map<string, { resolve: (signature: Buffer) => void; reject: (error: Error) => void }>();
  const started: string[] = [];
  return {
    certificate: Buffer.from("certificate"),
    algorithms: [ALGORITHM],
    started,
    sign: (tbs) =>
      new Promise((resolve, reject) => {
        started.push(tbs.toString());
        pending.set(tbs.toString(), { resolve, reject });
      }),
    finish: (tbs) => pending.get(tbs)!.resolve(Buffer.from(`signed ${tbs}`)),
    fail: (tbs) => pending.get(tbs)!.reject(new InternalError(`token failed on ${tbs}`)),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("boundedSigner runs maxInFlight signatures, queues maxQueue, and refuses the next with TryLaterError at once", async () => {
  const inner = slowSigner();
  const limiter = signingLimiter({ maxInFlight: 2, maxQueue: 1 });
  const signer = boundedSigner(inner, limiter);
  const a = signer.sign(Buffer.from("a"), ALGORITHM);
  const b = signer.sign(Buffer.from("b"), ALGORITHM);
  const c = signer.sign(Buffer.from("c"), ALGORITHM);
  await assert.rejects(async () => signer.sign(Buffer.from("d"), ALGORITHM), TryLaterError);
  assert.deepEqual(inner.started, ["a", "b"], "only maxInFlight signatures start");
  assert.deepEqual([limiter.inFlight, limiter.queued], [2, 1]);
  inner.finish("a");
  assert.equal((await a).toString(), "signed a");
  await tick();
  assert.deepEqual(inner.started, ["a", "b", "c"], "a finished signature lets the queued one start");
  inner.finish("b");
  inner.finish("c");
  assert.deepEqual((await Promise.all([b, c])).map(String), ["signed b", "signed c"]);
  assert.deepEqual([limiter.inFlight, limiter.queued], [0, 0], "every slot is given back");
});

test("a failing signature frees its slot and keeps its own error", async () => {
  const inner = slowSigner();
  const limiter = signingLimiter({ maxInFlight: 1, maxQueue: 1 });
  const signer = boundedSigner(inner, limiter);
  const failing = Promise.resolve(signer.sign(Buffer.from("x"), ALGORITHM));
  const queued = signer.sign(Buffer.from("y"), ALGORITHM);
  inner.fail("x");
  await assert.rejects(failing, InternalError);
  await tick();
  inner.finish("y");
  assert.equal((await queued).toString(), "signed y");
  assert.equal(limiter.inFlight, 0);
});

test("a signer that throws synchronously frees its slot too", async () => {
  const limiter = signingLimiter({ maxInFlight: 1, maxQueue: 0 });
  const throwing: Signer = {
    certificate: Buffer.alloc(0),
    algorithms: [ALGORITHM],
    sign: () => {
      throw new InternalError("no session");
    },
  };
  await assert.rejects(async () => boundedSigner(throwing, limiter).sign(Buffer.from("x"), ALGORITHM), InternalError);
  assert.equal(limiter.inFlight, 0);
});

test("with maxQueue 0 every signature beyond maxInFlight is refused, and the limiter is shared by its signers", async () => {
  const first = slowSigner();
  const second = slowSigner();
  const limiter = signingLimiter({ maxInFlight: 1, maxQueue: 0 });
  const running = boundedSigner(first, limiter).sign(Buffer.from("a"), ALGORITHM);
  await assert.rejects(async () => boundedSigner(second, limiter).sign(Buffer.from("b"), ALGORITHM), TryLaterError);
  assert.deepEqual(second.started, []);
  first.finish("a");
  await running;
  const after = boundedSigner(second, limiter).sign(Buffer.from("c"), ALGORITHM);
  second.finish("c");
  assert.equal((await after).toString(), "signed c");
});

test("waiters start in arrival order, across a long queue", async () => {
  const inner = slowSigner();
  const signer = boundedSigner(inner, signingLimiter({ maxInFlight: 1, maxQueue: 3000 }));
  const names = Array.from({ length: 2500 }, (_, index) => String(index));
  const signatures = names.map((name) => signer.sign(Buffer.from(name), ALGORITHM));
  for (const name of names) {
    while (!inner.started.includes(name)) await tick();
    inner.finish(name);
  }
  assert.deepEqual((await Promise.all(signatures)).map(String), names.map((name) => `signed ${name}`));
  assert.deepEqual(inner.started, names);
});

test("signingLimiter refuses limits that are not whole numbers", () => {
  assert.throws(() => signingLimiter({ maxInFlight: 0, maxQueue: 1 }), RangeError);
  assert.throws(() => signingLimiter({ maxInFlight: 1, maxQueue: -1 }), RangeError);
  assert.throws(() => signingLimiter({ maxInFlight: 1.5, maxQueue: 1 }), RangeError);
});

/** A signer that signs on the calling thread, as a P-256 key file does: the signature, no promise. */
function inlineSigner(): Signer & { signed: string[] } {
  const signed: string[] = [];
  return {
    certificate: Buffer.from("certificate"),
    algorithms: [ALGORITHM],
    signed,
    sign: (tbs) => {
      signed.push(tbs.toString());
      return Buffer.from(`inline ${tbs}`);
    },
  };
}

test("an inline signature with a slot free is returned as it is, not as a promise, and frees its slot at once", () => {
  const limiter = signingLimiter({ maxInFlight: 1, maxQueue: 0 });
  const signature = boundedSigner(inlineSigner(), limiter).sign(Buffer.from("x"), ALGORITHM);
  assert.ok(Buffer.isBuffer(signature));
  assert.equal(signature.toString(), "inline x");
  assert.equal(limiter.inFlight, 0);
  assert.equal(boundedSigner(inlineSigner(), limiter).sign(Buffer.from("y"), ALGORITHM).toString(), "inline y");
});

test("inline signatures queued behind a slow one all run, in order, once it finishes (a long queue does not nest calls)", async () => {
  const slow = slowSigner();
  const inline = inlineSigner();
  const limiter = signingLimiter({ maxInFlight: 1, maxQueue: 20_000 });
  const first = boundedSigner(slow, limiter).sign(Buffer.from("slow"), ALGORITHM);
  const names = Array.from({ length: 20_000 }, (_, index) => String(index));
  const queued = names.map((name) => boundedSigner(inline, limiter).sign(Buffer.from(name), ALGORITHM));
  assert.equal(limiter.queued, names.length);
  assert.deepEqual(inline.signed, []);
  slow.finish("slow");
  await first;
  assert.deepEqual((await Promise.all(queued)).map(String), names.map((name) => `inline ${name}`));
  assert.deepEqual(inline.signed, names);
  assert.equal(limiter.inFlight, 0);
  assert.equal(limiter.queued, 0);
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { circuitBreakers } from "./circuit-breaker.ts";

const A = "http://a.example/";
const B = "http://b.example/";

function breakers() {
  const clock = fixedClock("2026-12-01T12:00:00Z");
  return { clock, breakers: circuitBreakers({ failureThreshold: 3, coolDownMs: 30_000, clock }) };
}

describe("circuitBreakers", () => {
  test("a circuit opens after the threshold of consecutive failures, and only for that URL", () => {
    const { breakers: b } = breakers();
    b.failure(A);
    b.failure(A);
    assert.equal(b.admit(A), true, "two failures do not open it");
    b.failure(A);
    assert.equal(b.state(A), "open");
    assert.equal(b.admit(A), false);
    assert.equal(b.admit(B), true);
    assert.equal(b.state(B), "closed");
  });

  test("a success resets the count: failures must be consecutive", () => {
    const { breakers: b } = breakers();
    b.failure(A);
    b.failure(A);
    b.success(A);
    b.failure(A);
    b.failure(A);
    assert.equal(b.state(A), "closed");
    assert.equal(b.admit(A), true);
  });

  test("after the cool-down one trial goes through; its success closes the circuit", () => {
    const { clock, breakers: b } = breakers();
    for (let i = 0; i < 3; i++) b.failure(A);
    clock.advance(29_999);
    assert.equal(b.admit(A), false, "still cooling down");
    clock.advance(1);
    assert.equal(b.state(A), "half-open");
    assert.equal(b.admit(A), true, "the trial");
    assert.equal(b.admit(A), false, "only one trial at a time");
    b.success(A);
    assert.equal(b.state(A), "closed");
    assert.equal(b.admit(A), true);
    assert.equal(b.admit(A), true);
  });

  test("a failed trial reopens the circuit for a whole new cool-down", () => {
    const { clock, breakers: b } = breakers();
    for (let i = 0; i < 3; i++) b.failure(A);
    clock.advance(30_000);
    assert.equal(b.admit(A), true);
    b.failure(A);
    assert.equal(b.state(A), "open");
    clock.advance(29_000);
    assert.equal(b.admit(A), false);
    clock.advance(1_000);
    assert.equal(b.admit(A), true);
  });

  test("a released trial frees the half-open slot without closing the circuit", () => {
    const { clock, breakers: b } = breakers();
    for (let i = 0; i < 3; i++) b.failure(A);
    clock.advance(30_000);
    assert.equal(b.admit(A), true);
    b.release(A);
    assert.equal(b.state(A), "half-open");
    assert.equal(b.admit(A), true, "another trial may go");
  });

  test("a threshold below one is refused", () => {
    assert.throws(() => circuitBreakers({ failureThreshold: 0, coolDownMs: 1, clock: fixedClock(0) }), RangeError);
  });
});

test("opening and closing again are told once each; states() lists every URL that failed with its state", () => {
  const clock = fixedClock("2026-12-01T12:00:00Z");
  const changes: string[] = [];
  const b = circuitBreakers({ failureThreshold: 2, coolDownMs: 1000, clock, onChange: (url, change, failures) => changes.push(`${url} ${change} ${failures}`) });
  b.failure(A);
  b.failure(A);
  assert.deepEqual([...b.states()], [[A, "open"]]);
  clock.advance(1000);
  assert.equal(b.admit(A), true);
  b.failure(A);
  clock.advance(1000);
  assert.equal(b.admit(A), true);
  assert.deepEqual([...b.states()], [[A, "half-open"]]);
  b.success(A);
  b.success(A);
  assert.deepEqual(changes, [`${A} opened 2`, `${A} closed 3`], "a failed trial reopens silently; a success on a closed circuit says nothing");
  assert.deepEqual([...b.states()], [[A, "closed"]]);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { inFlight } from "./in-flight.ts";

test("idle() resolves once every hold is released, and a double release counts once", async () => {
  const counter = inFlight();
  await counter.idle();
  const first = counter.hold();
  const second = counter.hold();
  let idle = false;
  const waiting = counter.idle().then(() => (idle = true));
  first();
  first();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(idle, false, "one user is left");
  assert.equal(counter.count, 1);
  second();
  await waiting;
  assert.equal(counter.count, 0);
});

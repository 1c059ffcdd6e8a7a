import assert from "node:assert/strict";
import { test } from "node:test";
import type { CertId } from "../ocsp/types.ts";
import { recheckingSource } from "./recheck.ts";
import type { StatusAnswer, StatusSource } from "./status-source.ts";

const SIGNAL = new AbortController().signal;
const idOf = (serial: number[]): CertId => ({ hashAlgorithm: "sha1", issuerNameHash: Buffer.alloc(20), issuerKeyHash: Buffer.alloc(20), serialNumber: Buffer.from(serial), der: Buffer.alloc(0) });

/** A source whose answer the test changes, as a refresh would. */
function changing(): StatusSource & { kind: "good" | "revoked" } {
  const source = {
    kind: "good" as "good" | "revoked",
    status(): StatusAnswer {
      const thisUpdate = new Date(0);
      return source.kind === "good" ? { kind: "good", thisUpdate } : { kind: "revoked", thisUpdate, revokedAt: new Date(0) };
    },
  };
  return source;
}

test("a held serial waits for the look, then answers what the source says after it; others answer at once", async () => {
  const inner = changing();
  const source = recheckingSource(inner);
  let look!: () => void;
  const looked = new Promise<void>((resolve) => (look = resolve));
  // A padded serial in the report holds the minimal one a client sends.
  source.hold([Buffer.from([0x00, 0x10, 0x01])], looked);
  const held = source.status(idOf([0x10, 0x01]), SIGNAL);
  assert.ok(held instanceof Promise, "the held serial waits");
  assert.equal((source.status(idOf([0x10, 0x02]), SIGNAL) as StatusAnswer).kind, "good", "another serial answers at once");
  inner.kind = "revoked";
  look();
  assert.equal((await held)?.kind, "revoked");
  await looked;
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(!(source.status(idOf([0x10, 0x01]), SIGNAL) instanceof Promise), "released after the look");
});

test("everything holds every serial; a failed look releases them too", async () => {
  const source = recheckingSource(changing());
  let fail!: (error: Error) => void;
  source.hold("everything", new Promise<void>((_resolve, reject) => (fail = reject)));
  const held = source.status(idOf([0x7f]), SIGNAL);
  assert.ok(held instanceof Promise);
  fail(new Error("database away"));
  assert.equal((await held)?.kind, "good");
});

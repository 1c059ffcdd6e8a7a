import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TryLaterError } from "../errors.ts";
import type { CertId } from "../ocsp/types.ts";
import { firstAnswer } from "./first-answer.ts";
import type { StatusAnswer, StatusSource } from "./status-source.ts";

const SIGNAL = new AbortController().signal;
const ID: CertId = { hashAlgorithm: "sha1", issuerNameHash: Buffer.alloc(20), issuerKeyHash: Buffer.alloc(20), serialNumber: Buffer.from([1]), der: Buffer.alloc(0) };
const GOOD: StatusAnswer = { kind: "good", thisUpdate: new Date(0) };
const NOT_ISSUED: StatusAnswer = { kind: "not-issued", thisUpdate: new Date(0) };

/** A source that records its calls, answering `answer` (or throwing it). */
function recording(name: string, log: string[], answer: StatusAnswer | undefined | Error): StatusSource {
  return {
    async status() {
      log.push(name);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

describe("firstAnswer", () => {
  test("returns the first answer that is not undefined, without asking later sources", async () => {
    const log: string[] = [];
    const source = firstAnswer([recording("a", log, undefined), recording("b", log, NOT_ISSUED), recording("c", log, GOOD)]);
    assert.equal(await source.status(ID, SIGNAL), NOT_ISSUED);
    assert.deepEqual(log, ["a", "b"]);
  });

  test("answers undefined when no source serves the issuer", async () => {
    const log: string[] = [];
    assert.equal(await firstAnswer([recording("a", log, undefined), recording("b", log, undefined)]).status(ID, SIGNAL), undefined);
    assert.equal(await firstAnswer([]).status(ID, SIGNAL), undefined);
  });

  test("propagates an error from a source serving the issuer instead of asking the next", async () => {
    const log: string[] = [];
    const source = firstAnswer([recording("a", log, new TryLaterError("stale")), recording("b", log, GOOD)]);
    await assert.rejects(async () => source.status(ID, SIGNAL), TryLaterError);
    assert.deepEqual(log, ["a"]);
  });

  test("is a layer of answers only: freshness, serials and closing are the issuer's data (source-data.ts)", () => {
    assert.deepEqual(Object.keys(firstAnswer([recording("a", [], GOOD)])), ["status"]);
  });
});

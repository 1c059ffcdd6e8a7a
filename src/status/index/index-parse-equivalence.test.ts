import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ConfigError } from "../../errors.ts";
import { parseIndex } from "./index-parse.ts";
import { readIndexFile } from "./read-index-file.ts";
import { serialTableFromParts, type SerialTable } from "../table/serial-table.ts";
import { parseIndex as parseIndexReference } from "./test-support/index-parse-reference.ts";
import { prng as random } from "../../../test/support/prng.ts";

const REVOCATIONS = [
  "261124085940Z",
  "20261124085940Z",
  "261124085940Z,keyCompromise",
  "261124085940Z,KEYCOMPROMISE",
  "261124085940Z,CACompromise",
  "261124085940Z,superseded",
  "261124085940Z,cessationOfOperation",
  "261124085940Z,affiliationChanged",
  "261124085940Z,unspecified",
  "261124085940Z,certificateHold",
  "261124085940Z,certificateHold,1.2.840.10040.2.2",
  "261124085940Z,holdInstruction,holdInstructionReject",
  "261124085940Z,removeFromCRL",
  "261124085940Z,keyTime,20240101120000Z",
  "261124085940Z,CAkeyTime,20240101120000Z",
  "991231235959Z,keyCompromise",
  "000101000000Z,superseded",
];

/** An index.txt of well-formed but varied lines: case, padding, negative serials, duplicates, CRLF, empty lines. */
function validIndex(seed: number, lines: number): string {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const serials: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    let serial: string;
    const shape = next();
    if (shape < 0.1 && serials.length > 0) serial = pick(serials); // a duplicate, in another status
    else if (shape < 0.15) serial = `-${Math.floor(next() * 0xffffff).toString(16)}`;
    else if (shape < 0.25) serial = `00${Math.floor(next() * 0xffffffff).toString(16)}`;
    else if (shape < 0.3) serial = Math.floor(next() * 16).toString(16);
    else serial = (BigInt(Math.floor(next() * 2 ** 52)) * 2654435761n + BigInt(i)).toString(16);
    if (next() < 0.3) serial = serial.toUpperCase();
    serials.push(serial);
    const status = pick(["V", "V", "E", "R", "R", "R"]);
    const expiry = pick(["291231235959Z", "20501231235959Z", "491231235959Z", "280229120000Z"]);
    const revocation = status === "R" ? pick(REVOCATIONS) : "";
    const subject = pick(["/CN=x", "/C=SE/O=Vouch/CN=host", "/CN=tab\there", ""]);
    out.push(`${status}\t${expiry}\t${revocation}\t${serial}\t${pick(["unknown", "01.pem"])}\t${subject}${next() < 0.05 ? "\r" : ""}`);
    if (next() < 0.02) out.push("");
  }
  return out.join("\n") + (next() < 0.5 ? "\n" : "");
}

const BROKEN_LINES = [
  "V\t291231235959Z\t\t1A",
  "V\t2912312359Z\t\t1A\tunknown\t/CN=x",
  "V\t291231235959Z\t\tXYZ\tunknown\t/CN=x",
  "V\t291231235959Z\t\t\tunknown\t/CN=x",
  "Q\t291231235959Z\t\t1A\tunknown\t/CN=x",
  "VV\t291231235959Z\t\t1A\tunknown\t/CN=x",
  "V\t291231235959Z\t261124085940Z\t1A\tunknown\t/CN=x",
  "R\t291231235959Z\t\t1A\tunknown\t/CN=x",
  "R\t291231235959Z\t261124085940Z,fellOffATruck\t1A\tunknown\t/CN=x",
  "R\t291231235959Z\t261124085940Z,keyCompromise,x\t1A\tunknown\t/CN=x",
  "R\t291231235959Z\t261124085940Z,holdInstruction\t1A\tunknown\t/CN=x",
  "R\t291231235959Z\t261124085940Z,keyTime\t1A\tunknown\t/CN=x",
  "R\t291231235959Z\t261324085940Z\t1A\tunknown\t/CN=x",
  "R\t291231235959Z\t261124085940Z,a,b,c\t1A\tunknown\t/CN=x",
  `V\t291231235959Z\t\t${"A".repeat(600)}\tunknown\t/CN=x`,
];

/** Every serial of both tables answers the same, and they are the same size. */
function assertSameTable(actual: SerialTable, expected: SerialTable): void {
  assert.equal(actual.size, expected.size);
  for (const serial of expected.serials()) assert.deepEqual(actual.lookup(serial), expected.lookup(serial), `serial ${serial.toString("hex")}`);
  for (const serial of actual.serials()) assert.notEqual(expected.lookup(serial), undefined, `serial ${serial.toString("hex")}`);
}

async function outcome(parse: () => Promise<SerialTable>): Promise<SerialTable | string> {
  try {
    return await parse();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return `${error.field} ${error.message} ${error.file}`;
  }
}

describe("the index parsers agree with the previous parser", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-index-equivalence-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** Parses `text` with the reference, from memory, and from a file in chunks of several sizes; all must agree. */
  async function assertAllAgree(text: string): Promise<void> {
    const content = Buffer.from(text, "latin1");
    const file = join(dir, "index.txt");
    await writeFile(file, content);
    const expected = await outcome(() => parseIndexReference(content, file));
    const actuals = [await outcome(() => parseIndex(content, file))];
    for (const chunk of [7, 64, 1000, 1 << 21]) actuals.push(await outcome(async () => serialTableFromParts(readIndexFile(file, { chunkBytes: chunk }))));
    for (const actual of actuals) {
      if (typeof expected === "string") assert.equal(actual, expected);
      else if (typeof actual === "string") assert.fail(`reference parsed it, this one failed: ${actual}`);
      else assertSameTable(actual, expected);
    }
  }

  for (const seed of [1, 2, 3, 4, 5]) {
    test(`on generated valid lines (seed ${seed})`, async () => {
      const text = validIndex(seed, 3000);
      assert.ok((await parseIndexReference(Buffer.from(text, "latin1"), "index.txt")).size > 2000, "the generated lines are valid");
      await assertAllAgree(text);
    });
  }

  test("on an empty file, blank lines only, and a last line without a newline", async () => {
    await assertAllAgree("");
    await assertAllAgree("\n\n\r\n");
    await assertAllAgree("V\t291231235959Z\t\t1A\tunknown\t/CN=x");
  });

  for (const [i, broken] of BROKEN_LINES.entries()) {
    test(`on a broken line among good ones: ${JSON.stringify(broken.slice(0, 60))}`, async () => {
      const good = validIndex(100 + i, 200).split("\n");
      good.splice(50 + i, 0, broken);
      await assertAllAgree(good.join("\n"));
    });
  }
});

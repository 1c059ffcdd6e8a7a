import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../errors.ts";
import { parseIndex, parseRevocationField } from "./index-parse.ts";
import { serialOctetsFromHex } from "../serial-key.ts";
import type { SerialRecord } from "../table/serial-table.ts";

const octets = (hex: string): Buffer => serialOctetsFromHex(hex) ?? Buffer.alloc(0);

const T = (iso: string): number => new Date(iso).getTime();
const line = (status: string, revocation: string, serial: string): string => `${status}\t291231235959Z\t${revocation}\t${serial}\tunknown\t/CN=x`;

describe("parseRevocationField", () => {
  // [field, code, revocation time (default 2026-11-24T08:59:40Z), invalidity date (default none)]
  const AT = "2026-11-24T08:59:40Z";
  const reads: [string, number, string?, string?][] = [
    ["261124085940Z", 0xff], ["20261124085940Z", 0xff], ["991231235959Z,unspecified", 0, "1999-12-31T23:59:59Z"], ["261124085940Z,keyCompromise", 1],
    ["261124085940Z,CACompromise", 2], ["261124085940Z,affiliationChanged", 3], ["261124085940Z,superseded", 4], ["261124085940Z,cessationOfOperation", 5],
    ["261124085940Z,certificateHold", 6], ["261124085940Z,certificateHold,1.2.840.10040.2.2", 6], ["261124085940Z,holdInstruction,1.2.840.10040.2.3", 6],
    ["261124085940Z,holdInstruction,holdInstructionReject", 6], ["261124085940Z,removeFromCRL", 8], ["261124085940Z,keyTime,20240101120000Z", 1, AT, "2024-01-01T12:00:00Z"],
    ["261124085940Z,CAkeyTime,20240101120000Z", 2, AT, "2024-01-01T12:00:00Z"], ["261124085940Z,KEYCOMPROMISE", 1],
  ];
  const cases = reads.map(([field, code, revokedAt = AT, invalidity]) => ({ field, expected: { revokedAt: T(revokedAt), code, invalidityDate: invalidity === undefined ? Number.NaN : T(invalidity) } }));
  for (const { field, expected } of cases) {
    test(`reads ${field}`, () => assert.deepEqual(parseRevocationField(field), expected));
  }

  const broken: { field: string; problem: RegExp }[] = [
    ...["", "2611240859Z", "261324085940Z", "260230085940Z", "261124085940+0100"].map((field) => ({ field, problem: /revocation time/ })),
    { field: "261124085940Z,fellOffATruck", problem: /unknown revocation reason/ },
    { field: "261124085940Z,keyCompromise,20240101120000Z", problem: /takes no argument/ },
    ...["261124085940Z,holdInstruction", "261124085940Z,certificateHold,not an oid"].map((field) => ({ field, problem: /hold instruction OID/ })),
    ...["261124085940Z,keyTime", "261124085940Z,CAkeyTime,yesterday"].map((field) => ({ field, problem: /compromise time/ })),
    { field: "261124085940Z,keyTime,20240101120000Z,x", problem: /more than three/ },
  ];
  for (const { field, problem } of broken) {
    test(`rejects "${field}"`, () => {
      const result = parseRevocationField(field);
      assert.equal(typeof result, "string");
      assert.match(String(result), problem);
    });
  }
});

describe("parseIndex", () => {
  test("lists V and E lines as not revoked, R lines as revoked, keyed by canonical serial", async () => {
    const content = [
      line("V", "", "0A1B"),
      line("E", "", "00ff"),
      line("R", "261124085940Z,keyTime,20240101120000Z", "ABC"),
      line("R", "261124085940Z,removeFromCRL", "DEF0"),
      "",
    ].join("\n");
    const table = await parseIndex(Buffer.from(content), "index.txt");
    const none: SerialRecord = { revokedAt: undefined, reason: undefined, invalidityDate: undefined };
    assert.deepEqual(table.lookup(octets("A1B")), none);
    assert.deepEqual(table.lookup(octets("FF")), none);
    assert.deepEqual(table.lookup(octets("ABC")), { revokedAt: T("2026-11-24T08:59:40Z"), reason: "keyCompromise", invalidityDate: T("2024-01-01T12:00:00Z") });
    assert.deepEqual(table.lookup(octets("DEF0")), none, "removeFromCRL means the hold was lifted");
    assert.equal(table.lookup(octets("1234")), undefined);
    assert.equal(table.size, 4);
  });

  test("accepts CRLF line ends, blank lines and a missing final newline", async () => {
    const table = await parseIndex(Buffer.from(`${line("V", "", "01")}\r\n\r\n${line("R", "261124085940Z", "02")}`), "index.txt");
    assert.equal(table.lookup(octets("1"))?.revokedAt, undefined);
    assert.equal(table.lookup(octets("2"))?.revokedAt, T("2026-11-24T08:59:40Z"));
  });

  test("lets a revoked line win over a valid line for the same serial", async () => {
    const table = await parseIndex(Buffer.from([line("R", "261124085940Z,superseded", "05"), line("V", "", "5")].join("\n")), "index.txt");
    assert.equal(table.lookup(octets("5"))?.reason, "superseded");
  });

  test("reads every line of a file long enough to span several time slices", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => line(i % 3 === 0 ? "R" : "V", i % 3 === 0 ? "261124085940Z" : "", (i + 1).toString(16)));
    const table = await parseIndex(Buffer.from(lines.join("\n")), "index.txt");
    assert.equal(table.size, 20_000);
    // Line i (0-based) has serial i + 1 and is revoked when i is a multiple of 3.
    assert.equal(table.lookup(octets("3E8"))?.revokedAt, T("2026-11-24T08:59:40Z"));
    assert.equal(table.lookup(octets("3E7"))?.revokedAt, undefined);
    assert.equal(table.lookup(octets("8"))?.revokedAt, undefined);
    assert.equal(table.lookup(octets("7"))?.revokedAt, T("2026-11-24T08:59:40Z"));
  });

  const malformed: { name: string; text: string; lineNumber: number; problem: RegExp }[] = [
    { name: "too few fields", text: "V\t291231235959Z\t\t01", lineNumber: 1, problem: /6 tab-separated fields/ },
    { name: "an unknown status", text: `${line("V", "", "01")}\n${line("X", "", "02")}`, lineNumber: 2, problem: /status "X"/ },
    { name: "a bad expiry", text: `\n\n${"V\t29123123Z\t\t01\tunknown\t/CN=x"}`, lineNumber: 3, problem: /expiry/ },
    { name: "a non-hex serial", text: line("V", "", "12G4"), lineNumber: 1, problem: /serial "12G4"/ },
    { name: "an R line without revocation", text: line("R", "", "01"), lineNumber: 1, problem: /no revocation field/ },
    { name: "a V line with a revocation", text: line("V", "261124085940Z", "01"), lineNumber: 1, problem: /has a revocation field/ },
    { name: "a bad reason", text: line("R", "261124085940Z,sorry", "01"), lineNumber: 1, problem: /unknown revocation reason/ },
  ];
  for (const { name, text, lineNumber, problem } of malformed) {
    test(`rejects ${name} with a ConfigError naming the file and line ${lineNumber}`, async () => {
      await assert.rejects(parseIndex(Buffer.from(text), "/ca/index.txt"), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.file, "/ca/index.txt");
        assert.match(error.message, new RegExp(`^line ${lineNumber}: `));
        assert.match(error.message, problem);
        return true;
      });
    });
  }
});

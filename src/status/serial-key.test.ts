import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serialKeyFromHex, serialKeyFromInteger, serialOctetsFromHex } from "./serial-key.ts";

describe("serialKeyFromInteger", () => {
  const cases: { octets: number[]; key: string }[] = [
    { octets: [0x00], key: "0" },
    { octets: [0x01], key: "1" },
    { octets: [0x0a, 0xbc], key: "ABC" },
    { octets: [0x00, 0xab], key: "AB" },
    { octets: [0x00, 0x00, 0x00, 0xab], key: "AB" },
    { octets: [0x00, 0x00, 0x0a, 0xbc], key: "ABC" },
    { octets: [0x7f, 0xff], key: "7FFF" },
    { octets: [0xff], key: "-1" },
    { octets: [0x80], key: "-80" },
    { octets: [0xff, 0x7f], key: "-81" },
    { octets: [0xab], key: "-55" },
    { octets: [], key: "" },
  ];
  for (const { octets, key } of cases) {
    test(`keys ${Buffer.from(octets).toString("hex") || "(empty)"} as "${key}"`, () => {
      assert.equal(serialKeyFromInteger(Buffer.from(octets)), key);
    });
  }
});

describe("serialKeyFromHex", () => {
  const cases: { text: string; key: string | undefined }[] = [
    { text: "00AB", key: "AB" },
    { text: "ab", key: "AB" },
    { text: "0AB", key: "AB" },
    { text: "0", key: "0" },
    { text: "0000", key: "0" },
    { text: "-55", key: "-55" },
    { text: "-0", key: "0" },
    { text: "334E6C519389BEC8", key: "334E6C519389BEC8" },
    { text: "", key: undefined },
    { text: "0x12", key: undefined },
    { text: "12 34", key: undefined },
    { text: "-", key: undefined },
  ];
  for (const { text, key } of cases) {
    test(`keys "${text}" as ${String(key)}`, () => assert.equal(serialKeyFromHex(text), key));
  }

  test("meets serialKeyFromInteger on the same serial", () => {
    for (const hex of ["00AB", "7F", "0100", "334E6C519389BEC8"]) {
      assert.equal(serialKeyFromHex(hex), serialKeyFromInteger(Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex")));
    }
  });
});

describe("serialOctetsFromHex", () => {
  const cases: { text: string; octets: string | undefined }[] = [
    { text: "AB", octets: "00ab" },
    { text: "00ab", octets: "00ab" },
    { text: "0AB", octets: "00ab" },
    { text: "7f", octets: "7f" },
    { text: "ABC", octets: "0abc" },
    { text: "-55", octets: "ffab" },
    { text: "-80", octets: "ff80" },
    { text: "zz", octets: undefined },
  ];
  for (const { text, octets } of cases) {
    test(`encodes "${text}" as ${String(octets)}`, () => assert.equal(serialOctetsFromHex(text)?.toString("hex"), octets));
  }

  test("round-trips through serialKeyFromInteger", () => {
    for (const hex of ["AB", "7F", "-55", "-80", "-1", "334E6C519389BEC8"]) {
      assert.equal(serialKeyFromInteger(serialOctetsFromHex(hex) ?? Buffer.alloc(0)), hex);
    }
  });
});

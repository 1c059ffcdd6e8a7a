import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeOid, encodeOid } from "./der-oid.ts";
import { DerReader } from "./der-reader.ts";
import {
  GENERALIZED_TIME_LENGTH,
  bitString,
  boolean,
  enumerated,
  generalizedTime,
  generalizedTimeLength,
  headerLength,
  integer,
  octetString,
  oid,
  tlv,
  tlvLength,
  writeGeneralizedTime,
} from "./der-writer.ts";

const hex = (b: Buffer): string => b.toString("hex");

describe("tlv lengths are minimal", () => {
  const lengths: [number, string][] = [
    [0, "0400"],
    [127, "047f"],
    [128, "048180"],
    [255, "0481ff"],
    [256, "04820100"],
    [65535, "0482ffff"],
    [65536, "0483010000"],
  ];
  for (const [length, header] of lengths) {
    test(`${length} content octets → ${header}`, () => {
      const der = tlv(0x04, Buffer.alloc(length));
      assert.equal(hex(der.subarray(0, headerLength(length))), header);
      assert.equal(der.length, headerLength(length) + length);
      assert.equal(tlvLength(length), der.length);
      // And our strict reader reads it back.
      assert.equal(DerReader.of(der, "t").octetString("t").length, length);
    });
  }
});

describe("primitive helpers", () => {
  const vectors: [string, Buffer, string][] = [
    ["INTEGER 0", integer(0), "020100"],
    ["INTEGER 127", integer(127), "02017f"],
    ["INTEGER 128", integer(128), "02020080"],
    ["INTEGER 256", integer(256), "02020100"],
    ["INTEGER -1", integer(-1), "0201ff"],
    ["INTEGER -128", integer(-128), "020180"],
    ["INTEGER -129", integer(-129), "0202ff7f"],
    ["INTEGER from content octets", integer(Buffer.of(0x00, 0x8f)), "0202008f"],
    ["ENUMERATED 1", enumerated(1), "0a0101"],
    ["BOOLEAN TRUE", boolean(true), "0101ff"],
    ["BOOLEAN FALSE", boolean(false), "010100"],
    ["OCTET STRING", octetString(Buffer.of(1, 2)), "04020102"],
    ["BIT STRING", bitString(Buffer.of(0xab)), "030200ab"],
    ["OID sha256WithRSAEncryption", oid("1.2.840.113549.1.1.11"), "06092a864886f70d01010b"],
    ["OID id-pkix-ocsp-basic", oid("1.3.6.1.5.5.7.48.1.1"), "06092b0601050507300101"],
  ];
  for (const [name, der, expected] of vectors) test(`${name} → ${expected}`, () => assert.equal(hex(der), expected));

  test("INTEGER refuses non-minimal or empty content", () => {
    assert.throws(() => integer(Buffer.of(0x00, 0x01)), RangeError);
    assert.throws(() => integer(Buffer.alloc(0)), RangeError);
    assert.throws(() => integer(1.5), RangeError);
  });
});

/** The number written as `count` ASCII digits at `at`, or NaN if any is not a digit. */
function digits(buf: Buffer, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = (buf[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

describe("GeneralizedTime (RFC 5280: YYYYMMDDHHMMSSZ)", () => {
  const times: [string, string][] = [
    ["2024-02-29T23:59:59.999Z", "20240229235959Z"],
    ["1999-01-02T03:04:05Z", "19990102030405Z"],
    ["2050-12-31T00:00:00Z", "20501231000000Z"],
    ["1969-12-31T23:59:59.999Z", "19691231235959Z"],
    ["0000-01-01T00:00:00Z", "00000101000000Z"],
    ["0099-03-04T05:06:07Z", "00990304050607Z"],
    ["9999-12-31T23:59:59.999Z", "99991231235959Z"],
  ];
  for (const [iso, text] of times) {
    test(`${iso} → ${text} (fraction dropped)`, () => {
      const der = generalizedTime(new Date(iso));
      assert.equal(der[0], 0x18);
      assert.equal(der.subarray(2).toString("latin1"), text);
    });
  }
  test("every day of the years 0 to 9999 matches Date's own calendar, at a time of day that varies", () => {
    const first = new Date(0).setUTCFullYear(0, 0, 1); // Date.UTC would read year 0 as 1900
    const end = Date.UTC(10000, 0, 1);
    const out = Buffer.alloc(GENERALIZED_TIME_LENGTH);
    for (let day = first, n = 0; day < end; day += 86_400_000, n++) {
      const date = new Date(day + ((n * 7_919_333) % 86_400_000)); // 7919333 is prime: every ms of a day in turn
      writeGeneralizedTime(out, 0, date);
      const fields = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
      const written = [digits(out, 2, 4), digits(out, 6, 2), digits(out, 8, 2), digits(out, 10, 2), digits(out, 12, 2), digits(out, 14, 2)];
      if (written.some((value, i) => value !== fields[i]) || out[16] !== 0x5a) assert.fail(`${date.toISOString()}: wrote ${out.toString("latin1", 2)}`);
    }
  });

  test("the first and last millisecond that fit, and the ones just outside", () => {
    const first = new Date(0).setUTCFullYear(0, 0, 1);
    const end = Date.UTC(10000, 0, 1);
    assert.equal(generalizedTime(new Date(first)).toString("latin1", 2), "00000101000000Z");
    assert.equal(generalizedTime(new Date(end - 1)).toString("latin1", 2), "99991231235959Z");
    assert.throws(() => generalizedTime(new Date(first - 1)), { name: "RangeError", message: "year -1 does not fit GeneralizedTime" });
    assert.throws(() => generalizedTime(new Date(end)), { name: "RangeError", message: "year 10000 does not fit GeneralizedTime" });
    assert.throws(() => generalizedTime(new Date(8.64e15)), { name: "RangeError", message: "year 275760 does not fit GeneralizedTime" });
    assert.throws(() => generalizedTime(new Date(-8.64e15)), { name: "RangeError", message: "year -271821 does not fit GeneralizedTime" });
  });

  const unfit: [string, Date, RegExp][] = [
    ["an invalid date", new Date(Number.NaN), /^invalid Date$/],
    ["year 10000", new Date(Date.UTC(10000, 0, 1)), /^year 10000 does not fit GeneralizedTime$/],
    ["year -1", new Date(new Date(0).setUTCFullYear(-1, 11, 31)), /^year -1 does not fit GeneralizedTime$/],
  ];
  for (const [name, date, message] of unfit) {
    test(`refuses ${name}, and so do generalizedTimeLength and writeGeneralizedTime, writing nothing`, () => {
      assert.throws(() => generalizedTime(date), { name: "RangeError", message });
      assert.throws(() => generalizedTimeLength(date), { name: "RangeError", message });
      const out = Buffer.alloc(GENERALIZED_TIME_LENGTH);
      assert.throws(() => writeGeneralizedTime(out, 0, date), { name: "RangeError", message });
      assert.deepEqual(out, Buffer.alloc(GENERALIZED_TIME_LENGTH));
    });
  }

  test("writeGeneralizedTime writes generalizedTime's octets at an offset, and nothing around them", () => {
    const date = new Date("2024-02-29T23:59:59.999Z");
    const out = Buffer.alloc(3 + GENERALIZED_TIME_LENGTH + 3, 0xee);
    assert.equal(writeGeneralizedTime(out, 3, date), 3 + GENERALIZED_TIME_LENGTH);
    assert.deepEqual(out.subarray(3, 3 + GENERALIZED_TIME_LENGTH), generalizedTime(date));
    assert.deepEqual(Buffer.concat([out.subarray(0, 3), out.subarray(-3)]), Buffer.alloc(6, 0xee));
    assert.equal(generalizedTimeLength(date), GENERALIZED_TIME_LENGTH);
  });
});

describe("OBJECT IDENTIFIER codec", () => {
  const round: string[] = ["0.0", "1.2.840.10045.4.3.2", "2.5.29.24", "2.999.3", "1.3.6.1.4.1.2390.3.5", "2.25.329800735698586629295641978511506172918"];
  for (const dotted of round) {
    test(`${dotted} round-trips`, () => assert.equal(decodeOid(encodeOid(dotted)), dotted));
  }
  test("encodings are cached", () => assert.equal(encodeOid("1.2.3.4.5"), encodeOid("1.2.3.4.5")));
  const bad = ["", "1", "3.1", "1.40", "1.2.", "1..2", "01.2", "a.b"];
  for (const text of bad) test(`refuses ${JSON.stringify(text)}`, () => assert.throws(() => encodeOid(text), RangeError));
});

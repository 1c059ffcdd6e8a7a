import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { serialKeyFromHex, serialKeyFromInteger, serialOctetsFromHex, serialText } from "./serial-key.ts";

const run = promisify(execFile);

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
  // [text, key]: padding and case do not matter; a leading "-" is openssl's negative serial; not hex is undefined.
  const cases: [string, string | undefined][] = [
    ["00AB", "AB"], ["ab", "AB"], ["0AB", "AB"], ["0", "0"], ["0000", "0"], ["-55", "-55"], ["-0", "0"], ["334E6C519389BEC8", "334E6C519389BEC8"],
    ["", undefined], ["0x12", undefined], ["12 34", undefined], ["-", undefined],
  ];
  for (const [text, key] of cases) {
    test(`keys "${text}" as ${String(key)}`, () => assert.equal(serialKeyFromHex(text), key));
  }

  test("meets serialKeyFromInteger on the same serial", () => {
    for (const hex of ["00AB", "7F", "0100", "334E6C519389BEC8"]) {
      assert.equal(serialKeyFromHex(hex), serialKeyFromInteger(Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex")));
    }
  });
});

describe("serialOctetsFromHex", () => {
  // [text, octets]: positive values keep a 0x00 before a set top bit; negative ones are two's complement.
  const cases: [string, string | undefined][] = [["AB", "00ab"], ["00ab", "00ab"], ["0AB", "00ab"], ["7f", "7f"], ["ABC", "0abc"], ["-55", "ffab"], ["-80", "ff80"], ["zz", undefined]];
  for (const [text, octets] of cases) {
    test(`encodes "${text}" as ${String(octets)}`, () => assert.equal(serialOctetsFromHex(text)?.toString("hex"), octets));
  }

  test("round-trips through serialKeyFromInteger", () => {
    for (const hex of ["AB", "7F", "-55", "-80", "-1", "334E6C519389BEC8"]) {
      assert.equal(serialKeyFromInteger(serialOctetsFromHex(hex) ?? Buffer.alloc(0)), hex);
    }
  });
});

describe("serialText", () => {
  // The serials are written by `openssl req -set_serial` and read back with `openssl x509 -serial`:
  // Vouch must print every one of them exactly as openssl does.
  for (const serial of ["0", "5", "0x0ABC", "0x7F", "0x80", "0x80112233", "0x00FF00", "0x8000000000000000000000000000000000000001", "-4660", "-128"]) {
    test(`prints serial ${serial} as openssl x509 -serial does`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "vouch-serial-"));
      const file = join(dir, "cert.pem");
      await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "key.pem"), "-subj", "/CN=serial", "-set_serial", serial, "-out", file]);
      const { stdout } = await run("openssl", ["x509", "-in", file, "-serial", "-noout"]);
      const der = Buffer.from(new X509Certificate(await readFile(file)).raw);
      assert.equal(`serial=${serialText(certificateFields(der).serialNumber)}`, stdout.trim());
    });
  }
  test("writes redundant leading zero octets away and keeps empty content empty", () => {
    assert.equal(serialText(Buffer.from([0x00, 0x00, 0x0a, 0xbc])), "0ABC");
    assert.equal(serialText(Buffer.from([0xff, 0x7f])), "-81");
    assert.equal(serialText(Buffer.alloc(0)), "");
  });
});

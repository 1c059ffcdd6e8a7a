import assert from "node:assert/strict";
import { test } from "node:test";
import { minimalSerial } from "./minimal-serial.ts";

const minimal = (hex: string) => minimalSerial(Buffer.from(hex, "hex")).toString("hex");

test("a DER INTEGER's content is kept as it is, negative ones included", () => {
  for (const hex of ["00", "01", "7f", "0080", "00ff80", "80", "ff", "ff7f", "8000"]) assert.equal(minimal(hex), hex);
});

test("redundant leading octets go: 0x00 before an octet below 0x80, 0xff before one from 0x80", () => {
  assert.equal(minimal("000001"), "01");
  assert.equal(minimal("000080"), "0080");
  assert.equal(minimal("0000"), "00");
  // Negative: -128 padded twice is -128; 0xff before 0x7f is the sign of -129 and stays.
  assert.equal(minimal("ffff80"), "80");
  assert.equal(minimal("ffff7f"), "ff7f");
  assert.equal(minimal("ffff"), "ff");
});

test("it reads octets as a signed INTEGER, not as a positive number: ff80 is -128, not 65408", () => {
  // Why `vouch query --serial ff80` (hex text, a positive number) cannot use it: it would ask for 0x80.
  assert.equal(minimal("ff80"), "80");
});

test("a view of the input, not a copy", () => {
  const serial = Buffer.from("000001", "hex");
  const view = minimalSerial(serial);
  serial[2] = 0x02;
  assert.equal(view.toString("hex"), "02");
});

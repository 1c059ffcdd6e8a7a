import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { test } from "node:test";
import { ecdsaRawToDer } from "./ecdsa-signature.ts";

test("r || s becomes the DER ECDSA-Sig-Value: leading zeros dropped, 0x00 added before a set top bit", () => {
  const cases: [raw: string, der: string][] = [
    ["0102" + "0304", "3008020201020202" + "0304"],
    ["8001" + "7f02", "30090203008001" + "02027f02"],
    ["0000" + "0005", "3006020100" + "020105"],
    ["0080" + "00ff", "300802020080" + "020200ff"],
  ];
  for (const [raw, der] of cases) assert.equal(ecdsaRawToDer(Buffer.from(raw, "hex")).toString("hex"), der, raw);
});

test("node:crypto verifies the DER made from its own P-256 and P-384 signatures in IEEE P1363 form", () => {
  for (const namedCurve of ["P-256", "P-384"]) {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve });
    for (let i = 0; i < 100; i++) {
      const data = randomBytes(40);
      const raw = sign("sha256", data, { key: privateKey, dsaEncoding: "ieee-p1363" });
      assert.ok(verify("sha256", data, publicKey, ecdsaRawToDer(raw)), `${namedCurve} #${i}`);
    }
  }
});

test("an empty or odd-length signature is refused", () => {
  assert.throws(() => ecdsaRawToDer(Buffer.alloc(0)), RangeError);
  assert.throws(() => ecdsaRawToDer(Buffer.alloc(63)), RangeError);
});

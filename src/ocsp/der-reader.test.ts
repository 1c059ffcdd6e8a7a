import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MalformedRequestError } from "../errors.ts";
import { DerReader, REQUEST_DER, TAG } from "./der-reader.ts";

const reader = (bytes: number[]): DerReader => DerReader.of(Buffer.from(bytes), "test");
const rejects = (run: () => unknown, message: RegExp): void => {
  assert.throws(run, (error: unknown) => error instanceof MalformedRequestError && message.test(error.message));
};

describe("DerReader lengths", () => {
  const accepted: [string, number[], number][] = [
    ["short form", [0x04, 0x01, 0xaa], 1],
    ["zero length", [0x04, 0x00], 0],
    ["0x81 for 128..255", [0x04, 0x81, 0x80, ...new Array<number>(128).fill(0)], 128],
    ["0x82 for 256..65535", [0x04, 0x82, 0x01, 0x00, ...new Array<number>(256).fill(0)], 256],
  ];
  for (const [name, bytes, length] of accepted) {
    test(`accepts the ${name}`, () => {
      const tlv = reader(bytes).next();
      assert.equal(tlv.end - tlv.contentStart, length);
    });
  }

  const rejected: [string, number[], RegExp][] = [
    ["indefinite length", [0x30, 0x80, 0x00, 0x00], /indefinite length/],
    ["long form for a short length", [0x04, 0x81, 0x05, 1, 2, 3, 4, 5], /non-minimal length/],
    ["a leading zero length octet", [0x04, 0x82, 0x00, 0x80, ...new Array<number>(128).fill(0)], /non-minimal length/],
    ["more than 4 length octets", [0x04, 0x85, 0, 0, 0, 0, 1, 0], /too large/],
    ["content past the end", [0x04, 0x05, 1, 2], /runs past the end/],
    ["a missing length", [0x04], /truncated before the length/],
    ["truncated length octets", [0x04, 0x82, 0x01], /truncated inside the length/],
    ["a high tag number", [0x1f, 0x81, 0x00, 0x00], /high tag number/],
    ["nothing at all", [], /found the end/],
  ];
  for (const [name, bytes, message] of rejected) {
    test(`rejects ${name}`, () => rejects(() => reader(bytes).next(), message));
  }
});

describe("DerReader structure", () => {
  test("finish rejects trailing elements", () => {
    const r = reader([0x05, 0x00, 0x05, 0x00]);
    r.next();
    rejects(() => r.finish(), /after the last field/);
  });

  test("an inner element cannot overrun its parent", () => {
    const r = reader([0x30, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00]);
    rejects(() => r.enterNext(TAG.SEQUENCE, "outer").next(), /runs past the end \(1 left\)/);
  });

  test("enter refuses primitive elements", () => {
    const r = reader([0x04, 0x00]);
    rejects(() => r.enter(r.next(), "x"), /not constructed/);
  });

  test("depth and element budgets are enforced", () => {
    let nested = Buffer.of(0x05, 0x00);
    for (let i = 0; i < 40; i++) nested = Buffer.concat([Buffer.of(0x30, nested.length), nested]);
    const deep = DerReader.of(nested, "deep");
    rejects(() => deep.checkDeep(deep.next(), "deep"), /nesting deeper than 32/);
    const many = DerReader.of(Buffer.from(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 0x05 : 0x00))), "many", { ...REQUEST_DER, maxDepth: 4, maxElements: 50 });
    rejects(() => {
      while (many.hasMore) many.next();
    }, /more than 50 elements/);
  });
});

describe("DerReader primitives", () => {
  const integers: [string, number[], RegExp | undefined][] = [
    ["0", [0x02, 0x01, 0x00], undefined],
    ["128 with its sign octet", [0x02, 0x02, 0x00, 0x80], undefined],
    ["-1", [0x02, 0x01, 0xff], undefined],
    ["an empty INTEGER", [0x02, 0x00], /empty INTEGER/],
    ["a redundant 0x00", [0x02, 0x02, 0x00, 0x7f], /non-minimal INTEGER/],
    ["a redundant 0xff", [0x02, 0x02, 0xff, 0x80], /non-minimal INTEGER/],
  ];
  for (const [name, bytes, error] of integers) {
    test(`INTEGER ${name} is ${error ? "rejected" : "accepted"}`, () => {
      if (error) rejects(() => reader(bytes).integer("n"), error);
      else assert.deepEqual(reader(bytes).integer("n"), Buffer.from(bytes.slice(2)));
    });
  }

  const booleans: [number[], boolean | RegExp][] = [
    [[0x01, 0x01, 0xff], true],
    [[0x01, 0x01, 0x00], false],
    [[0x01, 0x01, 0x01], /0x00 or 0xff/],
    [[0x01, 0x02, 0xff, 0xff], /one octet/],
  ];
  for (const [bytes, expected] of booleans) {
    test(`BOOLEAN ${Buffer.from(bytes).toString("hex")} → ${String(expected)}`, () => {
      const r = reader(bytes);
      if (expected instanceof RegExp) rejects(() => r.boolean(r.next(), "b"), expected);
      else assert.equal(r.boolean(r.next(), "b"), expected);
    });
  }

  const oids: [string, number[], RegExp][] = [
    ["empty", [0x06, 0x00], /empty OBJECT IDENTIFIER/],
    ["a leading 0x80 in an arc", [0x06, 0x02, 0x80, 0x01], /non-minimal OBJECT IDENTIFIER arc/],
    ["a dangling continuation", [0x06, 0x02, 0x2a, 0x86], /ends inside an arc/],
  ];
  for (const [name, bytes, message] of oids) test(`OBJECT IDENTIFIER: rejects ${name}`, () => rejects(() => reader(bytes).oidContent("o"), message));

  test("an octet-aligned BIT STRING drops the unused-bits octet and insists it is 0", () => {
    assert.deepEqual(reader([0x03, 0x03, 0x00, 0xab, 0xcd]).octetAlignedBitString("s"), Buffer.of(0xab, 0xcd));
    rejects(() => reader([0x03, 0x02, 0x04, 0xf0]).octetAlignedBitString("s"), /0 unused bits/);
    rejects(() => reader([0x03, 0x00]).octetAlignedBitString("s"), /without its unused-bits octet/);
  });

  const deep: [string, number[], RegExp][] = [
    ["a constructed OCTET STRING", [0x24, 0x03, 0x04, 0x01, 0x00], /constructed OCTET STRING is not DER/],
    ["a primitive SEQUENCE", [0x10, 0x00], /primitive SEQUENCE is not DER/],
    ["a NULL with content", [0x30, 0x03, 0x05, 0x01, 0x00], /empty NULL/],
    ["invalid UTF-8", [0x30, 0x03, 0x0c, 0x01, 0xff], /not valid UTF-8/],
    ["an odd BMPString", [0x1e, 0x01, 0x41], /BMPString length is odd/],
    ["a BIT STRING with 8 unused bits", [0x03, 0x02, 0x08, 0x00], /8 unused bits/],
    ["an end-of-contents octet pair", [0x30, 0x02, 0x00, 0x00], /reserved universal tag 0/],
  ];
  for (const [name, bytes, message] of deep) {
    test(`checkDeep rejects ${name}`, () => {
      const r = reader(bytes);
      rejects(() => r.checkDeep(r.next(), "value"), message);
    });
  }
});

describe("DerReader never throws anything but MalformedRequestError", () => {
  test("on every 1- and 2-octet input and on random walks", () => {
    const walk = (bytes: Buffer): void => {
      try {
        const r = DerReader.of(bytes, "walk");
        while (r.hasMore) r.checkDeep(r.next(), "walk");
      } catch (error) {
        assert.ok(error instanceof MalformedRequestError, String(error));
      }
    };
    for (let a = 0; a < 256; a++) {
      walk(Buffer.of(a));
      for (let b = 0; b < 256; b++) walk(Buffer.of(a, b));
    }
    for (let a = 0; a < 256; a++) for (const b of [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff]) walk(Buffer.of(a, b, 0x01, 0x00, 0x05));
  });
});

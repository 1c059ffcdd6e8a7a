import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MalformedRequestError } from "../errors.ts";
import { octetString } from "./der-writer.ts";
import { checkNonce, nonceLength } from "./nonce.ts";

describe("checkNonce (RFC 8954 / RFC 9654), limit 32", () => {
  const cases: [string, Buffer, number, RegExp | undefined][] = [
    ["a 1-octet nonce", octetString(Buffer.of(7)), 1, undefined],
    ["a 16-octet nonce (openssl's default)", octetString(Buffer.alloc(16)), 16, undefined],
    ["a 32-octet nonce", octetString(Buffer.alloc(32)), 32, undefined],
    ["a 33-octet nonce", octetString(Buffer.alloc(33)), 33, /nonce of 33 octets is longer than the 32 allowed/],
    ["an empty OCTET STRING", octetString(Buffer.alloc(0)), 0, /nonce is empty/],
    ["an empty extnValue", Buffer.alloc(0), 0, /nonce is empty/],
    ["raw 20 octets without the OCTET STRING (pre-RFC 8954 clients)", Buffer.alloc(20, 0xaa), 20, undefined],
    ["raw 40 octets", Buffer.alloc(40, 0xaa), 40, /nonce of 40 octets/],
    ["raw bytes that start like an OCTET STRING but are not one", Buffer.of(0x04, 0x05, 1, 2), 4, undefined],
    ["an OCTET STRING followed by more bytes, taken as raw", Buffer.of(0x04, 0x01, 1, 2), 4, undefined],
  ];
  for (const [name, value, length, error] of cases) {
    test(`${error ? "rejects" : "accepts"} ${name}`, () => {
      assert.equal(nonceLength(value), length);
      if (error === undefined) checkNonce(value, 32);
      else assert.throws(() => checkNonce(value, 32), (e: unknown) => e instanceof MalformedRequestError && error.test(e.message));
    });
  }
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeGetPath } from "./get-path.ts";

// Bytes whose base64 has '+', '/' and padding: 0xfb 0xff 0xbf → "+/+/" ; 0x30 0x00 → "MAA=".
const bytes = Buffer.from([0x30, 0x03, 0xfb, 0xff, 0xbf, 0x3e]);
const b64 = bytes.toString("base64"); // "MAP7/78+"

describe("decodeGetPath: the lenient base64 real clients send (RFC 6960 Appendix A.1)", () => {
  const accepted: [string, string, Buffer][] = [
    ["plain", b64, bytes],
    ["percent-encoded '+' and '/'", encodeURIComponent(b64), bytes],
    ["'+' turned into a space by a form decoder", b64.replaceAll("+", " "), bytes],
    ["'+' percent-encoded as a space", b64.replaceAll("+", "%20"), bytes],
    ["base64url", bytes.toString("base64url"), bytes],
    ["one leading slash", `/${b64}`, bytes],
    ["repeated leading slashes", `///${b64}`, bytes],
    ["with padding", "MAA=", Buffer.from([0x30, 0x00])],
    ["missing padding", "MAA", Buffer.from([0x30, 0x00])],
    ["percent-encoded padding", "MAA%3D", Buffer.from([0x30, 0x00])],
  ];
  for (const [name, path, expected] of accepted) {
    test(`accepts ${name}`, () => assert.deepEqual(decodeGetPath(path), expected));
  }
  const refused: [string, string][] = [
    ["an empty path", ""],
    ["only slashes", "///"],
    ["characters outside base64", "MA*A"],
    ["a bad percent escape", "MA%ZZ"],
    ["an impossible length", "MAAAA"],
    ["padding in the middle", "MA=A"],
  ];
  for (const [name, path] of refused) {
    test(`refuses ${name}`, () => assert.equal(decodeGetPath(path), undefined));
  }
});

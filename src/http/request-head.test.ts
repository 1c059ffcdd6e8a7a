/**
 * parseRequestHead reads a head's bytes in one pass. The string-and-regex parser it replaced is kept
 * as referenceParse (test-support/reference-request-head.ts), and the two must give deep-equal
 * answers (the same heads, the same refusals with the same reasons) on hand-written heads for each
 * rule, on thousands of generated and mutated heads, and when a head arrives in pieces. Generated
 * inputs come from a seeded PRNG: a failure prints its seed and input, and REQUEST_HEAD_SEED=<n>
 * reruns from another base seed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isRefusal, parseRequestHead, type HeadRefusal, type RequestHead } from "./request-head.ts";
import { referenceParse } from "./test-support/reference-request-head.ts";
import { prng } from "../../test/support/prng.ts";

type Parsed = RequestHead | HeadRefusal | undefined;

const BASE_SEED = Number(process.env.REQUEST_HEAD_SEED ?? 20240611);

const show = (bytes: Buffer): string => JSON.stringify(bytes.toString("latin1"));

/** Asserts both parsers agree on `bytes`, naming the input (and its seed) when they do not. */
function agree(bytes: Buffer, maxHeadBytes: number, searchFrom: number, seed?: number): Parsed {
  const expected = referenceParse(bytes, maxHeadBytes, searchFrom);
  const actual = parseRequestHead(bytes, maxHeadBytes, searchFrom);
  assert.deepStrictEqual(actual, expected, `seed ${seed ?? "-"} maxHeadBytes ${maxHeadBytes} searchFrom ${searchFrom} input ${show(bytes)}`);
  return actual;
}

/** What a case is meant to show: the refusal reason, "ok" for a head, "incomplete" for undefined. */
function outcome(parsed: Parsed): string {
  if (parsed === undefined) return "incomplete";
  return isRefusal(parsed) ? `${parsed.refused} ${parsed.reason}` : "ok";
}

const wrk = "POST / HTTP/1.1\r\nHost: 127.0.0.1:18081\r\nContent-Type: application/ocsp-request\r\nContent-Length: 83\r\n\r\n";
const curl = "GET /ocsp/MFQwUjBQME4wTDAJBgUrDgMCGgUABBQ%3D HTTP/1.1\r\nHost: ocsp.example\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";

/** [head, what it should come to, maxHeadBytes?, searchFrom?] — each rule of the parser, both ways. */
const cases: [string, string, number?, number?][] = [
  [wrk, "ok"],
  [curl, "ok"],
  ["GET / HTTP/1.1\r\n\r\n", "ok"],
  ["GET / HTTP/1.0\r\n\r\n", "ok"],
  ["GET / HTTP/1.9\r\n\r\n", "ok"],
  ["OPTIONS * HTTP/1.1\r\n\r\n", "ok"],
  ["get http://proxy.example/ocsp?x=1 HTTP/1.1\r\n\r\n", "ok"],
  ["GET /\x80\xff\xa0 HTTP/1.1\r\n\r\n", "ok"],
  ["M-SEARCH|~ / HTTP/1.1\r\n\r\n", "ok"],
  ["GET \xe9 HTTP/1.1\r\n\r\n", "ok"],
  // Stray CRLFs before the request line are skipped; a blank head is not a request line.
  ["\r\nGET / HTTP/1.1\r\n\r\n", "ok"],
  ["\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", "ok", 8192, 6],
  ["\r\n\r\nGET / HTTP/1.1\r\n\r\n", "400 malformed request line"],
  ["\r\n\r\n", "400 malformed request line"],
  ["\r\n\r\n\r\n", "400 malformed request line", 8192, 5],
  ["\nGET / HTTP/1.1\r\n\r\n", "400 malformed request line"],
  [" GET / HTTP/1.1\r\n\r\n", "400 malformed request line"],
  // Request line shape.
  ["GET  / HTTP/1.1\r\n\r\n", "400 malformed request line"],
  ["GET /  HTTP/1.1\r\n\r\n", "400 malformed request line"],
  ["GET\t/ HTTP/1.1\r\n\r\n", "400 malformed request line"],
  ["GET / HTTP/1.1 \r\n\r\n", "400 malformed request line"],
  ["GET / HTTP/1.1\n\r\n\r\n", "400 malformed request line"],
  ["GET / HTTP/1.1\r\r\n\r\n", "400 malformed request line"],
  ["GET / http/1.1\r\n\r\n", "400 malformed request line"],
  ["GET / HTTP/1.\r\n\r\n", "400 malformed request line"],
  ["GET / HTTP/11.1\r\n\r\n", "400 malformed request line"],
  ["GET / HTTP/1.10\r\n\r\n", "400 malformed request line"],
  ["GET HTTP/1.1\r\n\r\n", "400 malformed request line"],
  [" / HTTP/1.1\r\n\r\n", "400 malformed request line"],
  ["G@T / HTTP/1.1\r\n\r\n", "400 malformed request line"],
  ["GET /a\x7fb HTTP/1.1\r\n\r\n", "400 malformed request line"],
  ["GET /a\x00b HTTP/1.1\r\n\r\n", "400 malformed request line"],
  ["GET\x80 / HTTP/1.1\r\n\r\n", "400 malformed request line"],
  // Versions: major must be 1; any minor but 0 is 1.1.
  ["GET / HTTP/2.0\r\n\r\n", "505 HTTP/2.0 is not supported"],
  ["GET / HTTP/0.9\r\n\r\n", "505 HTTP/0.9 is not supported"],
  ["GET / HTTP/3.7\r\nContent-Length: x\r\n\r\n", "505 HTTP/3.7 is not supported"],
  // Content-Length.
  ["POST / HTTP/1.1\r\nContent-Length: 0083\r\n\r\n", "ok"],
  ["POST / HTTP/1.1\r\ncontent-LENGTH:83\r\n\r\n", "ok"],
  ["POST / HTTP/1.1\r\nContent-Length: \t 83 \t\r\n\r\n", "ok"],
  // Strict framing (issue 12): one value, one line, only SP and HTAB around the digits.
  ["POST / HTTP/1.1\r\nContent-Length: 5, 5,5\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", "400 more than one content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 5,\t5 ,\xa05\xa0\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 5\x0b\r\n\r\n", "400 invalid character in a header value"],
  ["POST / HTTP/1.1\r\nContent-Length: \x0c5\r\n\r\n", "400 invalid character in a header value"],
  ["POST / HTTP/1.1\r\nContent-Length: 5\xa0\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: \xa05\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 5\r\r\n\r\n", "400 invalid character in a header value"],
  ["POST / HTTP/1.1\r\nContent-Length: 999999999999999\r\n\r\n", "ok"],
  ["POST / HTTP/1.1\r\nContent-Length: 1000000000000000\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "400 more than one content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: x\r\nContent-Length: 6\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 5,,5\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Length: \xb9\r\n\r\n", "400 invalid content-length"],
  ["POST / HTTP/1.1\r\nContent-Lengths: x\r\nContent-Lengt: y\r\n\r\n", "ok"],
  // Transfer-Encoding.
  ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "ok"],
  ["POST / HTTP/1.1\r\ntransfer-encoding:  CHUNKED \r\n\r\n", "ok"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "501 transfer-encoding gzip, chunked is not supported"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: Gzip\r\nTransfer-Encoding: CHUNKED\r\n\r\n", "501 transfer-encoding gzip, chunked is not supported"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: \xc9 ,\tGZIP, chunked\r\n\r\n", "501 transfer-encoding \xe9, gzip, chunked is not supported"],
  // Anything but a final chunked, applied once, cannot be framed: 400 (RFC 9112 §6.3).
  ["POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "400 chunked is not the final transfer coding"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "400 chunked is not the final transfer coding"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: GZIP\r\nTransfer-Encoding: \xc9\r\n\r\n", "400 chunked is not the final transfer coding"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "400 chunked applied more than once"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked, Chunked\r\n\r\n", "400 chunked applied more than once"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\xa0\r\n\r\n", "400 chunked is not the final transfer coding"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\x0b\r\n\r\n", "400 invalid character in a header value"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", "400 empty transfer coding"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n", "400 empty transfer coding"],
  ["POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "400 transfer-encoding in an HTTP/1.0 request"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "400 both content-length and transfer-encoding"],
  ["POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n", "400 both content-length and transfer-encoding"],
  ["POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nExpect: nope\r\n\r\n", "501 transfer-encoding gzip, chunked is not supported"],
  // Expect.
  ["POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", "ok"],
  ["POST / HTTP/1.1\r\nEXPECT: 100-Continue\r\n\r\n", "ok"],
  ["POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", "ok"],
  ["POST / HTTP/1.0\r\nExpect: 102-Processing\r\n\r\n", "417 unsupported expectation 102-processing"],
  ["POST / HTTP/1.1\r\nExpect: nope\r\nExpect: 100-continue\r\n\r\n", "ok"],
  ["POST / HTTP/1.1\r\nExpect: 100-continue\r\nExpect: N\xd6PE\r\n\r\n", "417 unsupported expectation n\xf6pe"],
  ["POST / HTTP/1.1\r\nExpect:\r\n\r\n", "417 unsupported expectation "],
  // Connection.
  ["GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "ok"],
  ["GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n", "ok"],
  ["GET / HTTP/1.1\r\nConnection: foo\r\nConnection: \xa0close\t,bar\r\n\r\n", "ok"],
  ["GET / HTTP/1.1\r\nConnection: foo\r\nConnection:  close\t,bar\r\n\r\n", "ok"],
  ["GET / HTTP/1.1\r\nConnection: closed, xclose\r\n\r\n", "ok"],
  ["GET / HTTP/1.0\r\n\r\n", "ok"],
  ["GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "ok"],
  ["GET / HTTP/1.0\r\nConnection:\r\nConnection: x, keep-alive \r\n\r\n", "ok"],
  ["GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "ok"],
  ["GET / HTTP/1.0\r\nConnection: keep alive\r\n\r\n", "ok"],
  // If-None-Match, joined; values trimmed of SP and HTAB only (NBSP is obs-text, part of the value).
  ['GET / HTTP/1.1\r\nIf-None-Match: "abc"\r\n\r\n', "ok"],
  ['GET / HTTP/1.1\r\nif-none-match:\t W/"a" , "b"\t \r\nIf-None-Match: *\r\nIF-NONE-MATCH:\r\n\r\n', "ok"],
  ['GET / HTTP/1.1\r\nIf-None-Match: \xa0"\xe9\xa0"\xa0\r\n\r\n', "ok"],
  ['GET / HTTP/1.1\r\nIf-None-Match: \x0b\x0c"a"\r\x0c"b"\r\n\r\n', "400 invalid character in a header value"],
  ['GET / HTTP/1.1\r\nIf-None-Match: \x0b\x0c"a"\r\x0c\n\r\n\r\n', "400 invalid character in a header value"],
  ['GET / HTTP/1.1\r\nIf-None-Match: "a"\x85\r\n\r\n', "ok"],
  // Control characters in values: refused anywhere, at the ends too (only SP and HTAB are trimmed).
  ["GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: \x01a\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: a\nb\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: a\x0b \x0cb\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: a\r\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: \n\x0b\x0ca\x0b \t\r\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: \r\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: a\x0b\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: \x0ca\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nX-A: \t a \t\r\n\r\n", "ok"],
  ["GET / HTTP/1.1\r\nX-A: a\tb \xa0\xff\r\n\r\n", "ok"],
  ["GET / HTTP/1.1\r\nX-A: a\x00\r\nContent-Length: x\r\n\r\n", "400 invalid character in a header value"],
  ["GET / HTTP/1.1\r\nContent-Length: x\r\nX-A: a\x00\r\n\r\n", "400 invalid content-length"],
  // Header lines and names.
  ["GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "400 folded header line"],
  ["GET / HTTP/1.1\r\nHost: a\r\n\tfolded\r\n\r\n", "400 folded header line"],
  ["GET / HTTP/1.1\r\n Host: a\r\n\r\n", "400 malformed header name"],
  ["GET / HTTP/1.1\r\nHost : a\r\n\r\n", "400 malformed header name"],
  ["GET / HTTP/1.1\r\nHo st: a\r\n\r\n", "400 malformed header name"],
  ["GET / HTTP/1.1\r\nH\xe9st: a\r\n\r\n", "400 malformed header name"],
  ["GET / HTTP/1.1\r\nHost\r: a\r\n\r\n", "400 malformed header name"],
  ["GET / HTTP/1.1\r\n: a\r\n\r\n", "400 malformed header line"],
  ["GET / HTTP/1.1\r\nHost a\r\n\r\n", "400 malformed header line"],
  ["GET / HTTP/1.1\r\nHost\ra\r\nX: b\r\n\r\n", "400 malformed header line"],
  ["GET / HTTP/1.1\r\nHost\na: b\r\n\r\n", "400 malformed header name"],
  ["GET / HTTP/1.1\r\nHost: a\r\n\r\nX: b\r\n\r\n", "400 malformed header line", 8192, 30],
  ["GET / HTTP/1.1\r\nX: a\r\n\r\r\n\r\n", "400 malformed header line"],
  ["GET / HTTP/1.1\r\nX: a\r\n\n\r\n\r\n", "400 malformed header line"],
  ["GET / HTTP/1.1\r\nHost::a\r\n\r\n", "ok"],
  ["GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09az: a\r\n\r\n", "ok"],
  // Head size: refused before the end is seen, and after it.
  ["GET / HTTP/1.1\r\nHost: a\r\n", "incomplete"],
  ["GET / HTTP/1.1\r\nHost: a\r\n", "431 request head too large", 10],
  ["GET / HTTP/1.1\r\nHost: a\r\n", "incomplete", 25],
  ["GET / HTTP/1.1\r\n\r\n", "ok", 18],
  ["GET / HTTP/1.1\r\n\r\n", "431 request head too large", 17],
  ["GET / HTTP/1.1\r\n\r\nbody", "ok", 18],
  // searchFrom: the end is only looked for from searchFrom - 3.
  ["GET / HTTP/1.1\r\n\r\n", "ok", 8192, 17],
  ["GET / HTTP/1.1\r\n\r\n", "incomplete", 8192, 18],
  ["GET / HTTP/1.1\r\n\r\n", "incomplete", 8192, 100],
];

test("hand-written heads: one per rule, the same answer as the previous parser", () => {
  for (const [head, meant, maxHeadBytes = 8192, searchFrom = 0] of cases) {
    const parsed = agree(Buffer.from(head, "latin1"), maxHeadBytes, searchFrom);
    assert.equal(outcome(parsed), meant, `the case ${JSON.stringify(head)} no longer shows what it was written for`);
  }
});

test("hand-written heads: fields of accepted heads", () => {
  assert.deepStrictEqual(parseRequestHead(Buffer.from(wrk, "latin1"), 8192), {
    method: "POST",
    target: "/",
    minorVersion: 1,
    contentLength: 83,
    chunked: false,
    keepAlive: true,
    expectContinue: false,
    ifNoneMatch: undefined,
    length: wrk.length,
  });
  const head = parseRequestHead(Buffer.from('GET /\xe9 HTTP/1.0\r\nConnection: keep-alive\r\nIf-None-Match: "a"\r\nIf-None-Match: \t W/"b" \r\n\r\n', "latin1"), 8192);
  assert.ok(head !== undefined && !isRefusal(head));
  assert.equal(head.target, "/\xe9");
  assert.equal(head.minorVersion, 0);
  assert.equal(head.keepAlive, true);
  assert.equal(head.ifNoneMatch, '"a", W/"b"');
});

/** Picks one of `items`. */
const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Each ASCII letter upper- or lower-cased at random. */
const anyCase = (random: () => number, text: string): string => [...text].map((c) => (random() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join("");

/** Usually one of `usual`, sometimes one of `odd`: mostly sound heads, so that checks past the first line are reached. */
const mostly = (random: () => number, usual: readonly string[], odd: readonly string[], p = 0.85): string => pick(random, random() < p ? usual : odd);

const METHODS = ["GET", "POST", "HEAD", "OPTIONS", "get", "M-SEARCH"];
const ODD_METHODS = ["P@ST", "", "G\x80T", "GET\t", "PO ST"];
const TARGETS = ["/", "/ocsp", "/ocsp/MFQwUjBQ%2B==", "http://ocsp.example/x?y=1", "*", "/\x80\xff\xa0"];
const ODD_TARGETS = ["", "/a b", "/\x7f", "/a\tb", "/a\rb", "/\x00"];
const ODD_SPACES = ["  ", "\t", ""];
const VERSIONS = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.9"];
const ODD_VERSIONS = ["HTTP/2.0", "HTTP/0.9", "http/1.1", "HTTP/1.", "HTTP/11.1", "HTTP/1.1 ", "HTTP/1.1\r", "HTTP/1.1\n", "HTTP/a.b", "HTTP/1.1x"];
const NAMES = ["Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect", "If-None-Match", "Content-Type", "User-Agent", "Accept", "X-Foo"];
const ODD_NAMES = ["Content-Lengt", "Connectionx", "Expectt", "Bad Name", "N\xe4me", "", "Con:nection", " Host", "\tHost", "Transfer_Encoding"];
const VALUES: Record<string, string[]> = {
  "content-length": ["0", "83", "083", "1,1", "1, 2", "5,5 ,5", "", "abc", "9999999999999999", "123456789012345", "-1", "1e3", "5,", ",5", "5\t,\xa05"],
  "transfer-encoding": ["chunked", "Chunked", "CHUNKED", "gzip", "chunked, gzip", "gzip, chunked", "", "chunked,", "\xc0chunked", "chunked, chunked", ",chunked", "gzip ,\tCHUNKED", "chunked\xa0"],
  connection: ["close", "Keep-Alive", "keep-alive, Upgrade", "CLOSE ,foo", "", "\xa0close\xa0", "keep-alive\t,\tclose", "closex", "x,keep-alive", ","],
  expect: ["100-continue", "100-Continue", "102-processing", "", "100-continue, x", "100-CONTINU\xc9"],
  "if-none-match": ['"abc"', 'W/"x"', "*", '"a", "b"', "", '"\xe9"'],
};
const GENERIC_VALUES = ["127.0.0.1:18081", "application/ocsp-request", "curl/8.5.0", "*/*", "", "a b", "x"];
const EDGES = ["", " ", "\t", "  "];
const ODD_EDGES = ["\xa0", "\x0b", "\x0c", "\r", "\n", "\x85", " \t\xa0", "\r\r"];
const ODD_BYTES = ["\x00", "\x01", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x0e", "\x1f", " ", ",", ":", "\x7f", "\x80", "\x85", "\xa0", "\xc9", "\xff", "\r\n", "\r\n\r\n"];

/** A head assembled from likely and unlikely parts, usually with its final CRLF CRLF, sometimes with bytes after it. */
function generatedHead(random: () => number): string {
  let head = random() < 0.15 ? pick(random, ["\r\n", "\r\n\r\n", "\n", " ", "\r\n\r\n\r\n"]) : "";
  head += mostly(random, METHODS, ODD_METHODS, 0.95) + mostly(random, [" "], ODD_SPACES, 0.97);
  head += mostly(random, TARGETS, ODD_TARGETS, 0.95) + mostly(random, [" "], ODD_SPACES, 0.97) + mostly(random, VERSIONS, ODD_VERSIONS, 0.93);
  const lines = Math.floor(random() * 8);
  for (let i = 0; i < lines; i++) {
    const name = mostly(random, NAMES, ODD_NAMES, 0.95);
    const pool = VALUES[name.toLowerCase()] ?? GENERIC_VALUES;
    let value = `${mostly(random, EDGES, ODD_EDGES)}${pick(random, pool)}${mostly(random, EDGES, ODD_EDGES)}`;
    if (random() < 0.08) {
      const at = Math.floor(random() * (value.length + 1));
      value = value.slice(0, at) + pick(random, ODD_BYTES) + value.slice(at);
    }
    const separator = mostly(random, [":", ": ", ":\t", ":  "], [" :", "", "::"], 0.97);
    const line = `${anyCase(random, name)}${separator}${value}`;
    head += `${mostly(random, ["\r\n"], ["\n", "\r", "\r\n\r\n", "\r\n "], 0.98)}${line}`;
    if (random() < 0.1) head += `\r\n${line}`;
  }
  const ending = random();
  if (ending < 0.85) head += "\r\n\r\n";
  else if (ending < 0.95) head += "\r\n\r\nPOST / HTTP/1.1\r\n\r\n";
  else head += pick(random, ["\r\n", "\r\n\r", "", "\r\n\n"]);
  return head;
}

const REAL_HEADS = [
  wrk,
  curl,
  "POST /ocsp HTTP/1.1\r\nHost: ocsp.example\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
  'GET /ocsp/MFQw HTTP/1.1\r\nHost: ocsp.example\r\nIf-None-Match: "a1b2"\r\nConnection: close\r\n\r\n',
  "POST / HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: 5, 5\r\n\r\nhello",
  "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
];

/** A real head with one to three byte flips, deletions, insertions, truncations or case changes. */
function mutatedHead(random: () => number): Buffer {
  let bytes = Buffer.from(pick(random, REAL_HEADS), "latin1");
  const mutations = 1 + Math.floor(random() * 3);
  for (let i = 0; i < mutations; i++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const kind = Math.floor(random() * 9);
    if (kind <= 2 && at < bytes.length) {
      bytes = Buffer.from(bytes);
      bytes[at] = random() < 0.5 ? Math.floor(random() * 256) : pick(random, ODD_BYTES).charCodeAt(0);
    } else if (kind === 3) {
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + Math.floor(random() * 3))]);
    } else if (kind <= 6) {
      const inserted = random() < 0.5 ? Buffer.from(pick(random, ODD_BYTES), "latin1") : Buffer.from([Math.floor(random() * 256)]);
      bytes = Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)]);
    } else if (kind === 7) {
      bytes = bytes.subarray(0, at);
    } else {
      bytes = Buffer.from(anyCase(random, bytes.toString("latin1")), "latin1");
    }
  }
  return bytes;
}

/** Usually a roomy limit, sometimes one near the input's length; usually a fresh search, sometimes a resumed one. */
function limits(random: () => number, bytes: Buffer): [number, number] {
  const maxHeadBytes = random() < 0.95 ? 8192 : Math.floor(random() * (bytes.length + 8));
  const searchFrom = random() < 0.9 ? 0 : Math.floor(random() * (bytes.length + 6));
  return [maxHeadBytes, searchFrom];
}

/** The bytes as the connection may hold them: a view into a larger buffer, past bytes already consumed. */
function inLargerBuffer(random: () => number, bytes: Buffer): Buffer {
  if (random() < 0.5) return bytes;
  const before = Math.floor(random() * 16);
  const larger = Buffer.alloc(before + bytes.length + 16, "\r\n\r\n:x");
  bytes.copy(larger, before);
  return larger.subarray(before, before + bytes.length);
}

test("generated heads: the same answer as the previous parser", () => {
  for (let i = 0; i < 4000; i++) {
    const seed = BASE_SEED + i;
    const random = prng(seed);
    const bytes = inLargerBuffer(random, Buffer.from(generatedHead(random), "latin1"));
    agree(bytes, ...limits(random, bytes), seed);
  }
});

test("mutated real heads: the same answer as the previous parser", () => {
  for (let i = 0; i < 4000; i++) {
    const seed = BASE_SEED + 1_000_000 + i;
    const random = prng(seed);
    const bytes = inLargerBuffer(random, mutatedHead(random));
    agree(bytes, ...limits(random, bytes), seed);
  }
});

const PIECES = ["\r", "\n", "\r\n", "\r\n\r\n", ":", " ", "\t", ",", "a", "C", "0", "5", "\xa0", "\x0b", "\x00", "\x7f", "\xc9"];
const WORDS = ["GET / HTTP/1.1", " HTTP/1.0\r\n", "Content-Length", "transfer-encoding", "CONNECTION", "close", "Keep-Alive", "chunked", "Expect", "100-continue", "If-None-Match"];

test("heads strung together from line breaks, separators, blanks and header words: the same answer as the previous parser", () => {
  for (let i = 0; i < 4000; i++) {
    const seed = BASE_SEED + 3_000_000 + i;
    const random = prng(seed);
    let head = random() < 0.7 ? `GET / HTTP/1.${pick(random, ["0", "1"])}\r\n` : "";
    for (let n = Math.floor(random() * 30); n > 0; n--) head += random() < 0.7 ? pick(random, PIECES) : pick(random, WORDS);
    if (random() < 0.7) head += "\r\n\r\n";
    const bytes = Buffer.from(head, "latin1");
    agree(bytes, ...limits(random, bytes), seed);
  }
});

test("a head fed in pieces, resumed from where the connection left off, is read as the whole", () => {
  for (let i = 0; i < 2000; i++) {
    const seed = BASE_SEED + 2_000_000 + i;
    const random = prng(seed);
    const whole = random() < 0.5 ? Buffer.from(generatedHead(random), "latin1") : mutatedHead(random);
    const maxHeadBytes = random() < 0.9 ? 8192 : Math.floor(random() * (whole.length + 8));
    const expected = agree(whole, maxHeadBytes, 0, seed);
    // As connection.ts does: search from the previous length while the head is incomplete.
    let searchFrom = 0;
    let parsed: Parsed;
    for (let taken = 0; taken < whole.length; ) {
      taken = Math.min(whole.length, taken + 1 + Math.floor(random() * 12));
      parsed = parseRequestHead(whole.subarray(0, taken), maxHeadBytes, searchFrom);
      if (parsed !== undefined) break;
      searchFrom = taken;
    }
    assert.deepStrictEqual(parsed, expected, `seed ${seed} maxHeadBytes ${maxHeadBytes} input ${show(whole)}`);
  }
});

/**
 * The previous implementation of parseRequestHead (string split into lines, regexes, lower-casing),
 * kept verbatim as the oracle that request-head.test.ts checks the byte parser against.
 */
import type { HeadRefusal, RequestHead } from "../request-head.ts";

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/(\d)\.(\d)$/;
const DIGITS = /^\d{1,15}$/;
// Field values: visible ASCII, obs-text, space and tab (RFC 9110 §5.5); never other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Parses the head at the start of `bytes` (searching for its end from `searchFrom`, for incremental
 * callers). Returns `undefined` while the head is incomplete and shorter than `maxHeadBytes`, a
 * refusal when it is malformed or too long, else the head.
 */
export function referenceParse(bytes: Buffer, maxHeadBytes: number, searchFrom = 0): RequestHead | HeadRefusal | undefined {
  const end = bytes.indexOf(CRLFCRLF, Math.max(0, searchFrom - 3));
  if (end === -1) {
    return bytes.length > maxHeadBytes ? { refused: 431, reason: "request head too large" } : undefined;
  }
  if (end + 4 > maxHeadBytes) return { refused: 431, reason: "request head too large" };
  const lines = bytes.toString("latin1", 0, end).split("\r\n");
  // RFC 9112 §2.2: empty lines before the request line are ignored (a client's stray CRLF).
  let first = 0;
  while (first < lines.length - 1 && lines[first] === "") first++;
  const requestLine = REQUEST_LINE.exec(lines[first]!);
  if (requestLine === null) return { refused: 400, reason: "malformed request line" };
  if (requestLine[3] !== "1") return { refused: 505, reason: `HTTP/${requestLine[3]}.${requestLine[4]} is not supported` };
  const minorVersion: 0 | 1 = requestLine[4] === "0" ? 0 : 1;
  let contentLength: number | undefined;
  let transferEncoding: string | undefined;
  let connection = "";
  let expect: string | undefined;
  let ifNoneMatch: string | undefined;
  for (let i = first + 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) return { refused: 400, reason: line.length > 0 && (line[0] === " " || line[0] === "\t") ? "folded header line" : "malformed header line" };
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return { refused: 400, reason: "malformed header name" };
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) return { refused: 400, reason: "invalid character in a header value" };
    switch (name.length) {
      case 6:
        if (name.toLowerCase() === "expect") expect = value.toLowerCase();
        break;
      case 10:
        if (name.toLowerCase() === "connection") connection = connection === "" ? value.toLowerCase() : `${connection},${value.toLowerCase()}`;
        break;
      case 13:
        if (name.toLowerCase() === "if-none-match") ifNoneMatch = ifNoneMatch === undefined ? value : `${ifNoneMatch}, ${value}`;
        break;
      case 14:
        if (name.toLowerCase() === "content-length") {
          // A list of equal values is one length (RFC 9112 §6.3); anything else is refused.
          for (const part of value.split(",")) {
            const text = part.trim();
            if (!DIGITS.test(text)) return { refused: 400, reason: "invalid content-length" };
            const length = Number(text);
            if (contentLength !== undefined && contentLength !== length) return { refused: 400, reason: "conflicting content-length values" };
            contentLength = length;
          }
        }
        break;
      case 17:
        if (name.toLowerCase() === "transfer-encoding") transferEncoding = transferEncoding === undefined ? value.toLowerCase() : `${transferEncoding}, ${value.toLowerCase()}`;
        break;
    }
  }
  if (transferEncoding !== undefined) {
    if (contentLength !== undefined) return { refused: 400, reason: "both content-length and transfer-encoding" };
    if (transferEncoding !== "chunked") return { refused: 501, reason: `transfer-encoding ${transferEncoding} is not supported` };
  }
  if (expect !== undefined && expect !== "100-continue") return { refused: 417, reason: `unsupported expectation ${expect}` };
  const tokens = connection === "" ? [] : connection.split(",").map((token) => token.trim());
  const keepAlive = minorVersion === 1 ? !tokens.includes("close") : tokens.includes("keep-alive");
  return {
    method: requestLine[1]!,
    target: requestLine[2]!,
    minorVersion,
    contentLength: contentLength ?? 0,
    chunked: transferEncoding !== undefined,
    keepAlive,
    expectContinue: expect !== undefined && minorVersion === 1,
    ifNoneMatch,
    length: end + 4,
  };
}

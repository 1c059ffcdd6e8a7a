/**
 * The previous implementation of parseRequestHead (string split into lines, regexes, lower-casing),
 * kept as the oracle that request-head.test.ts checks the byte parser against. Its rules are the
 * parser's: since issue 12's strict framing, values are trimmed of SP and HTAB only (no longer
 * String.prototype.trim's VT, FF, CR, LF and NBSP), Content-Length is one line with one value, and
 * Transfer-Encoding must end in a single chunked.
 */
import type { HeadRefusal, RequestHead } from "../request-head.ts";

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/(\d)\.(\d)$/;
const DIGITS = /^\d{1,15}$/;
/** Optional whitespace at either end (RFC 9110 §5.6.3). */
const OWS_ENDS = /^[ \t]+|[ \t]+$/g;
const withoutOws = (text: string): string => text.replace(OWS_ENDS, "");
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
  const codings: string[] = [];
  let connection = "";
  let expect: string | undefined;
  let ifNoneMatch: string | undefined;
  for (let i = first + 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) return { refused: 400, reason: line.length > 0 && (line[0] === " " || line[0] === "\t") ? "folded header line" : "malformed header line" };
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return { refused: 400, reason: "malformed header name" };
    const value = withoutOws(line.slice(colon + 1));
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
          if (contentLength !== undefined) return { refused: 400, reason: "more than one content-length" };
          if (!DIGITS.test(value)) return { refused: 400, reason: "invalid content-length" };
          contentLength = Number(value);
        }
        break;
      case 17:
        if (name.toLowerCase() === "transfer-encoding") codings.push(...value.toLowerCase().split(",").map(withoutOws));
        break;
    }
  }
  if (codings.length > 0) {
    if (contentLength !== undefined) return { refused: 400, reason: "both content-length and transfer-encoding" };
    if (minorVersion === 0) return { refused: 400, reason: "transfer-encoding in an HTTP/1.0 request" };
    if (codings.includes("")) return { refused: 400, reason: "empty transfer coding" };
    if (codings.at(-1) !== "chunked") return { refused: 400, reason: "chunked is not the final transfer coding" };
    if (codings.indexOf("chunked") !== codings.length - 1) return { refused: 400, reason: "chunked applied more than once" };
    if (codings.length > 1) return { refused: 501, reason: `transfer-encoding ${codings.join(", ")} is not supported` };
  }
  if (expect !== undefined && expect !== "100-continue") return { refused: 417, reason: `unsupported expectation ${expect}` };
  const tokens = connection === "" ? [] : connection.split(",").map(withoutOws);
  const keepAlive = minorVersion === 1 ? !tokens.includes("close") : tokens.includes("keep-alive");
  return {
    method: requestLine[1]!,
    target: requestLine[2]!,
    minorVersion,
    contentLength: contentLength ?? 0,
    chunked: codings.length > 0,
    keepAlive,
    expectContinue: expect !== undefined && minorVersion === 1,
    ifNoneMatch,
    length: end + 4,
  };
}

/**
 * The head of an HTTP/1.x request (RFC 9112 §2–§6), parsed from the bytes of a connection. Only what
 * an OCSP responder needs is kept: method, target, version, the body's framing, and the few headers
 * that change the exchange. Anything ambiguous about framing (both Content-Length and
 * Transfer-Encoding, differing lengths, an unknown coding, folded lines) is refused, because a
 * responder behind a proxy must never read a request's boundaries differently from the proxy.
 */

/** A parsed request head. */
export interface RequestHead {
  readonly method: string;
  /** The request-target exactly as sent (origin-form, or absolute-form from proxies). */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minorVersion: 0 | 1;
  /** Declared body length; 0 when neither Content-Length nor chunked was sent. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** What the client asked for the connection after this request. */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` was sent. */
  readonly expectContinue: boolean;
  readonly ifNoneMatch: string | undefined;
  /** Octets taken by the head, final CRLF included. */
  readonly length: number;
}

/** A head that cannot be served: the HTTP status to answer before closing the connection. */
export interface HeadRefusal {
  readonly refused: 400 | 417 | 431 | 501 | 505;
  readonly reason: string;
}

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
export function parseRequestHead(bytes: Buffer, maxHeadBytes: number, searchFrom = 0): RequestHead | HeadRefusal | undefined {
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

export function isRefusal(parsed: RequestHead | HeadRefusal): parsed is HeadRefusal {
  return (parsed as HeadRefusal).refused !== undefined;
}

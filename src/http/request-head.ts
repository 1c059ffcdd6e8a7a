/**
 * The head of an HTTP/1.x request (RFC 9112 §2–§6), parsed from the bytes of a connection. Only what
 * an OCSP responder needs is kept: method, target, version, the body's framing, and the few headers
 * that change the exchange. Anything ambiguous about framing is refused with 400 (501 for a coding it
 * does not implement) and the connection closed, because a responder behind a proxy must never read a
 * request's boundaries differently from the proxy (RFC 9112 §6.1, §6.3):
 * - Content-Length is 1*DIGIT with only optional whitespace (SP, HTAB) around it, and is sent once:
 *   a list, a repeated line, or any other octet (VT, FF, NBSP...) is refused;
 * - Transfer-Encoding must end in `chunked`, applied once; other codings before it get 501;
 * - both Content-Length and Transfer-Encoding, or Transfer-Encoding in HTTP/1.0, are refused;
 * - a field value's ends are trimmed of SP and HTAB only; any other control octet is refused.
 *
 * This runs for every request, so it reads the bytes in place rather than decoding the head to a
 * string and splitting it: one pass over each line with a per-byte class table, header names matched
 * case-insensitively on bytes, and strings made only for what is returned. Its answers are those of
 * the earlier string-and-regex parser, kept in request-head.test.ts as the oracle it is checked against.
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

const CRLF = Buffer.from("\r\n", "latin1");
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const COMMA = 0x2c;

/** tchar (RFC 9110 §5.6.2): methods and header names. */
const TOKEN = 1;
/** What a request-target may hold: visible ASCII and obs-text, no space or controls. */
const TARGET = 2;
/** Field-value octets (RFC 9110 §5.5): visible ASCII, obs-text, space and tab; never other controls. */
const VALUE = 4;
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const visible = (c >= 0x21 && c <= 0x7e) || c >= 0x80;
  const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  CLASS[c] =
    (alnum || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)) ? TOKEN : 0) |
    (visible ? TARGET : 0) |
    (visible || c === SP || c === TAB ? VALUE : 0);
}
/** ASCII letters folded to lower case, every other octet as is: names and codings compare this way. */
const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;

const lowerBytes = (text: string): Uint8Array => Buffer.from(text, "latin1");
const EXPECT = lowerBytes("expect");
const CONNECTION = lowerBytes("connection");
const IF_NONE_MATCH = lowerBytes("if-none-match");
const CONTENT_LENGTH = lowerBytes("content-length");
const TRANSFER_ENCODING = lowerBytes("transfer-encoding");
const CONTINUE = lowerBytes("100-continue");
const CHUNKED = lowerBytes("chunked");
const CLOSE = lowerBytes("close");
const KEEP_ALIVE = lowerBytes("keep-alive");

const refuse = (refused: HeadRefusal["refused"], reason: string): HeadRefusal => ({ refused, reason });

/** Whether bytes[from, to) spell `lower` with ASCII letters in any case. */
function sameIgnoringCase(bytes: Buffer, from: number, to: number, lower: Uint8Array): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if (LOWER[bytes[from + i]!] !== lower[i]) return false;
  return true;
}

/** The end of the list element starting at `from` (a comma, or `to`). */
function elementEnd(bytes: Buffer, from: number, to: number): number {
  while (from < to && bytes[from] !== COMMA) from++;
  return from;
}

const isOws = (c: number): boolean => c === SP || c === TAB;

/** Where the list element starting at `from` starts once its optional whitespace is skipped. */
function owsEnd(bytes: Buffer, from: number, to: number): number {
  while (from < to && isOws(bytes[from]!)) from++;
  return from;
}

/** Where the list element ending at `to` ends once its optional whitespace is dropped. */
function owsStart(bytes: Buffer, from: number, to: number): number {
  while (to > from && isOws(bytes[to - 1]!)) to--;
  return to;
}

/** Whether the list element bytes[from, to), optional whitespace trimmed, spells `lower` in any case. */
function elementIs(bytes: Buffer, from: number, to: number, lower: Uint8Array): boolean {
  const start = owsEnd(bytes, from, to);
  return sameIgnoringCase(bytes, start, owsStart(bytes, start, to), lower);
}

/**
 * Where the first CRLF CRLF at or after `from` starts, else -1, as `bytes.indexOf("\r\n\r\n", from)`
 * would say. On a typical head the native call costs about twice this loop (~65 against ~35 ns),
 * mostly in the call itself; Horspool's skip on the window's last octet steps 4 past most header bytes.
 */
function headEnd(bytes: Buffer, from: number): number {
  for (let at = from + 3; at < bytes.length; ) {
    const c = bytes[at];
    if (c === LF) {
      if (bytes[at - 1] === CR && bytes[at - 2] === LF && bytes[at - 3] === CR) return at - 3;
      at += 2;
    } else {
      at += c === CR ? 1 : 4;
    }
  }
  return -1;
}

/** The method as a string; the two an OCSP client sends are returned without allocating. */
function methodOf(bytes: Buffer, from: number, to: number): string {
  if (to - from === 3 && bytes[from] === 0x47 && bytes[from + 1] === 0x45 && bytes[from + 2] === 0x54) return "GET";
  if (to - from === 4 && bytes[from] === 0x50 && bytes[from + 1] === 0x4f && bytes[from + 2] === 0x53 && bytes[from + 3] === 0x54) return "POST";
  return bytes.toString("latin1", from, to);
}

/** A header line with no name before a colon; a leading space or tab means obs-fold (RFC 9112 §5.2). */
function nameless(bytes: Buffer, start: number): HeadRefusal {
  // The CRLF that ends the head bounds the search.
  const lineEnd = bytes.indexOf(CRLF, start);
  const colon = bytes.indexOf(COLON, start);
  if (colon > start && colon < lineEnd) return refuse(400, "malformed header name");
  return refuse(400, lineEnd > start && (bytes[start] === SP || bytes[start] === TAB) ? "folded header line" : "malformed header line");
}

/**
 * Parses the head at the start of `bytes` (searching for its end from `searchFrom`, for incremental
 * callers). Returns `undefined` while the head is incomplete and shorter than `maxHeadBytes`, a
 * refusal when it is malformed or too long, else the head.
 */
export function parseRequestHead(bytes: Buffer, maxHeadBytes: number, searchFrom = 0): RequestHead | HeadRefusal | undefined {
  // The end is searched for only in bytes not searched before, so a head arriving in many pieces is
  // not rescanned; the pass below then runs once, over a complete head.
  const end = headEnd(bytes, Math.max(0, searchFrom - 3));
  if (end === -1) return bytes.length > maxHeadBytes ? refuse(431, "request head too large") : undefined;
  if (end + 4 > maxHeadBytes) return refuse(431, "request head too large");
  // Every scan below stops at the CRLF at `end` at the latest: no token or target octet is CR, and a
  // header value ends at its line's first CRLF.
  // RFC 9112 §2.2: empty lines before the request line are ignored (a client's stray CRLF).
  let pos = 0;
  while (pos + 2 <= end && bytes[pos] === CR && bytes[pos + 1] === LF) pos += 2;
  const methodStart = pos;
  while ((CLASS[bytes[pos]!]! & TOKEN) !== 0) pos++;
  const methodEnd = pos;
  if (methodEnd === methodStart || bytes[pos] !== SP) return refuse(400, "malformed request line");
  const targetStart = ++pos;
  while ((CLASS[bytes[pos]!]! & TARGET) !== 0) pos++;
  const targetEnd = pos;
  if (targetEnd === targetStart || bytes[pos] !== SP) return refuse(400, "malformed request line");
  const major = bytes[pos + 6]!;
  const minor = bytes[pos + 8]!;
  if (
    bytes[pos + 1] !== 0x48 || bytes[pos + 2] !== 0x54 || bytes[pos + 3] !== 0x54 || bytes[pos + 4] !== 0x50 || bytes[pos + 5] !== 0x2f ||
    major < 0x30 || major > 0x39 || bytes[pos + 7] !== 0x2e || minor < 0x30 || minor > 0x39 ||
    (pos + 9 !== end && (bytes[pos + 9] !== CR || bytes[pos + 10] !== LF))
  ) {
    return refuse(400, "malformed request line");
  }
  if (major !== 0x31) return refuse(505, `HTTP/${String.fromCharCode(major)}.${String.fromCharCode(minor)} is not supported`);
  const minorVersion: 0 | 1 = minor === 0x30 ? 0 : 1;

  let contentLength = -1;
  // Transfer-Encoding, over all its lines: how many codings, how many of them chunked, whether the
  // last one is, whether one was empty, and all of them joined (only a 501 needs them spelled out).
  let codingCount = 0;
  let chunkedCount = 0;
  let chunkedLast = false;
  let emptyCoding = false;
  let codings: string | undefined;
  let close = false;
  let keepAliveAsked = false;
  // The last Expect value's bounds; only a refusal needs it as a string.
  let expectFrom = -1;
  let expectTo = -1;
  let ifNoneMatch: string | undefined;
  // `pos` is at the CRLF ending the line before, or at `end`.
  for (pos += 9; pos !== end; ) {
    const start = pos + 2;
    let at = start;
    while ((CLASS[bytes[at]!]! & TOKEN) !== 0) at++;
    if (at === start || bytes[at] !== COLON) return nameless(bytes, start);
    const nameLength = at - start;
    // The value without the optional whitespace (SP, HTAB) at its ends; any other control is refused.
    let from = -1;
    let to = -1;
    for (at++; ; at++) {
      const c = bytes[at]!;
      if (c === CR && bytes[at + 1] === LF) break;
      if ((CLASS[c]! & VALUE) === 0) return refuse(400, "invalid character in a header value");
      if (!isOws(c)) {
        if (from === -1) from = at;
        to = at + 1;
      }
    }
    if (from === -1) from = to = at;
    pos = at;
    switch (nameLength) {
      case 6:
        if (sameIgnoringCase(bytes, start, start + 6, EXPECT)) {
          expectFrom = from;
          expectTo = to;
        }
        break;
      case 10:
        if (sameIgnoringCase(bytes, start, start + 10, CONNECTION)) {
          for (let element = from; ; ) {
            const elementTo = elementEnd(bytes, element, to);
            if (elementIs(bytes, element, elementTo, CLOSE)) close = true;
            else if (elementIs(bytes, element, elementTo, KEEP_ALIVE)) keepAliveAsked = true;
            if (elementTo === to) break;
            element = elementTo + 1;
          }
        }
        break;
      case 13:
        if (sameIgnoringCase(bytes, start, start + 13, IF_NONE_MATCH)) {
          const value = bytes.toString("latin1", from, to);
          ifNoneMatch = ifNoneMatch === undefined ? value : `${ifNoneMatch}, ${value}`;
        }
        break;
      case 14:
        if (sameIgnoringCase(bytes, start, start + 14, CONTENT_LENGTH)) {
          // One line, one value (RFC 9112 §6.3 lets a server refuse a list of equal values, and a
          // proxy may have read the first of two lines where this would read the second).
          if (contentLength !== -1) return refuse(400, "more than one content-length");
          // Up to 15 digits, so the length stays an exact integer.
          if (to === from || to - from > 15) return refuse(400, "invalid content-length");
          let length = 0;
          for (let i = from; i < to; i++) {
            const digit = bytes[i]! - 0x30;
            if (digit < 0 || digit > 9) return refuse(400, "invalid content-length");
            length = length * 10 + digit;
          }
          contentLength = length;
        }
        break;
      case 17:
        if (sameIgnoringCase(bytes, start, start + 17, TRANSFER_ENCODING)) {
          for (let element = from; ; ) {
            const elementTo = elementEnd(bytes, element, to);
            const codingFrom = owsEnd(bytes, element, elementTo);
            const codingTo = owsStart(bytes, codingFrom, elementTo);
            const chunked = sameIgnoringCase(bytes, codingFrom, codingTo, CHUNKED);
            const coding = chunked ? "chunked" : bytes.toString("latin1", codingFrom, codingTo).toLowerCase();
            codings = codings === undefined ? coding : `${codings}, ${coding}`;
            codingCount++;
            if (chunked) chunkedCount++;
            chunkedLast = chunked;
            if (codingTo === codingFrom) emptyCoding = true;
            if (elementTo === to) break;
            element = elementTo + 1;
          }
        }
        break;
    }
  }
  if (codingCount > 0) {
    if (contentLength !== -1) return refuse(400, "both content-length and transfer-encoding");
    // RFC 9112 §6.1: HTTP/1.0 has no transfer codings; a proxy may well frame it by Content-Length.
    if (minorVersion === 0) return refuse(400, "transfer-encoding in an HTTP/1.0 request");
    if (emptyCoding) return refuse(400, "empty transfer coding");
    if (!chunkedLast) return refuse(400, "chunked is not the final transfer coding");
    if (chunkedCount > 1) return refuse(400, "chunked applied more than once");
    if (codingCount > 1) return refuse(501, `transfer-encoding ${codings} is not supported`);
  }
  if (expectFrom !== -1 && !sameIgnoringCase(bytes, expectFrom, expectTo, CONTINUE)) {
    return refuse(417, `unsupported expectation ${bytes.toString("latin1", expectFrom, expectTo).toLowerCase()}`);
  }
  return {
    method: methodOf(bytes, methodStart, methodEnd),
    // "/", where most OCSP clients post, costs a native call as a latin1 slice but nothing as a char code.
    target: targetEnd - targetStart === 1 ? String.fromCharCode(bytes[targetStart]!) : bytes.toString("latin1", targetStart, targetEnd),
    minorVersion,
    contentLength: contentLength === -1 ? 0 : contentLength,
    chunked: codingCount > 0,
    keepAlive: minorVersion === 1 ? !close : keepAliveAsked,
    expectContinue: expectFrom !== -1 && minorVersion === 1,
    ifNoneMatch,
    length: end + 4,
  };
}

export function isRefusal(parsed: RequestHead | HeadRefusal): parsed is HeadRefusal {
  return (parsed as HeadRefusal).refused !== undefined;
}

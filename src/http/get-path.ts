const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes an OCSP request carried in a GET path (RFC 6960 Appendix A.1: the URL-encoded base64 of
 * the DER), given the part of the path after the responder's prefix. Real clients are lenient in
 * what they send, so this is too: percent-encoded or raw '+', '/' and '='; padding missing;
 * base64url; extra leading slashes. Returns `undefined` when the text cannot be a base64 request,
 * and the decoded bytes otherwise (possibly longer than `maxBytes`: the caller decides).
 */
export function decodeGetPath(rest: string): Buffer | undefined {
  let text: string;
  try {
    text = rest.includes("%") ? decodeURIComponent(rest) : rest;
  } catch {
    return undefined;
  }
  // A DER SEQUENCE (0x30) always encodes to a leading 'M', so leading slashes are never base64:
  // they come from clients that join "http://host/path/" and "/<request>" (repeated slashes).
  let start = 0;
  while (start < text.length && text.charCodeAt(start) === 0x2f) start++;
  if (start > 0) text = text.slice(start);
  // Form-style decoding by a proxy or client turns an unescaped '+' into ' '; base64 needs it back.
  if (text.includes(" ")) text = text.replaceAll(" ", "+");
  if (text.includes("-") || text.includes("_")) text = text.replaceAll("-", "+").replaceAll("_", "/");
  if (text.length === 0 || !BASE64.test(text) || text.replace(/=+$/, "").length % 4 === 1) return undefined;
  return Buffer.from(text, "base64");
}

/**
 * A CRL file's DER: the file itself when it is DER, or its `X509 CRL` / `CRL` PEM block decoded.
 * A PEM CRL of a million entries is ~50 MB of base64, so it is decoded in slices that yield to
 * the event loop in between.
 */
import { CrlError } from "./crl-error.ts";
import { sharedMemoryBuffer } from "../files/shared-memory.ts";

const LABELS = ["X509 CRL", "CRL"] as const;
/** Base64 characters decoded per slice: ~1 MB decodes in about a millisecond. */
const SLICE = 1 << 20;

/**
 * The DER of the CRL in `file` (bytes as read). DER is recognised by its leading SEQUENCE octet;
 * anything else must contain a `-----BEGIN X509 CRL-----` or `-----BEGIN CRL-----` block.
 * Throws CrlError when neither is found or the base64 is broken.
 */
export async function crlDerOfFile(file: Buffer): Promise<Buffer> {
  if (file[0] === 0x30) return file;
  for (const label of LABELS) {
    const begin = `-----BEGIN ${label}-----`;
    const start = file.indexOf(begin, 0, "latin1");
    if (start < 0) continue;
    const bodyStart = start + begin.length;
    const end = file.indexOf(`-----END ${label}-----`, bodyStart, "latin1");
    if (end < 0) throw new CrlError(`PEM block ${label} has no END line`);
    return decodeBase64(file, bodyStart, end);
  }
  throw new CrlError("neither DER nor a PEM X509 CRL block");
}

async function decodeBase64(file: Buffer, start: number, end: number): Promise<Buffer> {
  // Decoded straight into shared memory (see files/shared-memory.ts): 3 octets per 4 characters at most.
  const der = sharedMemoryBuffer(Math.ceil(((end - start) * 3) / 4));
  let written = 0;
  let carry = "";
  for (let p = start; p < end; ) {
    const sliceEnd = Math.min(end, p + SLICE);
    const text = carry + file.toString("latin1", p, sliceEnd).replace(/\s+/g, "");
    p = sliceEnd;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new CrlError("PEM body is not base64");
    // Only whole 4-character groups decode independently; the rest waits for the next slice.
    const whole = p < end ? text.length - (text.length % 4) : text.length;
    if (p >= end && whole % 4 !== 0) throw new CrlError("PEM body is not base64 (length)");
    written += der.write(text.slice(0, whole), written, "base64");
    carry = text.slice(whole);
    if (p < end) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (written === 0) throw new CrlError("PEM block is empty");
  return der.subarray(0, written);
}

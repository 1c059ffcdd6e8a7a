/**
 * The serial a `vouch query` CertID carries, for the serials where "minimal" is ambiguous: negative
 * ones (a first octet from 0x80) and padded ones. A certificate's serial is an INTEGER and goes into
 * the CertID as the certificate encodes it, which is what `openssl ocsp -cert` sends too; `--serial`
 * text is a positive number written in hex, so 0xff80 is 65408, never -128.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { decodeOcspRequest } from "../ocsp/decode-request.ts";
import { buildQueryRequest, type QueryRequestOptions } from "./query-request.ts";

const run = promisify(execFile);
const openssl = (args: string[], cwd: string) => run("openssl", args, { cwd, env: { ...process.env, OPENSSL_CONF: "/dev/null" }, encoding: "buffer" });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-query-serial-"));
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Serial CA", "-days", "2"], dir);
  await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=leaf"], dir);
  // A negative serial (RFC 5280 asks for positive ones; CAs in the wild have issued them).
  await openssl(["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "-128", "-out", "negative.pem", "-days", "2"], dir);
});
after(() => rm(dir, { recursive: true, force: true }));

const options = (fields: Partial<QueryRequestOptions>): QueryRequestOptions => ({
  issuer: join(dir, "ca.pem"),
  cert: [],
  serial: [],
  hash: "sha1",
  nonce: false,
  signChain: [],
  freshnessProof: [],
  ...fields,
});

/** The serial content octets of each CertID in the request, as Vouch's strict decoder reads them. */
async function askedSerials(fields: Partial<QueryRequestOptions>): Promise<string[]> {
  const built = await buildQueryRequest(options(fields));
  return decodeOcspRequest(built.der).requests.map((single) => single.certId.serialNumber.toString("hex"));
}

describe("vouch query: the serial in the CertID", () => {
  test("--cert with a negative serial: the certificate's encoding, the one openssl ocsp sends", async () => {
    assert.deepEqual(await askedSerials({ cert: [join(dir, "negative.pem")] }), ["80"]);
    await openssl(["ocsp", "-issuer", "ca.pem", "-cert", "negative.pem", "-no_nonce", "-reqout", "openssl-request.der"], dir);
    const fromOpenssl = decodeOcspRequest(await readFile(join(dir, "openssl-request.der")));
    assert.equal(fromOpenssl.requests[0]!.certId.serialNumber.toString("hex"), "80");
  });

  test("--cert with a padded serial (0xff before 0x80): refused as no DER certificate, so never sent", async () => {
    const der = Buffer.from((await readFile(join(dir, "negative.pem"), "utf8")).replace(/-----[^-]+-----|\s/g, ""), "base64");
    const at = der.indexOf(Buffer.of(0x02, 0x01, 0x80));
    assert.ok(der[0] === 0x30 && der[1] === 0x82 && der[4] === 0x30 && der[5] === 0x81 && at > 0, "the layout this test patches");
    const outer = der.readUInt16BE(2) + 1;
    const padded = Buffer.concat([Buffer.of(0x30, 0x82, outer >> 8, outer & 0xff, 0x30, 0x81, der[6]! + 1), der.subarray(7, at), Buffer.of(0x02, 0x02, 0xff, 0x80), der.subarray(at + 3)]);
    await writeFile(join(dir, "padded.der"), padded);
    await assert.rejects(buildQueryRequest(options({ cert: [join(dir, "padded.der")] })), (error) => error instanceof ConfigError && /not a PEM or DER X\.509 certificate/.test(error.message));
  });

  test("--serial is a positive number in hex: a first octet from 0x80 gets a 0x00, leading zeros go, 0xff stays", async () => {
    assert.deepEqual(await askedSerials({ serial: ["ff80", "0x80", "00:00:7f", "0x00ff80", "ff7f", "0"] }), ["00ff80", "0080", "7f", "00ff80", "00ff7f", "00"]);
  });
});

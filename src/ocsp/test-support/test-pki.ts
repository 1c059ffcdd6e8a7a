/**
 * Test support (not a test): a throwaway PKI made with the openssl CLI, and helpers to
 * drive `openssl ocsp`. Fixtures are generated per run so that no opaque blobs live in the repo.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { certificateFields } from "../certificate-fields.ts";
import { encodeCertId } from "../cert-id.ts";
import { explicit, octetString, oid, sequence, tlv } from "../der-writer.ts";
import { id_pkix_ocsp, id_pkix_ocsp_nonce, id_pkix_ocsp_service_locator } from "../oids.ts";
import type { HashAlgorithm } from "../types.ts";

/** Paths and DER of the generated PKI. The CA signs OCSP responses itself. */
export interface TestPki {
  readonly dir: string;
  readonly caPem: string;
  readonly caKey: string;
  readonly leaf1Pem: string;
  readonly leaf2Pem: string;
  readonly requestorPem: string;
  readonly requestorKey: string;
  readonly caDer: Buffer;
  readonly leaf1Der: Buffer;
  readonly leaf2Der: Buffer;
  readonly requestorDer: Buffer;
  /** Removes the directory. */
  cleanup(): void;
}

/** Runs openssl in `cwd`, returning stdout+stderr as text; throws with the output on failure. */
export function openssl(cwd: string, args: readonly string[]): string {
  try {
    return execFileSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`openssl ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`, { cause: error });
  }
}

/** Runs openssl and returns stdout then stderr, whatever the exit status (verification output goes to stderr). */
export function opensslOutput(cwd: string, args: readonly string[]): string {
  const result = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  return `${result.stdout}${result.stderr}`;
}

/** The DER inside the first PEM block of a file. */
export function pemFileToDer(path: string): Buffer {
  const pem = readFileSync(path, "latin1");
  const body = /-----BEGIN [^-]+-----([\s\S]*?)-----END/.exec(pem)?.[1];
  if (body === undefined) throw new Error(`no PEM block in ${path}`);
  return Buffer.from(body.replace(/\s+/g, ""), "base64");
}

/** Serial numbers chosen to exercise encodings: leaf1's top bit is set (so DER adds a 0x00). */
export const LEAF1_SERIAL_HEX = "8F0123456789ABCDEF";
export const LEAF2_SERIAL_HEX = "07";
const REQUESTOR_SERIAL_HEX = "1000";

/** A CA (EC P-256), two leaves and a requestor (EC P-256) signed by it, in a fresh temp dir. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "vouch-ocsp-test-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(dir, [
    "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
    "-subj", "/C=NL/O=Vouch Test/CN=Vouch Test CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
  ]);
  const issue = (name: string, serialHex: string, subject: string): void => {
    openssl(dir, ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
    openssl(dir, [
      "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key",
      "-set_serial", `0x${serialHex}`, "-days", "10", "-out", `${name}.pem`,
    ]);
  };
  issue("leaf1", LEAF1_SERIAL_HEX, "/CN=leaf1.example");
  issue("leaf2", LEAF2_SERIAL_HEX, "/CN=leaf2.example");
  issue("requestor", REQUESTOR_SERIAL_HEX, "/O=Vouch Test/CN=OCSP requestor");
  const path = (file: string): string => join(dir, file);
  return {
    dir,
    caPem: path("ca.pem"),
    caKey: path("ca.key"),
    leaf1Pem: path("leaf1.pem"),
    leaf2Pem: path("leaf2.pem"),
    requestorPem: path("requestor.pem"),
    requestorKey: path("requestor.key"),
    caDer: pemFileToDer(path("ca.pem")),
    leaf1Der: pemFileToDer(path("leaf1.pem")),
    leaf2Der: pemFileToDer(path("leaf2.pem")),
    requestorDer: pemFileToDer(path("requestor.pem")),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `openssl x509 -serial` of a certificate, as upper-case hex without leading zeros. */
export function opensslSerial(dir: string, certPem: string): string {
  const out = openssl(dir, ["x509", "-in", certPem, "-noout", "-serial"]);
  return (/serial=([0-9A-F]+)/.exec(out)?.[1] ?? "").replace(/^0+(?=.)/, "");
}

/** Upper-case hex of INTEGER content octets without leading zeros (positive serials). */
export function serialHex(content: Buffer): string {
  return content.toString("hex").toUpperCase().replace(/^0+(?=.)/, "");
}

/** Writes an OCSP request with `openssl ocsp ... -reqout` and returns its DER. */
export function opensslRequest(pki: TestPki, name: string, args: readonly string[]): Buffer {
  const out = join(pki.dir, `${name}.req.der`);
  openssl(pki.dir, ["ocsp", ...args, "-reqout", out]);
  return readFileSync(out);
}

// The seeded PRNG the ocsp tests import from here.
export { prng } from "../../../test/support/prng.ts";

/** One generated request and what decoding it must yield. */
export interface RequestCase {
  readonly name: string;
  readonly der: Buffer;
  readonly hash: HashAlgorithm;
  /** PEM paths of the certificates asked about, in order. */
  readonly certs: readonly string[];
  readonly nonce: boolean;
  /** Certificates carried in the signature, or undefined for an unsigned request. */
  readonly signedWithCerts: number | undefined;
  /** OIDs of the singleRequestExtensions of the first request. */
  readonly singleExtensions: readonly string[];
}

/** Requests as `openssl ocsp` writes them, plus one NSS-style request built by hand. */
export function requestCases(pki: TestPki): RequestCase[] {
  const base = { nonce: true, signedWithCerts: undefined, singleExtensions: [], hash: "sha1" as HashAlgorithm };
  const cases: { name: string; args: string[]; rest: Partial<RequestCase> & { certs: string[] } }[] = [
    { name: "sha1-nonce", args: ["-cert", pki.leaf1Pem], rest: { certs: [pki.leaf1Pem] } },
    { name: "sha1-no-nonce", args: ["-cert", pki.leaf1Pem, "-no_nonce"], rest: { certs: [pki.leaf1Pem], nonce: false } },
    { name: "two-certs", args: ["-cert", pki.leaf1Pem, "-cert", pki.leaf2Pem], rest: { certs: [pki.leaf1Pem, pki.leaf2Pem] } },
    ...(["sha256", "sha384", "sha512"] as const).map((hash) => ({
      name: hash,
      args: [`-${hash}`, "-cert", pki.leaf2Pem],
      rest: { certs: [pki.leaf2Pem], hash },
    })),
    {
      name: "signed",
      args: ["-cert", pki.leaf1Pem, "-signer", pki.requestorPem, "-signkey", pki.requestorKey],
      rest: { certs: [pki.leaf1Pem], signedWithCerts: 1 },
    },
    {
      name: "signed-sign-other",
      args: ["-cert", pki.leaf1Pem, "-signer", pki.requestorPem, "-signkey", pki.requestorKey, "-sign_other", pki.leaf2Pem],
      rest: { certs: [pki.leaf1Pem], signedWithCerts: 2 },
    },
    {
      name: "signed-no-certs",
      args: ["-sha256", "-cert", pki.leaf2Pem, "-no_nonce", "-signer", pki.requestorPem, "-signkey", pki.requestorKey, "-no_certs"],
      rest: { certs: [pki.leaf2Pem], signedWithCerts: 0, nonce: false, hash: "sha256" },
    },
  ];
  const generated = cases.map(({ name, args, rest }) => ({
    ...base,
    ...rest,
    name,
    der: opensslRequest(pki, name, ["-issuer", pki.caPem, ...args]),
  }));
  return [...generated, nssStyleRequest(pki)];
}

/**
 * A request shaped like NSS's: a ServiceLocator (RFC 6960 §4.4.6) in singleRequestExtensions
 * and a nonce with the RFC 8954 inner OCTET STRING.
 */
function nssStyleRequest(pki: TestPki): RequestCase {
  const leaf = certificateFields(pki.leaf1Der);
  const certId = encodeCertId("sha1", pki.caDer, leaf.serialNumber);
  const locator = sequence(
    leaf.issuerDer,
    sequence(sequence(oid(id_pkix_ocsp), tlv(0x86, Buffer.from("http://ocsp.example/", "latin1")))),
  );
  const serviceLocator = sequence(oid(id_pkix_ocsp_service_locator), octetString(locator));
  const nonce = sequence(oid(id_pkix_ocsp_nonce), octetString(octetString(Buffer.alloc(32, 0x5a))));
  const request = sequence(certId, explicit(0, sequence(serviceLocator)));
  const der = sequence(sequence(sequence(request), explicit(2, sequence(nonce))));
  return {
    name: "nss-service-locator",
    der,
    hash: "sha1",
    certs: [pki.leaf1Pem],
    nonce: true,
    signedWithCerts: undefined,
    singleExtensions: [id_pkix_ocsp_service_locator],
  };
}

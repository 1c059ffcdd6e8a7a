/**
 * Test support (not a test): one generated hierarchy with a certificate for every check of the
 * validation process, and the plumbing (sources, cache, validator) the tests assemble from it.
 *
 *   Acme Root ─┬─ Acme Issuing CA ── leaves (good, usages, nocheck, unknown critical, no AKI, …)
 *              ├─ Acme Issuing CA (decoy: same name, other key)
 *              ├─ Acme Direct (leaf signed by the root)
 *              ├─ Acme CA pathlen 0 ─┬─ Acme Sub CA ── leaf
 *              │                     └─ leaf
 *              ├─ Acme CA no certSign ── leaf
 *              ├─ Acme Short CA (1 day) ── leaf (30 days)
 *              ├─ Acme NC Dir (dirName constraints) ─┬─ leaves in, out, excluded
 *              │                                      └─ Acme NC Sub ── leaf out
 *              └─ Acme NC Net (dNS/email/IP/URI constraints) ── leaves
 *   Loop X ⇄ Loop Y (cross-signed, no anchor) ── leaf
 *   Loop Y0 (another root, never an anchor) ── foreign leaf
 */
import { X509Certificate } from "node:crypto";
import type { FixedClock } from "../../clock.ts";
import { fixedClock } from "../../clock.ts";
import type { MemoryEntry } from "../../status/memory-source.ts";
import { memorySource } from "../../status/memory-source.ts";
import type { CertificateCache } from "../certificate-cache.ts";
import type { CertificateValidator } from "../certificate-validator.ts";
import { certificateCache } from "../memory-certificate-cache.ts";
import type { RevocationIssuer } from "../revocation-lookup.ts";
import { revocationLookup } from "../revocation-lookup.ts";
import type { CertificateValidatorOptions } from "../validate-certificate.ts";
import { certificateValidator } from "../validate-certificate.ts";
import type { CertificateMaker, Made } from "./openssl-certificates.ts";
import { EXT, certificateMaker, withBrokenSignature } from "./openssl-certificates.ts";

/** Every certificate of the hierarchy, by role. */
export interface TrustFixture {
  readonly maker: CertificateMaker;
  readonly root: Made;
  readonly ca: Made;
  readonly decoy: Made;
  readonly caPathLen0: Made;
  readonly subCa: Made;
  readonly caNoCertSign: Made;
  readonly caShort: Made;
  readonly ncDir: Made;
  readonly ncSub: Made;
  readonly ncNet: Made;
  readonly loopX: Made;
  readonly loopY: Made;
  readonly leaves: Readonly<Record<LeafName, Made>>;
  /** `leaves.good` with one signature octet changed. */
  readonly badSignature: Buffer;
  /** Every CA except the loop and the decoy (which the cache gets only when a test says so). */
  readonly cas: readonly Made[];
  /** A time inside every certificate's validity: one hour after the root was made. */
  readonly now: Date;
}

/** The end certificates. */
export type LeafName =
  | "good"
  | "serverOnly"
  | "keyEnciphermentOnly"
  | "bare"
  | "unknownCritical"
  | "nocheckSigner"
  | "nocheckNotSigner"
  | "noAki"
  | "direct"
  | "underPathLen0"
  | "underSubCa"
  | "underLeaf"
  | "underNoCertSign"
  | "underShort"
  | "dirIn"
  | "dirOut"
  | "dirExcluded"
  | "dirDeepOut"
  | "netIn"
  | "netDnsOut"
  | "netDnsExcluded"
  | "netEmailOut"
  | "netIpOut"
  | "netUri"
  | "underLoop"
  | "foreign";

const leafExtensions = (...extra: string[]): string[] => [...EXT.leaf, ...extra];

/** Generates the hierarchy (about 80 openssl calls, run in parallel where independent). */
export async function buildTrustFixture(): Promise<TrustFixture> {
  const maker = await certificateMaker();
  const root = await maker.selfSigned("root", { subject: "/C=SE/O=Acme/CN=Acme Root", extensions: EXT.root });
  const ca = (name: string, subject: string, extensions: readonly string[] = EXT.ca, more: { days?: number; sections?: string } = {}): Promise<Made> =>
    maker.issue(name, root, { subject, extensions, ...more });
  const [issuing, decoy, caPathLen0, caNoCertSign, caShort, ncDir, ncNet] = await Promise.all([
    ca("ca", "/C=SE/O=Acme/CN=Acme Issuing CA"),
    ca("decoy", "/C=SE/O=Acme/CN=Acme Issuing CA"),
    ca("ca-pathlen0", "/C=SE/O=Acme/CN=Acme CA pathlen 0", ["basicConstraints = critical,CA:TRUE,pathlen:0", ...EXT.ca.slice(1)]),
    ca("ca-no-certsign", "/C=SE/O=Acme/CN=Acme CA no certSign", ["basicConstraints = critical,CA:TRUE", "keyUsage = critical,cRLSign", "subjectKeyIdentifier = hash"]),
    ca("ca-short", "/C=SE/O=Acme/CN=Acme Short CA", EXT.ca, { days: 1 }),
    ca("nc-dir", "/C=SE/O=Acme/CN=Acme NC Dir", [...EXT.ca, "nameConstraints = critical,permitted;dirName:permitted_dn,excluded;dirName:excluded_dn"], {
      sections: "[ permitted_dn ]\nC = SE\nO = Acme\n[ excluded_dn ]\nC = SE\nO = Acme\nOU = Blocked\n",
    }),
    ca("nc-net", "/C=SE/O=Acme/CN=Acme NC Net", [
      ...EXT.ca,
      "nameConstraints = critical,permitted;DNS:acme.test,permitted;email:acme.test,permitted;IP:10.0.0.0/255.0.0.0,permitted;URI:.acme.test,excluded;DNS:bad.acme.test",
    ]),
  ]);
  const [subCa, ncSub] = await Promise.all([
    maker.issue("sub-ca", caPathLen0, { subject: "/C=SE/O=Acme/CN=Acme Sub CA", extensions: EXT.ca }),
    maker.issue("nc-sub", ncDir, { subject: "/C=SE/O=Acme/CN=Acme NC Sub", extensions: EXT.ca }),
  ]);
  // A loop: X is signed by Y's key, Y by X's key; Y0 (Y's key, self-signed) only bootstraps X.
  const loopY0 = await maker.selfSigned("loop-y0", { subject: "/C=SE/O=Loop/CN=Loop Y", extensions: EXT.root });
  const loopX = await maker.issue("loop-x", loopY0, { subject: "/C=SE/O=Loop/CN=Loop X", extensions: EXT.ca });
  const loopY = await maker.issue("loop-y", loopX, { subject: "/C=SE/O=Loop/CN=Loop Y", extensions: EXT.ca, key: loopY0.key });

  const leaf = (name: LeafName, issuer: Made, subject: string, extensions: readonly string[] = EXT.leaf, days?: number): Promise<[LeafName, Made]> =>
    maker.issue(name, issuer, { subject, extensions, ...(days === undefined ? {} : { days }) }).then((made) => [name, made]);
  const ku = (usage: string): string[] => ["basicConstraints = critical,CA:FALSE", `keyUsage = critical,${usage}`, "subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid:always"];
  const entries = await Promise.all([
    leaf("good", issuing, "/C=SE/O=Acme/CN=good"),
    leaf("serverOnly", issuing, "/C=SE/O=Acme/CN=server only", [...ku("digitalSignature"), "extendedKeyUsage = serverAuth"]),
    leaf("keyEnciphermentOnly", issuing, "/C=SE/O=Acme/CN=key encipherment", ku("keyEncipherment")),
    leaf("bare", issuing, "/C=SE/O=Acme/CN=bare", ["basicConstraints = critical,CA:FALSE", "authorityKeyIdentifier = keyid:always"]),
    leaf("unknownCritical", issuing, "/C=SE/O=Acme/CN=unknown critical", leafExtensions("1.2.3.4 = critical,ASN1:NULL")),
    leaf("nocheckSigner", issuing, "/C=SE/O=Acme/CN=OCSP signer", [...ku("digitalSignature"), "extendedKeyUsage = OCSPSigning", "1.3.6.1.5.5.7.48.1.5 = ASN1:NULL"]),
    leaf("nocheckNotSigner", issuing, "/C=SE/O=Acme/CN=nocheck client", leafExtensions("1.3.6.1.5.5.7.48.1.5 = ASN1:NULL")),
    leaf("noAki", issuing, "/C=SE/O=Acme/CN=no AKI", [...EXT.leaf.filter((line) => !line.startsWith("authorityKeyIdentifier")), "authorityKeyIdentifier = none"]),
    leaf("direct", root, "/C=SE/O=Acme/CN=Acme Direct"),
    leaf("underPathLen0", caPathLen0, "/C=SE/O=Acme/CN=under pathlen 0"),
    leaf("underSubCa", subCa, "/C=SE/O=Acme/CN=under sub CA"),
    leaf("underNoCertSign", caNoCertSign, "/C=SE/O=Acme/CN=under no certSign"),
    leaf("underShort", caShort, "/C=SE/O=Acme/CN=under short", EXT.leaf, 30),
    leaf("dirIn", ncDir, "/C=SE/O=Acme/CN=inside"),
    leaf("dirOut", ncDir, "/C=SE/O=Other/CN=outside"),
    leaf("dirExcluded", ncDir, "/C=SE/O=Acme/OU=Blocked/CN=excluded"),
    leaf("dirDeepOut", ncSub, "/C=SE/O=Other/CN=deep outside"),
    leaf("netIn", ncNet, "/C=SE/O=Acme/CN=net inside", leafExtensions("subjectAltName = DNS:www.acme.test,email:alice@acme.test,IP:10.1.2.3")),
    leaf("netDnsOut", ncNet, "/C=SE/O=Acme/CN=dns outside", leafExtensions("subjectAltName = DNS:www.evil.test")),
    leaf("netDnsExcluded", ncNet, "/C=SE/O=Acme/CN=dns excluded", leafExtensions("subjectAltName = DNS:x.bad.acme.test")),
    leaf("netEmailOut", ncNet, "/C=SE/O=Acme/CN=email outside", leafExtensions("subjectAltName = email:alice@evil.test")),
    leaf("netIpOut", ncNet, "/C=SE/O=Acme/CN=ip outside", leafExtensions("subjectAltName = IP:192.168.1.1")),
    leaf("netUri", ncNet, "/C=SE/O=Acme/CN=uri", leafExtensions("subjectAltName = URI:https://www.acme.test/")),
    leaf("underLoop", loopX, "/C=SE/O=Loop/CN=under loop"),
    leaf("foreign", loopY0, "/C=SE/O=Loop/CN=foreign"),
  ]);
  const leaves = Object.fromEntries(entries) as Record<LeafName, Made>;
  // A leaf used as an issuer: signed with the good leaf's key, naming it as issuer.
  const underLeaf = await maker.issue("under-leaf", leaves.good, { subject: "/C=SE/O=Acme/CN=under leaf", extensions: EXT.leaf });
  leaves.underLeaf = underLeaf;
  return {
    maker,
    root,
    ca: issuing,
    decoy,
    caPathLen0,
    subCa,
    caNoCertSign,
    caShort,
    ncDir,
    ncSub,
    ncNet,
    loopX,
    loopY,
    leaves,
    badSignature: withBrokenSignature(leaves.good.der),
    cas: [issuing, caPathLen0, subCa, caNoCertSign, caShort, ncDir, ncSub, ncNet],
    // Read from the certificate itself, so the tests' clock never depends on when they run.
    now: new Date(Date.parse(new X509Certificate(root.der).validFrom) + 3_600_000),
  };
}

/** Status entries by issuer: what each issuer's memory source says beyond "good". */
export type StatusOverrides = ReadonlyMap<Made, ReadonlyMap<string, MemoryEntry>>;

/** What a test varies when it assembles a validator. */
export interface Assembly {
  readonly anchors?: readonly Made[];
  /** Certificates in the persistent part of the cache (default: every CA of the hierarchy). */
  readonly persistent?: readonly Buffer[];
  /** Certificates added to the unauthenticated tier (as clients send them), in order. */
  readonly unauthenticated?: readonly Buffer[];
  /** Issuers that get a revocation source (default: the root and every CA); others have none. */
  readonly sourced?: readonly Made[];
  readonly statuses?: StatusOverrides;
  readonly unknownStatus?: "fail" | "pass";
  readonly maxDepth?: number;
  readonly clock?: FixedClock;
}

/** A validator over the fixture, with the cache it uses. */
export function assemble(fixture: TrustFixture, assembly: Assembly = {}): { validator: CertificateValidator; cache: CertificateCache; clock: FixedClock } {
  const clock = assembly.clock ?? fixedClock(fixture.now);
  const cache = certificateCache({ persistent: assembly.persistent ?? fixture.cas.map((made) => made.der), maxCount: 100, maxBytes: 1_000_000 });
  for (const der of assembly.unauthenticated ?? []) cache.add(der);
  const sourced = assembly.sourced ?? [fixture.root, ...fixture.cas, fixture.loopX, fixture.loopY];
  const issuers: RevocationIssuer[] = sourced.map((issuer) => ({
    certificate: issuer.der,
    source: memorySource({ issuer: issuer.der, entries: assembly.statuses?.get(issuer) ?? new Map(), listsIssued: false, clock }),
  }));
  const options: CertificateValidatorOptions = {
    anchors: (assembly.anchors ?? [fixture.root]).map((made) => made.der),
    cache,
    revocation: revocationLookup(issuers),
    clock,
    unknownStatus: assembly.unknownStatus ?? "fail",
    maxDepth: assembly.maxDepth,
  };
  return { validator: certificateValidator(options), cache, clock };
}

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import type { PkiKeyType } from "../pki/openssl-pki.ts";
import { memorySource } from "../status/memory-source.ts";
import { certificateCache } from "./memory-certificate-cache.ts";
import { revocationLookup } from "./revocation-lookup.ts";
import type { CertificateMaker, Made } from "./test-support/openssl-certificates.ts";
import { EXT, certificateMaker, withBrokenSignature } from "./test-support/openssl-certificates.ts";
import { certificateValidator } from "./validate-certificate.ts";

/** Root key type → leaf key type: every signature algorithm Vouch signs with, verified on a path. */
const PAIRS: readonly [PkiKeyType, PkiKeyType][] = [
  ["rsa-2048", "ecdsa-p256"],
  ["rsa-pss-2048", "rsa-pss-2048"],
  ["ecdsa-p384", "ed25519"],
  ["ed25519", "ecdsa-p384"],
];

let maker: CertificateMaker;
const chains = new Map<string, { root: Made; leaf: Made }>();
before(async () => {
  maker = await certificateMaker();
  await Promise.all(
    PAIRS.map(async ([rootType, leafType]) => {
      const label = `${rootType}-${leafType}`;
      const root = await maker.selfSigned(`root-${label}`, { subject: `/CN=Root ${label}`, extensions: EXT.root, keyType: rootType });
      const leaf = await maker.issue(`leaf-${label}`, root, { subject: `/CN=Leaf ${label}`, extensions: EXT.leaf, keyType: leafType });
      chains.set(label, { root, leaf });
    }),
  );
});
after(async () => {
  await maker.remove();
});

describe("signatures of every key type verify on a path", () => {
  for (const [rootType, leafType] of PAIRS) {
    const label = `${rootType}-${leafType}`;
    const run = async (certificate: (leaf: Made) => Buffer): Promise<string> => {
      const { root, leaf } = chains.get(label)!;
      const clock = fixedClock(Date.parse(new X509Certificate(leaf.der).validFrom) + 60_000);
      const validator = certificateValidator({
        anchors: [root.der],
        cache: certificateCache({ persistent: [], maxCount: 10, maxBytes: 100_000 }),
        revocation: revocationLookup([{ certificate: root.der, source: memorySource({ issuer: root.der, entries: new Map(), listsIssued: false, clock }) }]),
        clock,
        unknownStatus: "fail",
      });
      const result = await validator.authenticate(certificate(leaf), "tls-client-auth", new AbortController().signal);
      return result.ok ? "ok" : result.failed;
    };
    test(`${rootType} root, ${leafType} leaf → ok`, async () => assert.equal(await run((leaf) => leaf.der), "ok"));
    test(`${rootType} root, ${leafType} leaf, signature changed → bad-signature`, async () => assert.equal(await run((leaf) => withBrokenSignature(leaf.der)), "bad-signature"));
  }
});

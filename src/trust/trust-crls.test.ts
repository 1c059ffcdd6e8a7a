import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { offlineRoot, type OfflineRoot } from "../../test/support/offline-root.ts";
import { fixedClock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { silentLogger } from "../observability/logger.ts";
import { createPki, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { revocationLookup } from "./revocation-lookup.ts";
import { openTrustCrls, type TrustCrls } from "./trust-crls.ts";

const NEVER = new AbortController().signal;
const HOUR = 3_600_000;
let folder: string;
let pki: Pki;
let root: OfflineRoot;
let rootDer: Buffer;
let caDer: Buffer;
const opened: TrustCrls[] = [];

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-trust-crls-"));
  pki = await createPki({ dir: join(folder, "pki") });
  root = await offlineRoot(pki);
  [rootDer, caDer] = await Promise.all([readPemDer(pki.root), readPemDer(pki.ca)]);
});
after(async () => {
  await Promise.all(opened.map((crls) => crls.close()));
});

async function open(files: readonly string[], candidates: readonly Buffer[], now = Date.now()): Promise<TrustCrls> {
  const crls = await openTrustCrls(files, candidates, fixedClock(now), silentLogger);
  opened.push(crls);
  return crls;
}

/** The issuing CA's status as the validation process would get it. */
async function caStatus(crls: TrustCrls): Promise<string | undefined> {
  return (await revocationLookup(crls.issuers).status(caDer, rootDer, NEVER))?.kind;
}

describe("trust.crls", () => {
  test("the root's CRL is matched to the root among the candidates and answers for the issuing CA", async () => {
    const file = join(folder, "root-good.crl");
    await root.publishCrl(file);
    const crls = await open([file], [caDer, rootDer]);
    assert.deepEqual(crls.issuers.map((issuer) => issuer.certificate), [rootDer]);
    assert.equal(await caStatus(crls), "good");
  });

  test("past the CRL's nextUpdate the status is unknown, not tryLater; a permanent revocation stays", async () => {
    const file = join(folder, "root-stale.crl");
    await root.publishCrl(file, { thisUpdate: new Date(Date.now() - 2 * HOUR), nextUpdate: new Date(Date.now() - HOUR) });
    assert.equal(await caStatus(await open([file], [rootDer])), "unknown");
  });

  test("a CRL listing the issuing CA says revoked, also once stale", async () => {
    const other = await createPki({ dir: join(folder, "other") });
    const otherRoot = await offlineRoot(other);
    await otherRoot.revoke(other.ca, "keyCompromise");
    const file = join(folder, "other-root.crl");
    await otherRoot.publishCrl(file, { thisUpdate: new Date(Date.now() - HOUR), nextUpdate: new Date(Date.now() + HOUR) });
    const [otherRootDer, otherCaDer] = await Promise.all([readPemDer(other.root), readPemDer(other.ca)]);
    for (const now of [Date.now(), Date.now() + 2 * HOUR]) {
      const crls = await open([file], [otherRootDer], now);
      assert.equal((await revocationLookup(crls.issuers).status(otherCaDer, otherRootDer, NEVER))?.kind, "revoked");
    }
  });

  const refused: [string, () => Promise<string[]>, () => Buffer[], RegExp][] = [
    ["a CRL whose issuer is not a candidate", async () => [pki.crl], () => [rootDer], /issued by "CN=Vouch Demo Issuing CA,O=Vouch Demo,C=SE", which is neither a trust anchor nor in trust\.certificates/],
    ["a missing file", async () => [join(folder, "missing.crl")], () => [rootDer], /missing\.crl: file not found/],
    [
      "a file that is not a CRL",
      async () => {
        const file = join(folder, "junk.crl");
        await writeFile(file, "junk");
        return [file];
      },
      () => [rootDer],
      /junk\.crl: not a CRL Vouch can use/,
    ],
  ];
  for (const [name, files, candidates, message] of refused) {
    test(`refuses ${name}, naming the entry`, async () => {
      const list = await files();
      await assert.rejects(open(list, candidates()), (error: unknown) => error instanceof ConfigError && error.field === "trust.crls[0]" && message.test(error.message));
    });
  }

  test("a CRL signed by another key than the named certificate's is refused", async () => {
    const other = await createPki({ dir: join(folder, "same-name") });
    const file = join(folder, "same-name-root.crl");
    await (await offlineRoot(other)).publishCrl(file);
    // other's root has the same name as pki's root, but its own key.
    await assert.rejects(open([file], [rootDer]), (error: unknown) => error instanceof ConfigError && /does not verify with the key of any certificate named/.test(error.message));
  });
});

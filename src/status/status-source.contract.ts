/**
 * The behaviour every StatusSource owes, as a node:test suite each source's test file runs
 * against a real openssl-generated PKI (good.pem, revoked.pem revoked for keyCompromise, and a
 * foreign CA's leaf).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { systemClock } from "../clock.ts";
import { HASH_ALGORITHMS } from "../ocsp/types.ts";
import type { Pki } from "../pki/openssl-pki.ts";
import { certIdOfFiles } from "./test-support/cert-id-fixture.ts";
import { pkiSuite, type PkiSuite } from "./test-support/pki-suite.ts";
import type { OpenedSource } from "./status-source.ts";

const SIGNAL = new AbortController().signal;

/**
 * Registers a `describe(name)` suite: one PKI is created in a temporary directory before the
 * suite (removed after), `build` makes the source under test from it, and each test checks one
 * promise of the StatusSource contract.
 */
export function statusSourceContract(name: string, build: (pki: Pki) => Promise<OpenedSource>): void {
  describe(`${name} (StatusSource contract)`, () => {
    let suite: PkiSuite;
    let pki: Pki;
    let source: OpenedSource;
    let createdAt: number;

    before(async () => {
      createdAt = systemClock.now();
      ({ pki } = suite = await pkiSuite("vouch-contract-"));
      source = await build(pki);
    });
    after(async () => {
      await source.close();
      await suite.remove();
    });

    test("answers good for the good certificate", async () => {
      const answer = await source.status(await certIdOfFiles(pki.good, pki.ca), SIGNAL);
      assert.equal(answer?.kind, "good");
    });

    test("answers revoked keyCompromise for the revoked certificate, revoked when the PKI was made", async () => {
      const answer = await source.status(await certIdOfFiles(pki.revoked, pki.ca), SIGNAL);
      assert.equal(answer?.kind, "revoked");
      if (answer?.kind !== "revoked") return;
      assert.equal(answer.reason, "keyCompromise");
      assert.ok(Math.abs(answer.revokedAt.getTime() - createdAt) < 60_000, `revokedAt ${answer.revokedAt.toISOString()}`);
    });

    test("answers undefined for a certificate of another issuer", async () => {
      assert.equal(await source.status(await certIdOfFiles(pki.foreign, pki.foreignCa), SIGNAL), undefined);
    });

    test("answers undefined for our serial under another issuer's hashes", async () => {
      assert.equal(await source.status(await certIdOfFiles(pki.good, pki.foreignCa), SIGNAL), undefined);
    });

    for (const hash of HASH_ALGORITHMS) {
      test(`answers CertIDs hashed with ${hash}`, async () => {
        assert.equal((await source.status(await certIdOfFiles(pki.revoked, pki.ca, hash), SIGNAL))?.kind, "revoked");
        assert.equal((await source.status(await certIdOfFiles(pki.good, pki.ca, hash), SIGNAL))?.kind, "good");
      });
    }

    test("matches a serial sent with redundant leading zero octets", async () => {
      assert.equal((await source.status(await certIdOfFiles(pki.revoked, pki.ca, "sha256", 2), SIGNAL))?.kind, "revoked");
    });

    test("close() resolves (and the source answers nothing afterwards)", async () => {
      const id = await certIdOfFiles(pki.good, pki.ca);
      await source.close();
      assert.equal(await source.status(id, SIGNAL), undefined);
    });
  });
}

/**
 * A table source answers with changed data only once its gates let it (change-events.ts ChangeGate):
 * the sibling workers of an instance must hold their answers first (compose/sibling-holds.ts). With
 * real data changed by real tools: an index revoked by `openssl ca -revoke` (rows laid over the
 * table) and a new CRL from `openssl ca -gencrl` (a whole new table).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { systemClock } from "../../clock.ts";
import { silentLogger } from "../../observability/logger.ts";
import { createPki, publishCrl, readPemDer, revokeCertificate, type Pki } from "../../pki/openssl-pki.ts";
import type { StatusChanges } from "../change-events.ts";
import { openCrlSource } from "../crl/crl-loader.ts";
import { openIndexSource } from "../index/index-loader.ts";
import { certIdOfFiles } from "../test-support/cert-id-fixture.ts";
import { pkiSuite, type PkiSuite } from "../test-support/pki-suite.ts";
import { waitUntil } from "../test-support/wait-until.ts";
import type { TableSource } from "./table-source.ts";

const SIGNAL = new AbortController().signal;

interface Case {
  readonly name: string;
  open(pki: Pki, issuer: Buffer): Promise<TableSource>;
  change(pki: Pki): Promise<void>;
}

const CASES: Case[] = [
  {
    name: "index revoked by openssl ca (rows laid over the table)",
    open: (pki, issuer) => openIndexSource({ file: pki.index, issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 50 }),
    change: (pki) => revokeCertificate(pki, pki.good, "keyCompromise"),
  },
  {
    name: "a new CRL (a whole new table)",
    open: async (pki, issuer) => {
      await publishCrl(pki);
      return openCrlSource({ files: [pki.crl], issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 50 });
    },
    change: async (pki) => {
      await revokeCertificate(pki, pki.good, "keyCompromise");
      await publishCrl(pki);
    },
  },
];

describe("a table source's gates", () => {
  let suite: PkiSuite;
  let dir: string;
  before(async () => ({ dir } = suite = await pkiSuite("vouch-gates-")));
  after(() => suite.remove());

  for (const [index, kind] of CASES.entries()) {
    test(`${kind.name}: the gate hears the change while the old data still answers; the new data answers once it lets go, then subscribers hear it`, async () => {
      const pki = await createPki({ dir: join(dir, `case-${index}`) });
      const issuer = await readPemDer(pki.ca);
      const source = await kind.open(pki, issuer);
      try {
        const id = await certIdOfFiles(pki.good, pki.ca);
        const gated: StatusChanges[] = [];
        const published: StatusChanges[] = [];
        let letGo = (): void => {};
        const held = new Promise<void>((resolve) => (letGo = resolve));
        source.changes.beforeAnswering!(async (changes) => {
          gated.push(changes);
          await held;
        });
        source.changes.subscribe((changes) => published.push(changes));
        assert.equal((await source.status(id, SIGNAL))?.kind, "good");

        await kind.change(pki);
        await waitUntil("the gate to hear of the change", () => (gated.length > 0 ? true : undefined));
        const batch = gated[0]!;
        assert.equal(batch.kind, "serials");
        assert.deepEqual(batch.kind === "serials" ? [...batch.serials].map((change) => change.kind) : [], ["revoked"]);
        // The gate has not let go: the source still answers from the data it had.
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal((await source.status(id, SIGNAL))?.kind, "good");
        assert.equal(published.length, 0, "subscribers hear of it only when the data answers with it");

        letGo();
        await waitUntil("the new data to answer", async () => ((await source.status(id, SIGNAL))?.kind === "revoked" ? true : undefined));
        assert.equal(published.length, 1);
      } finally {
        await source.close();
      }
    });
  }
});

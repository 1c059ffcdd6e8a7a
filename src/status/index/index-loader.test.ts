import assert from "node:assert/strict";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { fixedClock, systemClock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import { recordingLogger, silentLogger } from "../../observability/logger.ts";
import type { Pki } from "../../pki/openssl-pki.ts";
import { createPki, issueCertificate, readPemDer, revokeCertificate } from "../../pki/openssl-pki.ts";
import { certIdFor, certIdOfFiles } from "../test-support/cert-id-fixture.ts";
import { openIndexSource } from "./index-loader.ts";
import { reloadThread } from "../source-supply.ts";
import { statusSourceContract } from "../status-source.contract.ts";
import { pkiSuite, type PkiSuite } from "../test-support/pki-suite.ts";
import { waitUntil } from "../test-support/wait-until.ts";

const SIGNAL = new AbortController().signal;

statusSourceContract("openIndexSource", async (pki) =>
  openIndexSource({ file: pki.index, issuer: await readPemDer(pki.ca), clock: systemClock, logger: silentLogger }),
);

describe("openIndexSource", () => {
  let suite: PkiSuite;
  let dir: string, pki: Pki, issuer: Buffer;
  before(async () => ({ dir, pki, issuer } = suite = await pkiSuite("vouch-index-")));
  after(() => suite.remove());

  test("answers not-issued for a serial the index does not list, with the lookup time as thisUpdate", async () => {
    const clock = fixedClock("2031-05-06T07:08:09Z");
    const source = await openIndexSource({ file: pki.index, issuer, clock, logger: silentLogger });
    try {
      assert.deepEqual(await source.status(certIdFor(Buffer.from([0x01, 0x02]), issuer), SIGNAL), {
        kind: "not-issued",
        thisUpdate: new Date("2031-05-06T07:08:09Z"),
      });
      const good = await source.status(await certIdOfFiles(pki.good, pki.ca), SIGNAL);
      assert.deepEqual(good, { kind: "good", thisUpdate: new Date("2031-05-06T07:08:09Z") });
    } finally {
      await source.close();
    }
  });

  test("reports freshness: the time of the last load, no nextUpdate (live data), and nothing once closed", async () => {
    const clock = fixedClock("2031-05-06T07:08:09Z");
    const freshPki = await createPki({ dir: join(dir, "fresh") });
    const source = await openIndexSource({ file: freshPki.index, issuer: await readPemDer(freshPki.ca), clock, logger: silentLogger, pollIntervalMs: 50 });
    try {
      assert.deepEqual(source.freshness!(), { loadedAt: Date.parse("2031-05-06T07:08:09Z") });
      clock.advance(60_000);
      await revokeCertificate(freshPki, freshPki.good, "superseded");
      await waitUntil("the reload", () => (source.freshness!()?.loadedAt === Date.parse("2031-05-06T07:09:09Z") ? true : undefined));
    } finally {
      await source.close();
    }
    assert.equal(source.freshness!(), undefined);
  });

  test("picks up a revocation made while it is open, and an index replaced by rename", async () => {
    const leaf = await issueCertificate(pki, "reload-leaf", { commonName: "reload.demo.vouch.test" });
    const id = await certIdOfFiles(leaf, pki.ca);
    const source = await openIndexSource({ file: pki.index, issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 50 });
    try {
      assert.equal((await source.status(id, SIGNAL))?.kind, "good");
      await revokeCertificate(pki, leaf, "superseded");
      const answer = await waitUntil("the revocation", async () => {
        const current = await source.status(id, SIGNAL);
        return current?.kind === "revoked" ? current : undefined;
      });
      assert.equal(answer.reason, "superseded");
    } finally {
      await source.close();
    }
  });

  test("keeps the last good data when the file breaks, warns once naming the file and line, and recovers", async () => {
    const logger = recordingLogger();
    const source = await openIndexSource({ file: pki.index, issuer, clock: systemClock, logger, pollIntervalMs: 20 });
    const revokedId = await certIdOfFiles(pki.revoked, pki.ca);
    const good = await readFile(pki.index, "utf8");
    try {
      const broken = `${good}V\tnot-a-time\t\t01\tunknown\t/CN=x\n`;
      const brokenLine = broken.trimEnd().split("\n").length;
      await writeFile(`${pki.index}.tmp`, broken);
      await rename(`${pki.index}.tmp`, pki.index);
      const warning = await waitUntil("the warning", () => logger.records.find((r) => r.level === "warn"));
      assert.equal(warning.fields.file, pki.index);
      assert.match(String(warning.fields.err), new RegExp(`line ${brokenLine}: expiry`));
      assert.equal((await source.status(revokedId, SIGNAL))?.kind, "revoked", "old data still answers");
      // Several poll periods pass without another warning for the same broken file.
      await delay(150);
      assert.equal(logger.records.filter((r) => r.level === "warn").length, 1);

      await writeFile(`${pki.index}.tmp`, good.replace(/^R\t(\S+)\t\S+\t/m, "V\t$1\t\t"));
      await rename(`${pki.index}.tmp`, pki.index);
      await waitUntil("the repaired file", async () => (await source.status(revokedId, SIGNAL))?.kind === "good");
    } finally {
      await source.close();
      await writeFile(pki.index, good);
    }
  });

  test("answers from the old data while a reload is in progress", async () => {
    const source = await openIndexSource({ file: pki.index, issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 10 });
    const revokedId = await certIdOfFiles(pki.revoked, pki.ca);
    const original = await readFile(pki.index, "utf8");
    try {
      // A large replacement keeps the parser busy across many event-loop turns.
      const filler = Array.from({ length: 60_000 }, (_, i) => `V\t291231235959Z\t\t${(0x100000 + i).toString(16)}\tunknown\t/CN=x`).join("\n");
      await writeFile(`${pki.index}.tmp`, `${original}${filler}\n`);
      await rename(`${pki.index}.tmp`, pki.index);
      const fillerId = certIdFor(Buffer.from("100000", "hex"), issuer);
      let answeredDuringReload = 0;
      await waitUntil("the reload", async () => {
        const [revoked, filled] = await Promise.all([source.status(revokedId, SIGNAL), source.status(fillerId, SIGNAL)]);
        assert.equal(revoked?.kind, "revoked");
        if (filled?.kind === "not-issued") answeredDuringReload++;
        return filled?.kind === "good";
        // The reload runs on a loading thread (index-jobs.ts), whose start can take seconds on a loaded machine.
      }, 3000, 5);
      assert.ok(answeredDuringReload > 0);
    } finally {
      await source.close();
      await writeFile(pki.index, original);
    }
  });

  test("refuses a broken file at first load with a ConfigError naming the file and line", async () => {
    const file = join(dir, "broken-index.txt");
    await writeFile(file, "V\t291231235959Z\t\t01\tunknown\t/CN=a\nQ\t291231235959Z\t\t02\tunknown\t/CN=b\n");
    await assert.rejects(openIndexSource({ file, issuer, clock: systemClock, logger: silentLogger }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.file, file);
      assert.match(error.describe(), /broken-index\.txt: file: line 2: status "Q"/);
      return true;
    });
  });

  test("re-parses a replaced index only when its content changed, and then only the changed lines", async () => {
    const ownPki = await createPki({ dir: join(dir, "same-content") });
    const logger = recordingLogger();
    const source = await openIndexSource({ file: ownPki.index, issuer: await readPemDer(ownPki.ca), clock: systemClock, logger, pollIntervalMs: 20 });
    const goodId = await certIdOfFiles(ownPki.good, ownPki.ca);
    const count = (message: RegExp) => logger.records.filter((r) => message.test(r.message)).length;
    const replaceWithSame = async () => {
      await writeFile(`${ownPki.index}.tmp`, await readFile(ownPki.index));
      await rename(`${ownPki.index}.tmp`, ownPki.index);
    };
    try {
      // Once the file's blocks are known (the reload thread scans them after the first load), a
      // rewrite with the same content is not parsed at all.
      await waitUntil("the scan", () => (count(/index blocks scanned/) === 1 ? true : undefined));
      await replaceWithSame();
      await waitUntil("the same-content reload", () => (count(/same content/) === 1 ? true : undefined));
      await replaceWithSame();
      await waitUntil("the second same-content reload", () => (count(/same content/) === 2 ? true : undefined));
      assert.equal(count(/index reloaded/), 0, "not parsed");
      await revokeCertificate(ownPki, ownPki.good, "superseded");
      await waitUntil("the revocation", async () => ((await source.status(goodId, SIGNAL))?.kind === "revoked" ? true : undefined));
      assert.equal(count(/index reloaded/), 1);
      const reloaded = () => logger.records.filter((r) => /index reloaded/.test(r.message)).at(-1)?.fields;
      // openssl ca rewrote the file with one line changed: only its block was parsed.
      assert.equal(typeof reloaded()?.changedLines, "number", "an incremental reload");
      const issued = await issueCertificate(ownPki, "issued-later", { commonName: "later.demo.vouch.test" });
      const issuedId = await certIdOfFiles(issued, ownPki.ca);
      await waitUntil("the new certificate", async () => ((await source.status(issuedId, SIGNAL))?.kind === "good" ? true : undefined));
      assert.equal(typeof reloaded()?.changedLines, "number", "an appended line is an incremental reload too");
      assert.equal(reloaded()?.entries, [...source.serials!()].length, "entries counts the lines added over the whole table");
      assert.equal((await source.status(goodId, SIGNAL))?.kind, "revoked", "the earlier change still answers");
    } finally {
      await source.close();
    }
  });

  test("sources share one reload thread: closing one leaves the others reloading, and a later source uses it too", async () => {
    const reloads = reloadThread();
    const open = async (name: string) => {
      const own = await createPki({ dir: join(dir, name) });
      const logger = recordingLogger();
      // parsedHereBytes 0: this small index goes to the shared thread as a big one would.
      const source = await openIndexSource({ file: own.index, issuer: await readPemDer(own.ca), clock: systemClock, logger, pollIntervalMs: 20, reloads, parsedHereBytes: 0 });
      await waitUntil(`the scan of ${name}`, () => (logger.records.some((r) => /index blocks scanned/.test(r.message)) ? true : undefined));
      return { own, source, goodId: await certIdOfFiles(own.good, own.ca) };
    };
    const revokeAndSee = async ({ own, source, goodId }: Awaited<ReturnType<typeof open>>) => {
      await revokeCertificate(own, own.good, "affiliationChanged");
      await waitUntil("the revocation", async () => ((await source.status(goodId, SIGNAL))?.kind === "revoked" ? true : undefined));
    };
    const first = await open("shared-a");
    const second = await open("shared-b");
    await first.source.close();
    await revokeAndSee(second);
    await second.source.close();
    const third = await open("shared-c");
    try {
      await revokeAndSee(third);
    } finally {
      await third.source.close();
      await reloads.close();
    }
  });

  const invalid: { name: string; field: string; options: () => Parameters<typeof openIndexSource>[0] }[] = [
    { name: "a missing file", field: "file", options: () => ({ file: join(dir, "nope.txt"), issuer, clock: systemClock, logger: silentLogger }) },
    { name: "an empty file name", field: "file", options: () => ({ file: "", issuer, clock: systemClock, logger: silentLogger }) },
    { name: "an issuer that is not a certificate", field: "issuer", options: () => ({ file: pki.index, issuer: Buffer.from("nope"), clock: systemClock, logger: silentLogger }) },
    { name: "a tiny poll interval", field: "pollIntervalMs", options: () => ({ file: pki.index, issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 1 }) },
  ];
  for (const { name, field, options } of invalid) {
    test(`rejects ${name} with ConfigError(${field})`, async () => {
      await assert.rejects(openIndexSource(options()), (error: unknown) => error instanceof ConfigError && error.field === field);
    });
  }
});

/**
 * The SQL status store as an operator meets it, on SQLite and on the shared PostgreSQL: `vouch
 * store` run as a real subprocess on an index.txt written by `openssl ca`, and a running `vouch
 * serve` with an sql source answering `openssl ocsp` good / revoked / non-issued, then a
 * revocation made with `vouch store revoke` reaching it within the poll interval.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseDocument } from "yaml";
import { certificateSerial, createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import type { TestStore } from "../../src/status/sql/test-support/stores.ts";
import { testStore } from "../../src/status/sql/test-support/stores.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { openssl } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";

/** The verdict `openssl ocsp` prints for one serial or certificate, after checking the signature. */
async function ask(vouch: VouchProcess, pki: Pki, target: string[]): Promise<string> {
  const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, ...target, "-CAfile", pki.root, "-verify_other", pki.ca, "-resp_text"]);
  assert.match(result.output, /Response verify OK/, result.output);
  const verdict = /: (good|revoked|unknown)\n/.exec(result.stdout)?.[1] ?? result.output;
  const reason = /Reason: (\w+)/.exec(result.stdout)?.[1];
  return reason === undefined ? verdict : `${verdict} ${reason}`;
}

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`vouch store and an sql source (${engine})`, () => {
    let dir: string;
    let pki: Pki;
    let store: TestStore;
    let goodSerial: string;
    const storeCommand = (...args: string[]) => runVouch(["store", ...args, ...store.args, "--issuer", pki.ca], { timeoutMs: 30_000 });
    const statsLine = async () => (await storeCommand("stats")).stdout.split("\n").find((line) => line.includes("Issuing CA"));

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "vouch-sql-e2e-"));
      pki = await createPki({ dir: join(dir, "pki") });
      store = await testStore(engine);
      goodSerial = await certificateSerial(pki.good);
    });
    after(async () => {
      await store.drop();
      await rm(dir, { recursive: true, force: true });
    });

    test("import-index reads openssl's index.txt; a re-import gives the same counts", async () => {
      const first = await storeCommand("import-index", pki.index);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /index\.txt: 3 certificates read, 3 added or changed/);
      assert.match(first.stdout, /CN=Vouch Demo Issuing CA \(key SHA-256 [0-9a-f]{64}\): 3 certificates, 1 revoked/);
      assert.match(first.stderr, /importing .*index\.txt: 3\/3 rows \(100%\)/, "plain progress lines when stderr is not a terminal");
      const second = await storeCommand("import-index", pki.index);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /3 certificates read, 0 added or changed\n.*\n.*: 3 certificates, 1 revoked/);
    });

    test("import-crl checks the CA's CRL and finds its revocation already stored", async () => {
      const result = await storeCommand("import-crl", pki.crl);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /ca\.crl: 1 certificates read, 0 added or changed\n.*\n.*: 3 certificates, 1 revoked/);
    });

    test("a malformed line: one line naming the file and line, exit 2, nothing imported", async () => {
      const file = join(dir, "broken.txt");
      const lines = (await readFile(pki.index, "utf8")).trimEnd().split("\n");
      await writeFile(file, [...lines, "V\t291231235959Z\t\t0ABCDEF1\tunknown\t/CN=new", "V\t291231235959Z\t\t0ABCDEF2\tunknown"].join("\n"));
      const result = await storeCommand("import-index", file);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr.trim(), `vouch: ${file}: line ${lines.length + 2}: expected 6 tab-separated fields, found 5; nothing was imported`);
      assert.match((await statsLine())!, /: 3 certificates, 1 revoked/, "the new line before the bad one is not imported either");
    });

    test("revoke, show, unrevoke and stats; user errors exit 2 with one line", async () => {
      const revoke = await storeCommand("revoke", goodSerial, "--reason", "superseded", "--time", "2026-03-04T05:06:07Z");
      assert.equal(revoke.code, 0, revoke.stderr);
      const shown = await storeCommand("show", goodSerial.toLowerCase());
      assert.match(shown.stdout, /status: +revoked\nrevoked at: 2026-03-04T05:06:07\.000Z\nreason: +superseded/);
      const unrevoke = await storeCommand("unrevoke", goodSerial);
      assert.match(unrevoke.stdout, /is good again/);
      assert.match((await statsLine())!, /: 3 certificates, 1 revoked/);
      // The remaining checks are argument parsing, the same on both engines.
      if (engine === "postgres") return;
      for (const [args, expected] of [
        [["revoke", "77AA77", "--reason", "keyCompromise"], /^vouch: serial: 77AA77 is not listed for this issuer/],
        [["revoke", goodSerial, "--reason", "stolen"], /^vouch: --reason: "stolen" is not one of unspecified, keyCompromise/],
        [["revoke", goodSerial, "--reason", "keyCompromise", "--time", "yesterday"], /^vouch: --time: "yesterday" is not an ISO 8601 time/],
        [["show", "xyz"], /^vouch: serial: "xyz" is not a hexadecimal serial number/],
      ] as const) {
        const result = await storeCommand(...args);
        assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, expected);
        assert.equal(result.stderr.trim().split("\n").length, 1);
      }
    });

    test("show prints the serial as openssl x509 -serial does", async () => {
      const shown = await storeCommand("show", goodSerial.toLowerCase());
      assert.match(shown.stdout, new RegExp(`^serial: +${goodSerial}\n`));
    });

    if (engine === "sqlite") {
      test("show, stats, revoke and unrevoke refuse a store file that does not exist (exit 2, one line naming it); add creates it", async () => {
        const missing = join(dir, "mistyped.sqlite");
        for (const args of [["show", goodSerial], ["stats"], ["revoke", goodSerial, "--reason", "keyCompromise"], ["unrevoke", goodSerial]]) {
          const result = await runVouch(["store", ...args, "--database", missing, "--issuer", pki.ca], { timeoutMs: 30_000 });
          assert.equal(result.code, 2, `${args[0]}: ${result.stdout}${result.stderr}`);
          assert.equal(result.stderr, `vouch: --database: ${missing}: no such store (only import-index, import-crl and add create one)\n`);
          assert.equal(result.stdout, "");
          await assert.rejects(readFile(missing), { code: "ENOENT" }, `${args[0]} created no file`);
        }
        const added = await runVouch(["store", "add", pki.good, "--database", missing, "--issuer", pki.ca], { timeoutMs: 30_000 });
        assert.equal(added.code, 0, added.stderr);
        assert.equal(added.stdout, `added ${goodSerial} (good)\n`);
      });
    }

    test("vouch serve answers good / revoked / non-issued from the store, and a vouch store revoke reaches it within the poll interval", async () => {
      const source = { type: "sql", pollInterval: "PT0.2S", database: store.database, ...(store.schema === undefined ? {} : { schema: store.schema }) };
      const vouch = await startVouch(vouchConfig({ responders: [testResponder("sql", [pkiIssuer(pki, { sources: [source] })], { nonIssued: "revoked" })] }));
      try {
        assert.equal(await ask(vouch, pki, ["-cert", pki.good]), "good");
        assert.equal(await ask(vouch, pki, ["-cert", pki.revoked]), "revoked keyCompromise");
        // SPEC §4: a serial the store does not list gets revoked / certificateHold under nonIssued: revoked.
        assert.equal(await ask(vouch, pki, ["-serial", "0x7A7A7A7A"]), "revoked certificateHold");
        const revoke = await storeCommand("revoke", goodSerial, "--reason", "affiliationChanged");
        assert.equal(revoke.code, 0, revoke.stderr);
        // Poll interval 0.2 s: allow a few intervals for a loaded machine, never a fixed sleep.
        await waitUntil("the revocation to reach vouch serve", async () => (await ask(vouch, pki, ["-cert", pki.good])) === "revoked affiliationChanged", 40, 100);
        const loaded = vouch.lines.filter((line) => line.includes('"sql store loaded"'));
        assert.ok(loaded.length > 0);
        // A JSON line with a key twice (parsed, the last one wins) is a YAML mapping with a duplicate key.
        for (const line of vouch.lines) assert.deepEqual(parseDocument(line, { uniqueKeys: true }).errors, [], `a key repeated in ${line}`);
      } finally {
        await vouch.stop();
      }
    });
  });
}

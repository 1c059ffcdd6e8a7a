/**
 * `vouch check --config FILE`: a good configuration passes without anything listening (so it can run
 * beside the serve it checks), the worker options are judged as serve judges them, and `vouch
 * --version` names the package's version. Bad configurations: cli.test.ts runs every one through
 * both serve and check.
 */
import assert from "node:assert/strict";
import { readFile, mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { runVouch } from "../support/vouch-process.ts";

describe("vouch check", () => {
  let pki: Pki;
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), "vouch-check-"));
    pki = await createPki({ dir: join(folder, "pki") });
  });

  /** One responder, "test", on `port`, with the admin listener on the next port unless `admin` is false. */
  const config = (port: number, admin = true) =>
    vouchConfig({
      responders: [testResponder("test", [pkiIssuer(pki)], { listen: { host: "127.0.0.1", port } })],
      ...(admin ? { admin: { listen: { host: "127.0.0.1", port: port + 1 } } } : {}),
    });

  test("passes a good configuration in one line, and listens on nothing: its port may be taken", async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, "127.0.0.1", done));
    const { port } = taken.address() as { port: number };
    try {
      const file = join(folder, "good.yaml");
      await writeFile(file, config(port));
      const result = await runVouch(["check", "--config", file, "--workers", "2"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${file}: valid: 1 responder, 1 issuer, on http://127.0.0.1:${port}, admin on 127.0.0.1:${port + 1} (2 worker processes)\n`);
      assert.equal(result.stderr, "", "the build's info lines stay out of the way");
      const served = await runVouch(["serve", "--config", file, "--workers", "1"]);
      assert.equal(served.code, 2, "serve, by contrast, needs the port");
    } finally {
      taken.close();
    }
  });

  test("judges the worker options as serve does", async () => {
    const file = join(folder, "port-zero.yaml");
    await writeFile(file, config(0, false));
    const [served, checked] = await Promise.all([runVouch(["serve", "--config", file, "--workers", "2"]), runVouch(["check", "--config", file, "--workers", "2"])]);
    assert.equal(served.code, 2);
    assert.match(served.stderr, /responders\[0\]\.listen\.port: several workers need fixed ports/);
    assert.deepEqual({ code: checked.code, stderr: checked.stderr }, { code: 2, stderr: served.stderr });
    const alone = await runVouch(["check", "--config", file]);
    assert.equal(alone.code, 0, alone.stderr);
    assert.match(alone.stdout, /valid: .*\(one process\)\n$/);
  });

  test("vouch --version names the package's version and the Node.js it runs on", async () => {
    const { version } = JSON.parse(await readFile(resolve(import.meta.dirname, "../../package.json"), "utf8")) as { version: string };
    const result = await runVouch(["--version"]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `vouch ${version} (Node.js ${process.versions.node}, OpenSSL ${process.versions.openssl})\n`);
  });
});

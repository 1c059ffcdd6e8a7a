/**
 * The access log (`log.access`) as an operator reads it: one JSON line per request with the
 * responder, client, requestor, serials (as `openssl x509 -serial` prints them), statuses, outcome,
 * source, HTTP code and duration; to a file or to stdout; every request or a sampled share; off by
 * default, and switched on by a reload.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { certificateSerial, createPki, issueCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { getOcsp, openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

let pki: Pki;
let folder: string;
let requestor: string;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-access-"));
  pki = await createPki({ dir: join(folder, "pki") });
  requestor = await issueCertificate(pki, "requestor", { commonName: "Access Requestor" });
});

/** Two responders, open and signed (byauthentication); `access` is log.access, absent when undefined. */
const config = (access?: YamlFields) =>
  vouchConfig({
    log: access === undefined ? { level: "info" } : { level: "info", access },
    trust: { anchors: [pki.root], unknownStatus: "pass" },
    responders: [
      testResponder("open", [pkiIssuer(pki)], { path: "/open" }),
      testResponder("signed", [pkiIssuer(pki)], { path: "/signed", authorization: { method: "byauthentication" } }),
    ],
  });

/** Access lines are the JSON lines without the server log's `msg`. */
const accessLines = (lines: readonly string[]) =>
  lines.flatMap((line) => {
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      return record.msg === undefined && record.durationMs !== undefined ? [record] : [];
    } catch {
      return [];
    }
  });

test("to a file, every request: one line each, with who asked about what and what they got", async () => {
  const file = join(folder, "logs", "access.jsonl");
  const vouch = await startVouch(config({ output: "file", file }));
  try {
    const base = vouch.baseUrl;
    const verified = ["-CAfile", pki.root, "-verify_other", pki.ca];
    assert.match((await openssl(["ocsp", "-url", `${base}/open`, "-issuer", pki.ca, "-cert", pki.good, "-cert", pki.revoked, ...verified])).stdout, /good\.pem: good/);
    const single = await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked, "-no_nonce"]);
    assert.equal((await getOcsp(`${base}/open/${encodeURIComponent(single.toString("base64"))}`)).status, 200);
    assert.equal((await postOcsp(`${base}/open`, Buffer.from("not an OCSP request"))).status, 200);
    const signed = await openssl(["ocsp", "-url", `${base}/signed`, "-issuer", pki.ca, "-cert", pki.good, "-signer", requestor, "-signkey", join(pki.dir, "requestor.key"), ...verified]);
    assert.match(signed.stdout, /good\.pem: good/, signed.output);
    assert.match((await openssl(["ocsp", "-url", `${base}/signed`, "-issuer", pki.ca, "-cert", pki.good, "-noverify"])).output, /unauthorized/i);

    const lines = await waitUntil("five access lines", async () => {
      const found = accessLines((await readFile(file, "utf8").catch(() => "")).split("\n"));
      return found.length >= 5 ? found : undefined;
    });
    const [good, revoked] = [await certificateSerial(pki.good), await certificateSerial(pki.revoked)];
    const stable = lines.map(({ time, durationMs, ...rest }) => {
      assert.match(String(time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(typeof durationMs === "number" && durationMs >= 0);
      return rest;
    });
    const line = (fields: Record<string, unknown>) => ({ client: "127.0.0.1", requestor: null, method: "POST", code: 200, ...fields });
    assert.deepEqual(stable, [
      line({ responder: "open", serials: [good, revoked], statuses: ["good", "revoked"], outcome: "successful", source: "local" }),
      line({ responder: "open", method: "GET", serials: [revoked], statuses: ["revoked"], outcome: "successful", source: "local" }),
      line({ responder: "open", serials: [], statuses: [], outcome: "malformedRequest", source: null }),
      line({ responder: "signed", requestor: "CN=Access Requestor,O=Vouch Demo,C=SE", serials: [good], statuses: ["good"], outcome: "successful", source: "local" }),
      line({ responder: "signed", serials: [good], statuses: [], outcome: "unauthorized", source: null }),
    ]);
    assert.equal(accessLines(vouch.lines).length, 0, "nothing on stdout");
  } finally {
    await vouch.stop();
  }
});

test("off by default; a reload turns it on, to stdout, sampled: exactly one line in four", async () => {
  const vouch: VouchProcess = await startVouch(config());
  try {
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
    const url = `${vouch.baseUrl}/open`;
    for (let i = 0; i < 8; i++) await postOcsp(url, request);
    await writeFile(vouch.configFile, config({ output: "stdout", sample: 0.25 }));
    vouch.child.kill("SIGHUP");
    await waitForLogs(vouch, withMessage("reloaded"));
    assert.equal(accessLines(vouch.lines).length, 0, "no access line before the reload");
    for (let i = 0; i < 40; i++) await postOcsp(url, request);
    await waitUntil("ten access lines", () => accessLines(vouch.lines).length >= 10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines = accessLines(vouch.lines);
    assert.equal(lines.length, 10, "40 requests at 0.25");
    assert.ok(lines.every((line) => line.responder === "open" && line.outcome === "successful"));
  } finally {
    await vouch.stop();
  }
});

test("a file that cannot be opened is refused at start, naming the field", async () => {
  const blocker = join(folder, "not-a-folder");
  await writeFile(blocker, "");
  const file = join(blocker, "access.jsonl");
  await assert.rejects(startVouch(config({ output: "file", file })), new RegExp(`log\\.access\\.file: cannot open ${file} \\((EEXIST|ENOTDIR)\\)`));
});

/**
 * Issue 12, "who asked is recorded exactly", from the outside: HTTPS with TLS client authentication
 * (`curl --cert`) carrying a request signed by another identity (`openssl ocsp -signer … -reqout`).
 * The billing record, in the file sink and in PostgreSQL, holds both subjects and which of them
 * authorized the request under `byname` (one, the other, neither) and `byauthentication` (both);
 * `vouch billing summary` reads those records beside ones written before these fields existed.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFile, copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { TEST_DATABASE_URL } from "../../src/billing/test-support/postgres.ts";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { CLIENT_EXTENSIONS, issueExtra } from "../support/certificates.ts";
import { openssl } from "../support/openssl.ts";
import { pkiIssuer, pkiTrust, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";

const TLS_SUBJECT = "CN=Who Asked TLS,O=Vouch Demo,C=SE";
const SIGNER_SUBJECT = "CN=Who Asked Signer,O=Vouch Demo,C=SE";
const OTHER_SUBJECT = "CN=Who Asked Other,O=Vouch Demo,C=SE";

let base: string;
let pki: Pki;
let vouch: VouchProcess;
let trustBundle: string;
const ids: Record<"tls" | "signer" | "other", { certificate: string; key: string }> = {} as never;
const table = `vouch_billing_who_${randomBytes(4).toString("hex")}`;
const directory = (name: string) => join(base, `billing-${name}`);
let db: pg.Client;

before(async () => {
  base = await mkdtemp(join(tmpdir(), "vouch-who-asked-"));
  pki = await createPki({ dir: join(base, "pki") });
  const server = await issueExtra(pki, "tls-server", {
    commonName: "127.0.0.1",
    extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
  });
  ids.tls = await issueExtra(pki, "who-tls", { commonName: "Who Asked TLS", extensions: CLIENT_EXTENSIONS });
  ids.signer = await issueExtra(pki, "who-signer", { commonName: "Who Asked Signer", extensions: "keyUsage = critical,digitalSignature\n" });
  ids.other = await issueExtra(pki, "who-other", { commonName: "Who Asked Other", extensions: CLIENT_EXTENSIONS });
  trustBundle = join(base, "bundle.pem");
  await writeFile(trustBundle, `${await readFile(pki.root, "utf8")}\n${await readFile(pki.ca, "utf8")}`);
  const intermediates = join(base, "intermediates");
  await mkdir(intermediates);
  await copyFile(pki.ca, join(intermediates, "ca.pem"));
  db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  const responder = (name: string, authorization: YamlFields, billing: YamlFields) =>
    testResponder(name, [pkiIssuer(pki)], {
      path: `/${name}/`,
      tls: { certificate: server.certificate, key: server.key, clientAuth: "required" },
      requestSignature: { required: true },
      authorization,
      billing,
    });
  vouch = await startVouch(
    vouchConfig({
      trust: pkiTrust(pki, { certificates: intermediates }),
      responders: [
        responder("by-signer", { method: "byname", names: ["CN=Who Asked Signer,*"] }, { sink: "file", directory: directory("by-signer") }),
        responder("by-tls", { method: "byname", names: ["CN=Who Asked TLS,*"] }, { sink: "postgres", connectionString: TEST_DATABASE_URL, table }),
        responder("by-auth", { method: "byauthentication" }, { sink: "file", directory: directory("by-auth") }),
      ],
    }),
  );
});

after(async () => {
  await vouch?.stop();
  await db?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
  await db?.end();
  await rm(base, { recursive: true, force: true });
});

/**
 * Over HTTPS with `tls` as the client certificate (curl), a request for good.pem signed by `signer`
 * (openssl ocsp -signer -reqout); resolves with the OCSP status `openssl ocsp -respin` reads.
 */
async function ask(responder: string, tls: { certificate: string; key: string }, signer: { certificate: string; key: string }): Promise<string> {
  const folder = await mkdtemp(join(base, "ask-"));
  const request = join(folder, "request.der");
  const response = join(folder, "response.der");
  const made = await openssl(["ocsp", "-issuer", pki.ca, "-cert", pki.good, "-signer", signer.certificate, "-signkey", signer.key, "-reqout", request]);
  assert.equal(made.code, 0, made.output);
  const args = ["-s", "-S", "--max-time", "20", "--cacert", trustBundle, "--cert", tls.certificate, "--key", tls.key];
  args.push("--data-binary", `@${request}`, "-H", "Content-Type: application/ocsp-request", "-o", response, `https://127.0.0.1:${vouch.port}/${responder}/`);
  await new Promise<void>((resolve, reject) => execFile("curl", args, (error, _stdout, stderr) => (error === null ? resolve() : reject(new Error(`curl: ${stderr}`)))));
  const read = await openssl(["ocsp", "-respin", response, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca, "-resp_text"]);
  return /Responder Error: (\w+)/.exec(read.output)?.[1] ?? /: (good|revoked|unknown)\n/.exec(read.stdout)?.[1] ?? read.output;
}

async function fileRecords(folder: string): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  for (const name of (await readdir(folder)).filter((file) => file.endsWith(".jsonl"))) {
    for (const line of (await readFile(join(folder, name), "utf8")).split("\n")) if (line.trim() !== "") records.push(JSON.parse(line) as Record<string, unknown>);
  }
  return records;
}

/** The who-asked fields of a record, as the file sink writes them. */
const whoAsked = (record: Record<string, unknown>) => ({
  requestor: record.requestor,
  tlsSubject: record.tlsSubject,
  signerSubject: record.signerSubject,
  authorizedBy: record.authorizedBy,
  outcome: record.outcome,
});

describe("billing records who asked: the TLS client and the request signer, and which one authorized (issue 12)", () => {
  test("byname matching the signer only: both subjects, authorized by the signature (file sink)", async () => {
    assert.equal(await ask("by-signer", ids.tls, ids.signer), "good");
    const records = await fileRecords(directory("by-signer"));
    assert.deepEqual(records.map(whoAsked), [{ requestor: SIGNER_SUBJECT, tlsSubject: TLS_SUBJECT, signerSubject: SIGNER_SUBJECT, authorizedBy: "signature", outcome: "successful" }]);
  });

  test("byname matching neither: unauthorized, and both subjects are still recorded (file sink)", async () => {
    assert.equal(await ask("by-signer", ids.other, ids.other), "unauthorized");
    const records = await fileRecords(directory("by-signer"));
    assert.deepEqual(whoAsked(records.at(-1)!), { requestor: OTHER_SUBJECT, tlsSubject: OTHER_SUBJECT, signerSubject: OTHER_SUBJECT, authorizedBy: null, outcome: "unauthorized" });
  });

  test("byname matching the TLS client only: authorized by TLS (PostgreSQL sink)", async () => {
    assert.equal(await ask("by-tls", ids.tls, ids.signer), "good");
    assert.equal(await ask("by-tls", ids.other, ids.tls), "good", "the TLS identity's subject as signer counts too");
    const { rows } = await db.query(`SELECT requestor, tls_subject, signer_subject, authorized_by, outcome FROM ${table} ORDER BY id`);
    assert.deepEqual(rows, [
      { requestor: SIGNER_SUBJECT, tls_subject: TLS_SUBJECT, signer_subject: SIGNER_SUBJECT, authorized_by: "tls", outcome: "successful" },
      { requestor: TLS_SUBJECT, tls_subject: OTHER_SUBJECT, signer_subject: TLS_SUBJECT, authorized_by: "signature", outcome: "successful" },
    ]);
  });

  test("byauthentication with both identities authenticated: authorized by both (file sink)", async () => {
    assert.equal(await ask("by-auth", ids.tls, ids.signer), "good");
    const records = await fileRecords(directory("by-auth"));
    assert.deepEqual(records.map(whoAsked), [{ requestor: SIGNER_SUBJECT, tlsSubject: TLS_SUBJECT, signerSubject: SIGNER_SUBJECT, authorizedBy: "both", outcome: "successful" }]);
  });

  test("vouch billing summary reads these records beside a line written before the fields existed", async () => {
    const folder = directory("by-signer");
    const [file] = (await readdir(folder)).filter((name) => name.endsWith(".jsonl"));
    const old = {
      time: new Date().toISOString(),
      responder: "by-signer",
      responderUrl: "https://old.example/",
      clientAddress: "127.0.0.1",
      requestor: "CN=Old Record,O=Vouch Demo,C=SE",
      outcome: "successful",
      source: "local",
      singleRequests: 1,
      certificates: null,
    };
    await appendFile(join(folder, file!), `${JSON.stringify(old)}\n`);
    const summary = await runVouch(["billing", "summary", "--config", vouch.configFile, "--responder", "by-signer", "--since", "2000-01-01"]);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /CN=Who Asked Signer,O=Vouch Demo,C=SE\s+1\b/);
    assert.match(summary.stdout, /CN=Who Asked Other,O=Vouch Demo,C=SE\s+1\b/);
    assert.match(summary.stdout, /CN=Old Record,O=Vouch Demo,C=SE\s+1\b/);
  });
});

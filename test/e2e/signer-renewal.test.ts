/**
 * End to end (issue 15, "automatic renewal"): `vouch serve --workers 2` with a directory signer and
 * `signer.renew` whose command wraps `openssl ca` (the recipe of docs/signer-lifecycle.md). The
 * command fails twice ("CA offline"), then issues: the failures are logged, counted, and shown in
 * /readyz as a warning; the retry succeeds; the renewed signer is installed beside the current one,
 * signs (openssl verifies) without a restart, and the renewal ran once for the service, not once per
 * worker.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { certificateSerial, createPki, readPemDer, type Pki } from "../../src/pki/openssl-pki.ts";
import { freePort } from "../support/free-port.ts";
import { postOcsp } from "../support/openssl.ts";
import { parseSamples, sampleValue } from "../support/prometheus.ts";
import { adminUrlOf, issueSigner, ocspRequest, opensslVerifiesGood, signerSerial } from "../support/signers.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

const DAY = 86_400_000;
let pki: Pki;
let dir: string;
let signers: string;
let attempts: string;
let vouch: VouchProcess;
let admin: string;

// The openssl ca recipe of docs/signer-lifecycle.md, made to fail while `attempts` counts 2 or fewer.
const COMMAND = `#!/bin/sh
set -e
attempts="$1"; config="$2"
n=$(( $(cat "$attempts" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$attempts"
if [ "$n" -le 2 ]; then echo "CA offline (attempt $n)" >&2; exit 3; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat > "$work/request.csr"
openssl ca -batch -config "$config" -in "$work/request.csr" -out "$work/signer.pem" -notext -extensions signer_ext 2> "$work/log" || { cat "$work/log" >&2; exit 1; }
cat "$work/signer.pem"
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-renewal-"));
  pki = await createPki({ dir: join(dir, "pki") });
  signers = join(dir, "signers");
  await mkdir(signers);
  // Ten days into its fifteen: inside the default renew.before (P14D), past half its validity.
  const now = Date.now();
  await issueSigner(pki, signers, "current", now - 10 * DAY, now + 5 * DAY);
  attempts = join(dir, "attempts");
  const command = join(dir, "issue-with-openssl-ca.sh");
  await writeFile(command, COMMAND);
  await chmod(command, 0o755);
  vouch = await startVouch(
    vouchConfig({
      admin: { listen: { host: "127.0.0.1", port: await freePort() }, readiness: { signerTestInterval: "PT1S" } },
      responders: [
        testResponder(
          "renewing",
          [
            pkiIssuer(pki, {
              signer: { directory: signers, pollInterval: "PT1S", renew: { command: [command, attempts, pki.opensslConfig], retryInterval: "PT2S" } },
            }),
          ],
          { listen: { host: "127.0.0.1", port: await freePort() } },
        ),
      ],
    }),
    { args: ["--workers", "2"] },
  );
  admin = await adminUrlOf(vouch);
});

after(async () => {
  if (vouch !== undefined) await stopAndExpectZero(vouch);
});

test("a failing renewal command is retried with backoff, logged, counted and shown in readiness; then the renewed signer signs, renewed once for both workers", async () => {
  const current = new X509Certificate(await readPemDer(join(signers, "current.pem"))).serialNumber.toUpperCase();
  const failures = await waitForLogs(vouch, withMessage("signer renewal failed"));
  assert.match(String(failures[0]!.err), /exited with 3: CA offline \(attempt 1\)/);
  // While it fails, the issuer stays ready (the current signer is valid) and says what is coming.
  const deadline = Date.now() + 10_000;
  let warned = "";
  while (warned === "" && Date.now() < deadline) {
    const response = await fetch(`${admin}/readyz`);
    const body = await response.text();
    assert.equal(response.status, 200, body);
    if (/"ready":true,"warnings":\[\{"responder":"renewing",.*"signer renewal failing since .* CA offline/.test(body)) warned = body;
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.notEqual(warned, "", "readiness showed the failing renewal");

  const renewed = await waitForLogs(vouch, withMessage("signer renewed"), 1, 30_000);
  const serial = renewed[0]!.serial as string;
  assert.notEqual(serial, current);
  assert.equal((await waitForLogs(vouch, withMessage("signer renewal failed"), 2))[1]!.failures, 2);

  // Both workers sign with it, picked up from the directory.
  const goodSerial = await certificateSerial(pki.good);
  const request = ocspRequest(await readPemDer(pki.ca), goodSerial);
  for (let tries = 0; ; tries++) {
    const bodies = await Promise.all([1, 2, 3, 4, 5, 6].map(async () => (await postOcsp(vouch.baseUrl, request)).body));
    const signedBy = new Set(bodies.map(signerSerial));
    if (signedBy.size === 1 && signedBy.has(serial)) {
      await opensslVerifiesGood(pki, bodies[0]!, goodSerial);
      break;
    }
    assert.ok(tries < 50, `still signed by ${[...signedBy].join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  // Once for the service: three runs of the command (two failures, one success), one new signer.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal((await readFile(attempts, "utf8")).trim(), "3");
  assert.equal(vouch.logs.filter(withMessage("signer renewed")).length, 1);
  const files = (await readdir(signers)).sort();
  assert.equal(files.filter((file) => file.endsWith(".pem")).length, 2, files.join(" "));
  assert.ok(files.some((file) => /^signer-\d{8}T\d{6}Z\.key$/.test(file)) && files.some((file) => /^signer-\d{8}T\d{6}Z\.csr$/.test(file)), files.join(" "));
  assert.ok(!files.some((file) => file.startsWith(".")), `no leftovers: ${files.join(" ")}`);
  const samples = parseSamples(await (await fetch(`${admin}/metrics`)).text());
  assert.equal(sampleValue(samples, "vouch_signer_renewals_total", { responder: "renewing", result: "failed" }), 2);
  assert.equal(sampleValue(samples, "vouch_signer_renewals_total", { responder: "renewing", result: "renewed" }), 1);
  const ready = await (await fetch(`${admin}/readyz`)).text();
  assert.equal(ready, "ready\n");
});

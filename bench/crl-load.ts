/**
 * Loads a big CRL into `openCrlSource` and reports load time, memory and the longest event-loop
 * block. The CRL is generated here: a hand-built TBSCertList with N entries (every fourth with a
 * reasonCode), signed with the test PKI's CA key through node:crypto.
 *
 *     node --expose-gc bench/crl-load.ts [entries=1000000] [pem|der]
 *
 * The measurement runs in a fresh child process, so that the generator's garbage (a million
 * small Buffers) does not put its GC pauses into the numbers.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, sign } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { systemClock } from "../src/clock.ts";
import { certificateFields } from "../src/ocsp/certificate-fields.ts";
import { bitString, explicit, integer, octetString, oid, sequence, tlv } from "../src/ocsp/der-writer.ts";
import { ecdsa_with_SHA256, id_ce_cRLNumber, id_ce_cRLReasons } from "../src/ocsp/oids.ts";
import { silentLogger } from "../src/observability/logger.ts";
import { createPki, readPemDer } from "../src/pki/openssl-pki.ts";
import { certIdFor } from "../src/status/test-support/cert-id-fixture.ts";
import { openCrlSource } from "../src/status/crl/crl-loader.ts";

if (process.argv[2] === "--measure") {
  await measure(process.argv[3] ?? "", process.argv[4] ?? "", Number(process.argv[5]));
  process.exit(0);
}

const count = Number(process.argv[2] ?? 1_000_000);
const format = process.argv[3] === "pem" ? "pem" : "der";
const dir = await mkdtemp(join(tmpdir(), "vouch-crl-bench-"));
try {
  const pki = await createPki({ dir });
  const issuer = await readPemDer(pki.ca);
  const key = createPrivateKey(await readFile(pki.caKey));

  const t = performance.now();
  const utc = (date: Date): Buffer => tlv(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, "").slice(2, 14)}Z`, "latin1"));
  const revocationDate = utc(new Date(systemClock.now() - 86_400_000));
  const reason = sequence(sequence(oid(id_ce_cRLReasons), octetString(tlv(0x0a, Buffer.of(1)))));
  const serial = Buffer.alloc(9);
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    serial.writeUInt8(0x10, 0);
    serial.writeBigUInt64BE(BigInt(i) * 2654435761n + 0x1000n, 1);
    const parts = [integer(Buffer.from(serial)), revocationDate];
    if (i % 4 === 0) parts.push(reason);
    entries.push(sequence(...parts));
  }
  const algorithm = sequence(oid(ecdsa_with_SHA256));
  const now = new Date(systemClock.now() - 60_000);
  const tbs = sequence(
    integer(1),
    algorithm,
    certificateFields(issuer).subjectDer,
    utc(now),
    utc(new Date(now.getTime() + 7 * 86_400_000)),
    tlv(0x30, Buffer.concat(entries)),
    explicit(0, sequence(sequence(oid(id_ce_cRLNumber), octetString(integer(1000))))),
  );
  const crl = sequence(tbs, algorithm, bitString(sign("sha256", tbs, key)));
  const file = join(dir, `big.crl`);
  await writeFile(file, format === "der" ? crl : `-----BEGIN X509 CRL-----\n${crl.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END X509 CRL-----\n`);
  console.log(`generated ${count} entries, ${format} ${(crl.length / 1e6).toFixed(1)} MB DER, in ${(performance.now() - t).toFixed(0)} ms`);

  const issuerFile = join(dir, "issuer.der");
  await writeFile(issuerFile, issuer);
  execFileSync(process.execPath, ["--expose-gc", import.meta.filename, "--measure", file, issuerFile, String(count)], { stdio: "inherit" });
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Opens the source on `file` and prints the numbers. */
async function measure(file: string, issuerFile: string, count: number): Promise<void> {
  const issuer = await readFile(issuerFile);
  const serial = Buffer.alloc(9);
  serial.writeUInt8(0x10, 0);
  let t = 0;
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // A 1 ms ticker as a second opinion on the longest block.
  let last = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const current = performance.now();
    maxGap = Math.max(maxGap, current - last);
    last = current;
  }, 1);
  t = performance.now();
  const source = await openCrlSource({ files: [file], issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 60_000 });
  const loadMs = performance.now() - t;
  clearInterval(ticker);
  histogram.disable();
  globalThis.gc?.();
  const rssAfter = process.memoryUsage().rss;

  serial.writeBigUInt64BE(BigInt(count - 1) * 2654435761n + 0x1000n, 1);
  const id = certIdFor(Buffer.from(serial), issuer, "sha256");
  t = performance.now();
  const lookups = 200_000;
  let revoked = 0;
  for (let i = 0; i < lookups; i++) if ((await source.status(id, new AbortController().signal))?.kind === "revoked") revoked++;
  const lookupUs = ((performance.now() - t) * 1000) / lookups;
  await source.close();

  console.log(`load: ${loadMs.toFixed(0)} ms`);
  console.log(`RSS: ${(rssBefore / 1e6).toFixed(0)} MB before, ${(rssAfter / 1e6).toFixed(0)} MB after (+${((rssAfter - rssBefore) / 1e6).toFixed(0)} MB)`);
  console.log(`event loop: max delay ${(histogram.max / 1e6).toFixed(1)} ms (monitorEventLoopDelay), max 1 ms-ticker gap ${maxGap.toFixed(1)} ms`);
  console.log(`lookup: ${lookupUs.toFixed(2)} µs each (${revoked === lookups ? "revoked as expected" : "UNEXPECTED ANSWER"})`);
}

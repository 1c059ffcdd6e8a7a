/**
 * Loads a big index.txt into `openIndexSource` and reports load time, memory and the longest
 * event-loop block. The index is generated here in the format `openssl ca` writes (every tenth
 * certificate revoked, keyCompromise); the measurement runs in a fresh child process.
 *
 *     node --expose-gc bench/index-load.ts [lines=1000000]
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { systemClock } from "../src/clock.ts";
import { silentLogger } from "../src/observability/logger.ts";
import { createPki, readPemDer } from "../src/pki/openssl-pki.ts";
import { certIdFor } from "../src/status/test-support/cert-id-fixture.ts";
import { openIndexSource } from "../src/status/index/index-loader.ts";

/** The serial of line i: 9 octets, never sign-padded. */
const serialOf = (i: number): string => (0x10n * 2n ** 64n + BigInt(i) * 2654435761n + 0x1000n).toString(16).toUpperCase();

if (process.argv[2] === "--measure") {
  await measure(process.argv[3] ?? "", process.argv[4] ?? "", Number(process.argv[5]));
  process.exit(0);
}

const count = Number(process.argv[2] ?? 1_000_000);
const dir = await mkdtemp(join(tmpdir(), "vouch-index-bench-"));
try {
  const pki = await createPki({ dir });
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const revoked = i % 10 === 0;
    lines.push(`${revoked ? "R" : "V"}\t291231235959Z\t${revoked ? "261124085940Z,keyCompromise" : ""}\t${serialOf(i)}\tunknown\t/C=SE/O=Vouch Bench/CN=host-${i}.bench.vouch.test`);
  }
  const file = join(dir, "big-index.txt");
  const text = `${lines.join("\n")}\n`;
  await writeFile(file, text);
  console.log(`generated ${count} lines, ${(text.length / 1e6).toFixed(1)} MB`);
  const issuerFile = join(dir, "issuer.der");
  await writeFile(issuerFile, await readPemDer(pki.ca));
  execFileSync(process.execPath, ["--expose-gc", import.meta.filename, "--measure", file, issuerFile, String(count)], { stdio: "inherit" });
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Opens the source on `file` and prints the numbers. */
async function measure(file: string, issuerFile: string, count: number): Promise<void> {
  const issuer = await readFile(issuerFile);
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let last = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const current = performance.now();
    maxGap = Math.max(maxGap, current - last);
    last = current;
  }, 1);
  const t = performance.now();
  const source = await openIndexSource({ file, issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 60_000 });
  const loadMs = performance.now() - t;
  clearInterval(ticker);
  histogram.disable();
  globalThis.gc?.();
  const rssAfter = process.memoryUsage().rss;
  const id = certIdFor(Buffer.from(serialOf(count - 10).padStart(18, "0"), "hex"), issuer, "sha256");
  const answer = await source.status(id, new AbortController().signal);
  await source.close();
  console.log(`load: ${loadMs.toFixed(0)} ms`);
  console.log(`RSS: ${(rssBefore / 1e6).toFixed(0)} MB before, ${(rssAfter / 1e6).toFixed(0)} MB after (+${((rssAfter - rssBefore) / 1e6).toFixed(0)} MB)`);
  console.log(`event loop: max delay ${(histogram.max / 1e6).toFixed(1)} ms (monitorEventLoopDelay), max 1 ms-ticker gap ${maxGap.toFixed(1)} ms`);
  console.log(`answer for the last revoked line: ${answer?.kind}`);
}

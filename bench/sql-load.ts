/**
 * The SQL status store at a million rows, on SQLite and on PostgreSQL: `vouch store import-index`
 * rows/s (a fresh import and a re-run that changes nothing), then time-to-ready, RSS and the
 * longest event-loop block of an sql source loading those rows, in a fresh child process. The
 * index is generated like bench/index-load.ts (openssl ca format, every tenth line revoked).
 *
 *     node --expose-gc bench/sql-load.ts [lines=1000000] [postgres-url=postgres://postgres@127.0.0.1:5432/test]
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import pg from "pg";
import { systemClock } from "../src/clock.ts";
import { silentLogger } from "../src/observability/logger.ts";
import { createPki, readPemDer } from "../src/pki/openssl-pki.ts";
import { openSqlSource } from "../src/status/sql/sql-loader.ts";
import { certIdFor } from "../src/status/test-support/cert-id-fixture.ts";

const MAIN = resolve(import.meta.dirname, "../src/main.ts");

/** CPU seconds (user + system) of this process's finished children, from /proc/self/stat. */
function childrenCpuSeconds(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /, "").split(" ");
  // After the ")" field 3 is state; cutime and cstime are fields 16 and 17 (1-based), in clock ticks (100 Hz).
  return (Number(fields[13]) + Number(fields[14])) / 100;
}
/** The serial of line i: 9 octets, never sign-padded (as bench/index-load.ts). */
const serialOf = (i: number): string => (0x10n * 2n ** 64n + BigInt(i) * 2654435761n + 0x1000n).toString(16).toUpperCase();

if (process.argv[2] === "--measure") {
  await measure(process.argv[3] ?? "", process.argv[4] || undefined, process.argv[5] ?? "", Number(process.argv[6]));
  process.exit(0);
}

const count = Number(process.argv[2] ?? 1_000_000);
const postgresUrl = process.argv[3] ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `vouch_bench_${randomBytes(4).toString("hex")}`;
const dir = await mkdtemp(join(tmpdir(), "vouch-sql-bench-"));
try {
  const pki = await createPki({ dir: join(dir, "pki") });
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const revoked = i % 10 === 0;
    lines.push(`${revoked ? "R" : "V"}\t291231235959Z\t${revoked ? "261124085940Z,keyCompromise" : ""}\t${serialOf(i)}\tunknown\t/C=SE/O=Vouch Bench/CN=host-${i}.bench.vouch.test`);
  }
  const file = join(dir, "big-index.txt");
  const text = `${lines.join("\n")}\n`;
  await writeFile(file, text);
  console.log(`generated ${count} lines (${count / 10} revoked), ${(text.length / 1e6).toFixed(1)} MB`);
  const issuerFile = join(dir, "issuer.der");
  await writeFile(issuerFile, await readPemDer(pki.ca));

  for (const [engine, args] of [
    ["sqlite", ["--database", join(dir, "status.db")]],
    ["postgres", ["--database", postgresUrl, "--schema", schema]],
  ] as const) {
    for (const run of ["import", "re-import"]) {
      const t = performance.now();
      const cpu = childrenCpuSeconds();
      execFileSync(process.execPath, [MAIN, "store", "import-index", file, ...args, "--issuer", pki.ca], { stdio: ["ignore", "ignore", "ignore"] });
      const seconds = (performance.now() - t) / 1000;
      const cpuSeconds = childrenCpuSeconds() - cpu;
      console.log(
        `${engine} ${run}: ${seconds.toFixed(1)} s wall, ${Math.round(count / seconds).toLocaleString("en-US")} rows/s; ` +
          `the vouch process used ${cpuSeconds.toFixed(1)} s CPU (${Math.round(count / cpuSeconds).toLocaleString("en-US")} rows per CPU second)`,
      );
    }
    const database = engine === "sqlite" ? join(dir, "status.db") : postgresUrl;
    execFileSync(process.execPath, ["--expose-gc", import.meta.filename, "--measure", database, engine === "sqlite" ? "" : schema, issuerFile, String(count)], { stdio: "inherit" });
  }
} finally {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  await rm(dir, { recursive: true, force: true });
}

/** Opens an sql source on the store and prints the numbers. */
async function measure(database: string, storeSchema: string | undefined, issuerFile: string, rows: number): Promise<void> {
  const issuer = await readFile(issuerFile);
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const t = performance.now();
  const cpu = process.cpuUsage();
  const source = await openSqlSource({ database, schema: storeSchema, issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 60_000 });
  const loadMs = performance.now() - t;
  const loadCpu = process.cpuUsage(cpu);
  histogram.disable();
  globalThis.gc?.();
  const rssAfter = process.memoryUsage().rss;
  const signal = new AbortController().signal;
  const ids = Array.from({ length: 1000 }, (_, i) => certIdFor(Buffer.from(serialOf((i * 997) % rows).padStart(18, "0"), "hex"), issuer, "sha256"));
  const answer = await source.status(ids[0]!, signal);
  const lookups = 1_000_000;
  const l = performance.now();
  for (let i = 0; i < lookups; i++) await source.status(ids[i % ids.length]!, signal);
  const lookupSeconds = (performance.now() - l) / 1000;
  await source.close();
  const engine = database.startsWith("postgres") ? "postgres" : "sqlite";
  console.log(`${engine} source: ready in ${loadMs.toFixed(0)} ms (${((loadCpu.user + loadCpu.system) / 1000).toFixed(0)} ms CPU); RSS ${(rssBefore / 1e6).toFixed(0)} MB before, ${(rssAfter / 1e6).toFixed(0)} MB after (+${((rssAfter - rssBefore) / 1e6).toFixed(0)} MB); longest event-loop block ${(histogram.max / 1e6).toFixed(1)} ms`);
  console.log(`${engine} source: ${Math.round(lookups / lookupSeconds).toLocaleString("en-US")} status() lookups/s; first answer ${answer?.kind}`);
}

/**
 * bench/propagation.ts - how fast a revocation reaches every answer (issue 14's benchmark).
 *
 * For each source type (SOURCES, default "postgres sqlite index crl"): two `vouch serve --workers 2`
 * instances of type `cached`, sharing the status data (the PostgreSQL schema, the SQLite file, or
 * the index / CRL files) and a Redis tier (a key prefix of its own on BENCH_REDIS). While wrk keeps
 * a steady load of no-nonce and nonce POSTs on both (LOAD_CONNECTIONS per instance and kind),
 * REVOCATIONS (default 100) certificates are revoked one after another: `vouch store revoke` for
 * the SQL stores, an `openssl ca`-style rewrite of index.txt (by rename) for the index, and that plus
 * `openssl ca -gencrl` for the CRL. For each, the time from the command's return until every
 * instance has answered revoked is measured by probe clients polling each instance every PROBE_MS
 * (default 10; a new connection per probe, so both workers are asked; no-nonce and nonce
 * alternately), which keep polling SETTLE_MS (default 300) afterwards: any `good` after an
 * instance's first `revoked` is counted (the goal: none). Reported per source: p50, p99, max.
 *
 * Then, same run, a `basic` responder under wrk GETs without a nonce, with reuseFor PT1M (the
 * default) and PT0S (every response signed): req/s of each and their ratio (goal ≥ 3×), and the
 * server's CPU time per request (all its processes, from /proc) with its ratio: wrk runs on the same
 * cores, so req/s of the cheap path is partly wrk's limit.
 *
 * LOG_DIR (optional): a folder that keeps each instance's log, vouch-<port>.log, at LOG_LEVEL (default warn).
 *
 * Needs `npm run build` (Vouch runs from dist/), wrk, openssl, PostgreSQL (BENCH_PG) and Redis
 * (BENCH_REDIS). Absolute times here depend on the machine's load: run it on a quiet machine.
 * Data in $BENCH_DATA/propagation.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync } from "node:fs";
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { decodeOcspResponse } from "../src/ocsp/decode-response.ts";
import { createPki, pkiExists, pkiPaths, type Pki } from "../src/pki/openssl-pki.ts";
import { withSerial } from "../test/support/reference-requests.ts";

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, "..");
const VOUCH = join(REPO, "bin/vouch.js");
const DATA = join(process.env.BENCH_DATA ?? "/tmp/vouch-bench", "propagation");
const SOURCES = (process.env.SOURCES ?? "postgres sqlite index crl").split(/\s+/).filter(Boolean);
const REVOCATIONS = Number(process.env.REVOCATIONS ?? 100);
const PROBE_MS = Number(process.env.PROBE_MS ?? 10);
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 300);
const LOAD_CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 2);
const REUSE_SECONDS = Number(process.env.REUSE_SECONDS ?? 10);
const PG = process.env.BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS = process.env.BENCH_REDIS ?? "redis://127.0.0.1:6379";
const BASE_PORT = Number(process.env.PROPAGATION_PORT ?? 18190);
const ENV = { ...process.env, OPENSSL_CONF: "/dev/null" };

/** Serial of the i-th certificate revoked in the run (hex, never sign-padded). */
const serialOf = (i: number): string => (0x5000 + i).toString(16).toUpperCase();

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** One index.txt line of a valid certificate, as `openssl ca` writes it. */
const validLine = (serial: string) => `V\t491231235959Z\t\t${serial}\tunknown\t/C=SE/O=Vouch Bench/CN=bench-${serial}`;

interface Instance {
  readonly port: number;
  readonly child: ChildProcess;
}

async function startInstance(config: string, port: number, probe: Buffer): Promise<Instance> {
  // LOG_DIR keeps each instance's log (vouch-<port>.log): which worker applied what, and when.
  const logDir = process.env.LOG_DIR;
  if (logDir !== undefined) mkdirSync(logDir, { recursive: true });
  const log = logDir === undefined ? "ignore" : openSync(join(logDir, `vouch-${port}.log`), "w");
  const child = spawn(process.execPath, [VOUCH, "serve", "--workers", "2", "--config", config], { env: ENV, stdio: ["ignore", log, "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vouch exited: ${stderr}`);
    if (performance.now() - started > 120_000) throw new Error("vouch not answering after 120 s");
    if ((await ask(port, probe, false)) !== undefined) return { port, child };
    await sleep(100);
  }
}

async function stop(instance: Instance): Promise<void> {
  if (instance.child.exitCode !== null) return;
  const exited = new Promise((done) => instance.child.once("exit", done));
  instance.child.kill("SIGTERM");
  await exited;
}

/** The status `port` gives for `request`, or undefined when it does not answer. A new connection each time. */
async function ask(port: number, request: Buffer, close: boolean): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      body: request,
      headers: { "content-type": "application/ocsp-request", ...(close ? { connection: "close" } : {}) },
      signal: AbortSignal.timeout(5000),
    });
    const decoded = decodeOcspResponse(Buffer.from(await response.arrayBuffer()));
    return decoded.status === "successful" ? decoded.basic.responses[0]?.status.kind : undefined;
  } catch {
    return undefined;
  }
}

/** wrk POSTing `requestFile` to `port` until stopped (bench/lib/ocsp-post.lua). */
function load(port: number, requestFile: string, seconds: number): ChildProcess {
  return spawn("wrk", ["-t1", `-c${LOAD_CONNECTIONS}`, `-d${seconds}s`, "-s", join(REPO, "bench/lib/ocsp-post.lua"), `http://127.0.0.1:${port}/`], {
    env: { ...ENV, BENCH_REQ: requestFile },
    stdio: "ignore",
  });
}

interface SourceSetup {
  /** The issuer's sources (YAML flow sequence). */
  readonly sources: string;
  /** Revokes the serial; resolves when the command returned. */
  revoke(serial: string): Promise<void>;
  cleanUp(): Promise<void>;
}

async function setUpSource(kind: string, pki: Pki, dir: string): Promise<SourceSetup> {
  // The CA database with REVOCATIONS more valid certificates (lines only: nothing here needs their files).
  const base = (await readFile(pki.index, "utf8")).trimEnd();
  const lines = [base, ...Array.from({ length: REVOCATIONS }, (_, i) => validLine(serialOf(i)))];
  await writeFile(pki.index, `${lines.join("\n")}\n`);
  const revokeInIndex = async (serial: string) => {
    const stamp = `${new Date().toISOString().replace(/[-:T]/g, "").slice(2, 14)}Z`;
    const text = (await readFile(pki.index, "utf8")).replace(`V\t491231235959Z\t\t${serial}\t`, `R\t491231235959Z\t${stamp},keyCompromise\t${serial}\t`);
    // As `openssl ca` does: a new file renamed over the old one.
    await writeFile(`${pki.index}.new`, text);
    await rename(`${pki.index}.new`, pki.index);
  };
  if (kind === "index") return { sources: `[{ type: index, file: ${pki.index} }]`, revoke: revokeInIndex, cleanUp: async () => {} };
  if (kind === "crl") {
    const gencrl = async () => {
      await run("openssl", ["ca", "-batch", "-config", pki.opensslConfig, "-gencrl", "-out", `${pki.crl}.new`], { env: ENV });
      await rename(`${pki.crl}.new`, pki.crl);
    };
    await gencrl();
    return {
      sources: `[{ type: crl, files: [${pki.crl}] }]`,
      revoke: async (serial) => {
        await revokeInIndex(serial);
        await gencrl();
      },
      cleanUp: async () => {},
    };
  }
  const storeArgs = kind === "postgres" ? ["--database", PG, "--schema", `vouch_bench_${randomBytes(4).toString("hex")}`] : ["--database", join(dir, "status.db")];
  await run(process.execPath, [VOUCH, "store", "import-index", pki.index, ...storeArgs, "--issuer", pki.ca], { env: ENV });
  const schema = storeArgs[3];
  return {
    sources: kind === "postgres" ? `[{ type: sql, database: "${PG}", schema: ${schema} }]` : `[{ type: sql, database: ${storeArgs[1]} }]`,
    revoke: async (serial) => {
      await run(process.execPath, [VOUCH, "store", "revoke", serial, "--reason", "keyCompromise", ...storeArgs, "--issuer", pki.ca], { env: ENV });
    },
    cleanUp: async () => {
      if (kind === "postgres") await run("psql", [PG, "-qc", `DROP SCHEMA IF EXISTS ${schema} CASCADE`], { env: ENV }).catch(() => {});
    },
  };
}

interface PropagationResult {
  readonly source: string;
  readonly ms: readonly number[];
  readonly goodAfterRevoked: number;
  readonly timedOut: number;
}

async function propagation(kind: string, port: number): Promise<PropagationResult> {
  const dir = join(DATA, kind);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const pki = await createPki({ dir: join(dir, "pki") });
  const source = await setUpSource(kind, pki, dir);
  const plain = (await run("openssl", ["ocsp", "-issuer", pki.ca, "-cert", pki.good, "-no_nonce", "-reqout", join(dir, "plain.der")], { env: ENV }), await readFile(join(dir, "plain.der")));
  await run("openssl", ["ocsp", "-issuer", pki.ca, "-cert", pki.good, "-reqout", join(dir, "nonce.der")], { env: ENV });
  const nonce = await readFile(join(dir, "nonce.der"));
  const prefix = `vouch-bench:${kind}:${randomBytes(4).toString("hex")}:`;
  const instances: Instance[] = [];
  for (let index = 0; index < 2; index++) {
    const config = join(dir, `vouch-${index}.yaml`);
    await writeFile(
      config,
      `log: { level: ${process.env.LOG_LEVEL ?? "warn"} }
responders:
  - name: bench
    type: cached
    listen: { host: 127.0.0.1, port: ${port + index} }
    responseCache:
      issuers: [{ issuer: "*", expiresAfter: PT1H }]
      redis: { url: "${REDIS}", keyPrefix: "${prefix}" }
    issuers:
      - certificate: ${pki.ca}
        signer: { certificate: ${pki.signer}, key: ${pki.signerKey} }
        sources: ${source.sources}
`,
    );
    instances.push(await startInstance(config, port + index, plain));
  }
  const loads = instances.flatMap((instance) => [load(instance.port, join(dir, "plain.der"), 3600), load(instance.port, join(dir, "nonce.der"), 3600)]);
  const ms: number[] = [];
  let goodAfterRevoked = 0;
  let timedOut = 0;
  try {
    for (let i = 0; i < REVOCATIONS; i++) {
      const serial = serialOf(i);
      const requests = [withSerial(plain, serial), withSerial(nonce, serial)];
      // Warm every tier with the good answer first (both workers of both instances, no nonce and nonce).
      for (const instance of instances) for (let round = 0; round < 4; round++) await ask(instance.port, requests[round % 2]!, true);
      await source.revoke(serial);
      const returned = performance.now();
      const firstRevoked: (number | undefined)[] = instances.map(() => undefined);
      let allAt: number | undefined;
      const deadline = returned + 10_000;
      const probes = instances.map(async (instance, index) => {
        for (let round = 0; ; round++) {
          const now = performance.now();
          if (now > deadline || (allAt !== undefined && now > allAt + SETTLE_MS)) return;
          const status = await ask(instance.port, requests[round % 2]!, true);
          if (status === "revoked") {
            firstRevoked[index] ??= performance.now();
            if (firstRevoked.every((at) => at !== undefined)) allAt ??= Math.max(...(firstRevoked as number[]));
          } else if (status === "good" && firstRevoked[index] !== undefined) {
            goodAfterRevoked++;
          }
          await sleep(PROBE_MS);
        }
      });
      await Promise.all(probes);
      if (allAt === undefined) timedOut++;
      else ms.push(allAt - returned);
    }
  } finally {
    for (const wrk of loads) wrk.kill("SIGTERM");
    await Promise.all(instances.map(stop));
    await source.cleanUp();
  }
  return { source: kind, ms, goodAfterRevoked, timedOut };
}

/**
 * CPU time (ms) used so far by process `pid` and every process under it (/proc, Linux): what the
 * server spent, whatever the load generator on the same cores did.
 */
async function treeCpuMs(pid: number): Promise<number> {
  const stats: { pid: number; ppid: number; ticks: number }[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = await readFile(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15).
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.push({ pid: Number(entry), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // Gone meanwhile.
    }
  }
  const tree = new Set([pid]);
  for (let grown = true; grown; ) {
    grown = false;
    for (const stat of stats) {
      if (tree.has(stat.pid) || !tree.has(stat.ppid)) continue;
      tree.add(stat.pid);
      grown = true;
    }
  }
  // USER_HZ is 100 on Linux.
  return stats.filter((stat) => tree.has(stat.pid)).reduce((sum, stat) => sum + stat.ticks, 0) * 10;
}

interface ReuseRun {
  readonly rate: number;
  /** The server's CPU time per request (all its processes), µs. */
  readonly cpuUs: number;
}

/** req/s of wrk GETs without a nonce on a basic responder with `reuseFor`, signing with `keyType`, and the server's CPU µs per request. */
async function reuseRate(reuseFor: string, port: number, keyType: "ecdsa-p256" | "rsa-2048"): Promise<ReuseRun> {
  const dir = join(DATA, `reuse-${keyType}`);
  await mkdir(dir, { recursive: true });
  const paths = (await pkiExists(join(dir, "pki"))) ? pkiPaths(join(dir, "pki")) : await createPki({ dir: join(dir, "pki"), caKeyType: keyType });
  await run("openssl", ["ocsp", "-issuer", paths.ca, "-cert", paths.good, "-no_nonce", "-reqout", join(dir, "plain.der")], { env: ENV });
  const request = await readFile(join(dir, "plain.der"));
  const config = join(dir, `vouch-${reuseFor}.yaml`);
  await writeFile(
    config,
    `log: { level: warn }
responders:
  - name: basic
    reuseFor: ${reuseFor}
    listen: { host: 127.0.0.1, port: ${port} }
    issuers:
      - certificate: ${paths.ca}
        signer: { certificate: ${paths.signer}, key: ${paths.signerKey} }
        sources: [{ type: index, file: ${paths.index} }]
`,
  );
  const child = spawn(process.execPath, [VOUCH, "serve", "--config", config], { env: ENV, stdio: "ignore" });
  const instance = { port, child };
  try {
    while ((await ask(port, request, false)) === undefined) await sleep(100);
    const url = `http://127.0.0.1:${port}/${encodeURIComponent(request.toString("base64"))}`;
    const cpuBefore = await treeCpuMs(child.pid!);
    const { stdout } = await run("wrk", ["-t1", "-c8", `-d${REUSE_SECONDS}s`, url], { env: ENV });
    const cpuMs = (await treeCpuMs(child.pid!)) - cpuBefore;
    const rate = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1];
    const requests = /(\d+) requests in/.exec(stdout)?.[1];
    if (rate === undefined || requests === undefined) throw new Error(`wrk said: ${stdout}`);
    return { rate: Number(rate), cpuUs: (cpuMs * 1000) / Number(requests) };
  } finally {
    await stop(instance);
  }
}

async function main(): Promise<void> {
  if (!(await access(join(REPO, "dist/main.js")).then(() => true, () => false))) throw new Error("run `npm run build` first (Vouch runs from dist/)");
  await mkdir(DATA, { recursive: true });
  const lines = [`# Revocation propagation (issue 14), ${new Date().toISOString()}`, "", `${REVOCATIONS} revocations per source, two instances × two workers, probes every ${PROBE_MS} ms`, ""];
  lines.push("| source | p50 ms | p99 ms | max ms | timed out | good after revoked |", "|---|---|---|---|---|---|");
  for (const [index, kind] of SOURCES.entries()) {
    const result = await propagation(kind, BASE_PORT + 2 * index);
    const row = `| ${kind} | ${quantile(result.ms, 0.5).toFixed(0)} | ${quantile(result.ms, 0.99).toFixed(0)} | ${Math.max(...result.ms).toFixed(0)} | ${result.timedOut} | ${result.goodAfterRevoked} |`;
    lines.push(row);
    console.error(row);
  }
  // req/s depends on wrk, which shares the cores; the server's CPU per request does not.
  lines.push(
    "",
    "| basic, GET without nonce | reuseFor PT1M req/s | PT0S req/s | ratio | PT1M server CPU µs/req | PT0S µs/req | CPU ratio |",
    "|---|---|---|---|---|---|---|",
  );
  for (const keyType of ["ecdsa-p256", "rsa-2048"] as const) {
    const on = await reuseRate("PT1M", BASE_PORT + 20, keyType);
    const off = await reuseRate("PT0S", BASE_PORT + 21, keyType);
    lines.push(`| ${keyType} signer | ${on.rate.toFixed(0)} | ${off.rate.toFixed(0)} | ${(on.rate / off.rate).toFixed(2)}× | ${on.cpuUs.toFixed(0)} | ${off.cpuUs.toFixed(0)} | ${(off.cpuUs / on.cpuUs).toFixed(2)}× |`);
  }
  const report = `${lines.join("\n")}\n`;
  process.stdout.write(report);
  await mkdir(join(REPO, "bench/results"), { recursive: true });
  await writeFile(join(REPO, "bench/results/propagation.md"), report);
}

await main();

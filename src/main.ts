import { Command, InvalidArgumentError } from "commander";
import { ConfigError } from "./errors.ts";
import { HASH_ALGORITHMS, type HashAlgorithm } from "./ocsp/types.ts";
import type { QueryOptions } from "./cli/query.ts";
import type { SignerNewOptions } from "./cli/signer.ts";
import { registerStoreCommands } from "./cli/store.ts";
import { quietOnBrokenPipe } from "./cli/quiet-broken-pipe.ts";
import { versionLine } from "./cli/version.ts";

// Each command's modules load when it runs: `vouch serve` does not pay for pg, ioredis or the demo
// PKI unless its configuration uses them (module loading is a good part of the time to ready).

quietOnBrokenPipe(process.stdout);

/** argv → one CLI command. User errors print one line naming the problem and exit 2; no stack traces. */
const program = new Command("vouch").description("Vouch, an OCSP responder (RFC 6960)").version(versionLine(), "-V, --version", "print the version of Vouch and of the Node.js it runs on").showHelpAfterError();

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new InvalidArgumentError("must be a port number (0-65535)");
  return parsed;
}

function workerCount(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 64) throw new InvalidArgumentError("must be a whole number from 1 to 64");
  return parsed;
}

function hashAlgorithm(value: string): HashAlgorithm {
  const known = HASH_ALGORITHMS.find((algorithm) => algorithm === value.toLowerCase().replace("-", ""));
  if (known === undefined) throw new InvalidArgumentError(`must be one of ${HASH_ALGORITHMS.join(", ")}`);
  return known;
}

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || parsed > 3600) throw new InvalidArgumentError("must be a number of seconds (at most 3600)");
  return parsed;
}

program
  .command("serve")
  .description("run the responders described by a configuration file")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .option("-w, --workers <n>", "worker processes sharing the ports (default: one per CPU; 1 with port 0)", workerCount)
  .option("-t, --threads <n>", "old name of --workers", workerCount)
  .option("--worker-threads", "run the workers as threads of this one process instead of as processes")
  .option("--pid-file <file>", "write the server's pid here, for `vouch reload`")
  .action(async (options: { config: string; workers?: number; threads?: number; workerThreads?: boolean; pidFile?: string }) =>
    (await import("./cli/serve.ts")).runServe(options.config, { workers: options.workers ?? options.threads, workerThreads: options.workerThreads, pidFile: options.pidFile }),
  );

program
  .command("check")
  .description("validate a configuration and every file it names, as serve would start it, without serving (exit 0 or 2)")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .option("-w, --workers <n>", "check for this many workers, as serve --workers would", workerCount)
  .option("--worker-threads", "check for workers as threads, as serve --worker-threads would")
  .action(async (options: { config: string; workers?: number; workerThreads?: boolean }) =>
    (await import("./cli/check.ts")).runCheck(options.config, { workers: options.workers, workerThreads: options.workerThreads }),
  );

program
  .command("reload")
  .description("make a running server re-read its configuration file (SIGHUP) and wait for the outcome (exit 1 when refused)")
  .requiredOption("--pid-file <file>", "the pid file the server was started with")
  .option("--timeout <seconds>", "how long to wait for the outcome", seconds, 600)
  .action(async (options: { pidFile: string; timeout: number }) => {
    process.exitCode = await (await import("./cli/reload.ts")).runReload(options.pidFile, options.timeout * 1000);
  });

program
  .command("demo")
  .description("create a demo PKI (first run) and serve it, printing openssl ocsp commands to try")
  .option("-d, --dir <dir>", "folder for the demo PKI and configuration", "./vouch-demo")
  .option("-p, --port <port>", "port to listen on (127.0.0.1)", port)
  .action(async (options: { dir: string; port?: number }) => (await import("./cli/demo.ts")).runDemo(options.dir, options.port));

program
  .command("billing")
  .description("billing records")
  .command("summary")
  .description("print per-requestor counts from the billing sinks of a configuration, over a time window")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .requiredOption("-s, --since <date>", "count records from this date or time (ISO 8601, inclusive; a date is UTC midnight)")
  .option("-u, --until <date>", "and before this date or time (ISO 8601, exclusive; default: no end)")
  .option("-r, --responder <name>", "only this responder")
  .option("-f, --format <format>", "table, csv or json", "table")
  .action(async (options: { config: string; since: string; until?: string; responder?: string; format: string }) =>
    (await import("./cli/billing.ts")).runBillingSummary(options.config, options),
  );

registerStoreCommands(program);

program
  .command("cache")
  .description("response caches (docs/revocation-propagation.md)")
  .command("purge")
  .description("drop cached responses from a running server's memory tiers (admin listener, needs admin.tokenFile) and from Redis (exit 1 when a part failed)")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .option("--all", "every cached response")
  .option("-i, --issuer <file>", "only the certificates of this CA (its certificate, PEM or DER)")
  .option("-s, --serial <hex>", "with --issuer: only this certificate")
  .option("-r, --responder <name>", "only this responder's caches")
  .option("--timeout <seconds>", "how long to wait for the server and for Redis", seconds, 10)
  .action(async (options: { config: string; all?: boolean; issuer?: string; serial?: string; responder?: string; timeout: number }) => {
    process.exitCode = await (await import("./cli/cache-purge.ts")).runCachePurge({ ...options, timeoutMs: options.timeout * 1000 });
  });

program
  .command("signer")
  .description("responder signers (docs/signer-lifecycle.md)")
  .command("new")
  .description("make the next signer's key (file or PKCS#11 token) and its certificate request")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .requiredOption("-i, --issuer <name>", "the CA: its common name, or its whole subject")
  .option("-r, --responder <name>", "only this responder's issuers")
  .option("-o, --out <dir>", "folder for the key and request (default: the signer directory)")
  .option("-a, --algorithm <name>", "key algorithm (default: the current signer's), e.g. ecdsa-p256, rsa-3072, ed25519, ml-dsa-65")
  .option("-n, --name <name>", "base name of the files (default: signer-<UTC time>)")
  .option("--pkcs11", "make the key on the issuer's PKCS#11 token instead of in a file")
  .option("--key-label <label>", "with --pkcs11: CKA_LABEL of the new key (default: the base name)")
  .option("--key-id <hex>", "with --pkcs11: CKA_ID of the new key (default: 8 random octets)")
  .action(async (options: SignerNewOptions) => (await import("./cli/signer.ts")).runSignerNew(options));

const collect = (value: string, previous: string[]): string[] => [...previous, value];

program
  .command("query")
  .description("ask an OCSP responder about certificates and print the answer (exit 1 when it is not a good, verified response)")
  .option("-u, --url <url>", "responder URL (default: the OCSP URL in the first --cert)")
  .requiredOption("-i, --issuer <file>", "the CA certificate that issued the certificates asked about")
  .option("--cert <file>", "a certificate to ask about (repeatable)", collect, [])
  .option("--serial <hex>", "a serial number to ask about, issued by --issuer (repeatable)", collect, [])
  .option("--hash <algorithm>", "CertID hash: sha1, sha256, sha384 or sha512", hashAlgorithm, "sha1")
  .option("--no-nonce", "send no nonce")
  .option("--get", "use HTTP GET instead of POST")
  .option("--sign <file>", "sign the request with this certificate (needs --sign-key)")
  .option("--sign-key <file>", "private key of --sign")
  .option("--sign-chain <file>", "certificates to send after the signer's (repeatable)", collect, [])
  .option("--freshness-proof <file>", "a DER OCSPResponse to attach as a freshness proof (repeatable)", collect, [])
  .option("--trust <file>", "trusted CA certificates: the --issuer must be one or be issued by one (repeatable)", collect, [])
  .option("--tls-ca <file>", "https: CA certificates (PEM) that issued the responder's certificate (default: the system's)")
  .option("--tls-cert <file>", "https: a client certificate (PEM) to present, for a responder with TLS client authentication")
  .option("--tls-key <file>", "https: the private key (PEM) of --tls-cert")
  .option("-o, --out <file>", "write the response DER to this file")
  .option("--timeout <seconds>", "give up after this long", seconds, 10)
  // Exit 1 means "not a good, verified answer", so a usage error must not look like one.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .action(async (options: Omit<QueryOptions, "timeoutMs"> & { timeout: number }) => {
    process.exitCode = await (await import("./cli/query.ts")).runQuery({ ...options, timeoutMs: options.timeout * 1000 });
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`vouch: ${error.describe()}\n`);
    process.exit(2);
  }
  process.stderr.write(`vouch: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

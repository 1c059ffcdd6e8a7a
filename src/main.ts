import { Command, InvalidArgumentError } from "commander";
import { ConfigError } from "./errors.ts";
import { runBillingSummary } from "./cli/billing.ts";
import { runDemo } from "./cli/demo.ts";
import { runReload } from "./cli/reload.ts";
import { runServe } from "./cli/serve.ts";
import { registerStoreCommands } from "./cli/store.ts";

/** argv → one CLI command. User errors print one line naming the problem and exit 2; no stack traces. */
const program = new Command("vouch").description("Vouch, an OCSP responder (RFC 6960)").showHelpAfterError();

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

program
  .command("serve")
  .description("run the responders described by a configuration file")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .option("-w, --workers <n>", "worker processes sharing the ports (default: one per CPU; 1 with port 0)", workerCount)
  .option("-t, --threads <n>", "old name of --workers", workerCount)
  .option("--pid-file <file>", "write the server's pid here, for `vouch reload`")
  .action(async (options: { config: string; workers?: number; threads?: number; pidFile?: string }) =>
    runServe(options.config, { workers: options.workers ?? options.threads, pidFile: options.pidFile }),
  );

program
  .command("reload")
  .description("make a running server re-read its configuration file (SIGHUP)")
  .requiredOption("--pid-file <file>", "the pid file the server was started with")
  .action(async (options: { pidFile: string }) => runReload(options.pidFile));

program
  .command("demo")
  .description("create a demo PKI (first run) and serve it, printing openssl ocsp commands to try")
  .option("-d, --dir <dir>", "folder for the demo PKI and configuration", "./vouch-demo")
  .option("-p, --port <port>", "port to listen on (127.0.0.1)", port)
  .action(async (options: { dir: string; port?: number }) => runDemo(options.dir, options.port));

program
  .command("billing")
  .description("billing records")
  .command("summary")
  .description("print per-requestor counts from the billing sinks of a configuration")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .requiredOption("-s, --since <date>", "count records from this date or time (ISO 8601)")
  .option("-r, --responder <name>", "only this responder")
  .action(async (options: { config: string; since: string; responder?: string }) => runBillingSummary(options.config, options.since, options.responder));

registerStoreCommands(program);

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

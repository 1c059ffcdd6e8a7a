/**
 * `vouch store …`: the commands and their options. What they do is in store-actions.ts, loaded when
 * one runs, so that every other command (serve above all) does not load the SQL store's import code.
 */
import type { Command } from "commander";
import { CRL_REASON_CODES, type CrlReason } from "../ocsp/types.ts";
import { DEFAULT_SCHEMA } from "../status/sql/open-database.ts";

/** The options every store command takes. */
export interface StoreOptions {
  readonly database: string;
  readonly schema: string;
  readonly issuer: string;
}

const actions = () => import("./store-actions.ts");

/** Registers `vouch store` and its subcommands on `program`. */
export function registerStoreCommands(program: Command): void {
  const store = program.command("store").description("manage the SQL status store (SQLite file or PostgreSQL)");
  const command = (name: string, description: string, issuerRequired = true): Command => {
    const sub = store
      .command(name)
      .description(description)
      .requiredOption("-d, --database <file|url>", "the store: an SQLite file (import-* and add create it) or a postgres:// URL")
      .option("--schema <name>", "PostgreSQL schema of the store", DEFAULT_SCHEMA);
    return issuerRequired ? sub.requiredOption("-i, --issuer <ca.pem>", "the CA certificate (PEM or DER) the command is about") : sub.option("-i, --issuer <ca.pem>", "only this CA");
  };
  command("import-index", "import an OpenSSL CA database (index.txt); re-running it changes nothing")
    .argument("<file>", "index.txt")
    .action(async (file: string, options: StoreOptions) => (await actions()).importFile(options, file, "index"));
  command("import-crl", "import the entries of a CRL (PEM or DER) as revoked certificates")
    .argument("<file>", "the CRL")
    .action(async (file: string, options: StoreOptions) => (await actions()).importFile(options, file, "crl"));
  command("add", "list an issued certificate (good) from its PEM or DER file")
    .argument("<certificate>", "the certificate file")
    .action(async (file: string, options: StoreOptions) => (await actions()).add(options, file));
  command("revoke", "revoke a listed certificate")
    .argument("<serial>", "serial number in hex, as index.txt writes it")
    .requiredOption("-r, --reason <reason>", `CRLReason: ${REASONS.join(", ")}`)
    .option("-t, --time <time>", "revocation time, ISO 8601 (default: now)")
    .option("--invalidity-date <time>", "when the key is known or suspected to have been compromised, ISO 8601")
    .action(async (serial: string, options: StoreOptions & { reason: string; time?: string; invalidityDate?: string }) =>
      (await actions()).revoke(options, serial),
    );
  command("unrevoke", "make a revoked certificate good again (e.g. a lifted certificateHold)")
    .argument("<serial>", "serial number in hex")
    .action(async (serial: string, options: StoreOptions) => (await actions()).unrevoke(options, serial));
  command("show", "print what the store says about one serial")
    .argument("<serial>", "serial number in hex")
    .action(async (serial: string, options: StoreOptions) => (await actions()).show(options, serial));
  command("stats", "print the store's schema version and per-issuer counts", false).action(async (options: Omit<StoreOptions, "issuer"> & { issuer?: string }) =>
    (await actions()).stats(options),
  );
}

/** Reason names a revocation may carry (removeFromCRL only appears in delta CRLs). */
export const REASONS = (Object.keys(CRL_REASON_CODES) as CrlReason[]).filter((reason) => reason !== "removeFromCRL");


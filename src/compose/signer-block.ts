/**
 * The signers one `signer` block yields, kept current with their files (issue 15, "staged
 * rollover"): a key file or token block is one signer; a `directory` block is every NAME.pem (or
 * .crt, .cer, .der) beside a NAME.key in it. `refresh` reads what changed (by stat signature, as
 * revocation files are) and checks it as at start-up; a file that fails keeps the signer it would
 * have replaced, and says why.
 */
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import type { SignerConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { fileSignatures } from "../status/files/file-changes.ts";
import { loadSigner, type LoadedSigner, type SignerContext } from "./build-signer.ts";

const CERTIFICATE_EXTENSIONS = new Set([".pem", ".crt", ".cer", ".der"]);
/** A token signer replaced by a new certificate may still have signatures in flight: its sessions close this much later. */
const RETIRE_AFTER_MS = 60_000;

/** One signer of the block, with the stat signature of the files it was loaded from. */
interface Entry {
  readonly loaded: LoadedSigner;
  readonly signature: string;
  /** The certificate file, for logs. */
  readonly certificateFile: string;
}

/** Where one signer of the block would come from. */
interface Candidate {
  readonly name: string;
  readonly certificateFile: string;
  readonly keyFile: string | undefined;
  /** Files whose change means reading it again. */
  readonly files: readonly string[];
}

export interface SignerBlock {
  /** The signers in force (last good version of each). */
  readonly loaded: readonly LoadedSigner[];
  /** Why files on disk are not in force now (bad, or a certificate without its key), for readiness. */
  readonly rejected: readonly string[];
  /** The files to watch by inode, and the directories to watch for new files. */
  readonly watched: { readonly files: readonly string[]; readonly directories: readonly string[] };
  /**
   * Reads changed files again; returns whether the signers in force changed. Never rejects: what
   * fails is logged (once per version of the files) and kept in `rejected`.
   */
  refresh(): Promise<boolean>;
  /** Releases token sessions, including those of replaced signers not yet closed. */
  close(): void;
}

export interface SignerBlockOptions {
  readonly config: SignerConfig;
  /** Path of the block (`responders[0].issuers[1].signer`), for errors. */
  readonly field: string;
  /** The issuer's certificate file: the signer certificate of a block that signs as the CA. */
  readonly issuerCertificateFile: string;
  readonly context: SignerContext;
}

/**
 * Loads every signer of the block. Throws ConfigError naming the field when a file is missing or
 * fails a check (at start-up a configuration must be right; later changes only log).
 */
export async function openSignerBlock(options: SignerBlockOptions): Promise<SignerBlock> {
  const { config, field, context } = options;
  const logger = context.logger;
  const entries = new Map<string, Entry>();
  const rejected = new Map<string, { signature: string; reason: string }>();
  // Replaced token signers waiting to close, by their timer.
  const retiring = new Map<NodeJS.Timeout, () => void>();

  const candidates = async (): Promise<Candidate[]> => {
    if (config.directory === undefined) {
      const certificateFile = config.certificate ?? options.issuerCertificateFile;
      const files = config.key === undefined ? [certificateFile] : [certificateFile, config.key];
      return [{ name: "", certificateFile, keyFile: config.key, files }];
    }
    return directoryCandidates(config.directory, `${field}.directory`);
  };
  const load = (candidate: Candidate) =>
    loadSigner({ config, certificateFile: candidate.certificateFile, keyFile: candidate.keyFile, field }, context).catch((error: unknown) => {
      // A directory's files are not fields of their own: the message names the file.
      if (config.directory !== undefined && error instanceof ConfigError) {
        throw new ConfigError(`${field}.directory`, `${candidate.name}: ${error.message}`, { cause: error });
      }
      throw error;
    });
  const retire = (entry: Entry) => {
    const close = entry.loaded.close;
    if (close === undefined) return;
    const release = () => {
      clearTimeout(timer);
      retiring.delete(timer);
      close();
    };
    const timer = setTimeout(release, RETIRE_AFTER_MS);
    timer.unref();
    retiring.set(timer, release);
  };

  try {
    for (const candidate of await candidates()) {
      const signature = await fileSignatures(candidate.files);
      entries.set(candidate.name, { loaded: await load(candidate), signature, certificateFile: candidate.certificateFile });
    }
  } catch (error) {
    for (const entry of entries.values()) entry.loaded.close?.();
    throw error;
  }

  let watchedFiles: string[] = [];
  const block: SignerBlock = {
    get loaded() {
      return [...entries.values()].map((entry) => entry.loaded);
    },
    get rejected() {
      return [...rejected.entries()].map(([name, { reason }]) => (name === "" ? reason : `${name}: ${reason}`));
    },
    get watched() {
      return config.directory === undefined ? { files: watchedFiles, directories: [] } : { files: [], directories: [config.directory] };
    },
    async refresh() {
      let found: Candidate[];
      try {
        found = await candidates();
      } catch (error) {
        logger.warn({ field, err: describe(error) }, "signer files not read; keeping the current signers");
        return false;
      }
      let changed = false;
      const present = new Set(found.map((candidate) => candidate.name));
      for (const [name, entry] of entries) {
        if (present.has(name)) continue;
        entries.delete(name);
        retire(entry);
        changed = true;
        logger.info({ field, certificate: entry.certificateFile }, "signer certificate removed from its directory; no longer used");
      }
      for (const name of rejected.keys()) if (!present.has(name)) rejected.delete(name);
      for (const candidate of found) {
        const signature = await fileSignatures(candidate.files);
        const current = entries.get(candidate.name);
        if (current?.signature === signature || rejected.get(candidate.name)?.signature === signature) continue;
        try {
          const loaded = await load(candidate);
          entries.set(candidate.name, { loaded, signature, certificateFile: candidate.certificateFile });
          rejected.delete(candidate.name);
          if (current !== undefined) retire(current);
          changed = true;
          logger.info({ field, certificate: candidate.certificateFile, serial: loaded.identity.serial, notBefore: new Date(loaded.identity.notBefore).toISOString(), notAfter: new Date(loaded.identity.notAfter).toISOString() }, "signer loaded from changed files");
        } catch (error) {
          const reason = error instanceof ConfigError ? error.message : describe(error);
          rejected.set(candidate.name, { signature, reason });
          logger.warn({ field, certificate: candidate.certificateFile, err: reason }, current === undefined ? "new signer files rejected" : "changed signer files rejected; keeping the current signer");
        }
      }
      return changed;
    },
    close() {
      for (const release of [...retiring.values()]) release();
      for (const entry of entries.values()) entry.loaded.close?.();
      entries.clear();
    },
  };
  watchedFiles = config.directory === undefined ? [...(await candidates())[0]!.files] : [];
  return block;
}

/** NAME.pem (or .crt, .cer, .der) beside NAME.key in `directory`; dot files are skipped (a renewal's files in the making). */
async function directoryCandidates(directory: string, field: string): Promise<Candidate[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(field, `${directory}: ${code === "ENOENT" ? "directory not found" : `cannot read (${code ?? String(error)})`}`, { cause: error });
  }
  return names
    .filter((name) => !name.startsWith(".") && CERTIFICATE_EXTENSIONS.has(extname(name).toLowerCase()))
    .sort()
    .map((name) => {
      // A certificate without its key is loaded (and rejected) like any bad file: the message names the missing key.
      const keyFile = join(directory, `${name.slice(0, -extname(name).length)}.key`);
      return { name, certificateFile: join(directory, name), keyFile, files: [join(directory, name), keyFile] };
    });
}

function describe(error: unknown): string {
  return error instanceof ConfigError ? error.describe() : error instanceof Error ? error.message : String(error);
}

import { execFile } from "node:child_process";
import { access, mkdir, mkdtemp, readdir, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Where Debian (and most distributions) put SoftHSM2's PKCS#11 library. */
const MODULE_CANDIDATES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib64/pkcs11/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"];

/** A private SoftHSM2 installation: its own configuration and token folder, in a temp dir. */
export interface SoftHsm {
  /** Path of libsofthsm2.so. */
  readonly module: string;
  /** The SOFTHSM2_CONF file; also set in this process's environment (children inherit it). */
  readonly conf: string;
  readonly tokenDir: string;
  /** A folder for the test's other files. */
  readonly dir: string;
  /** Initialises a token in the next free slot. */
  initToken(label: string, pin: string): Promise<void>;
  /** Imports a PKCS#8 PEM private key (`openssl genpkey` output) onto a token. */
  importKey(token: string, pin: string, keyFile: string, label: string, idHex: string): Promise<void>;
  /**
   * Generates a key pair on the token with `pkcs11-tool` (opensc), e.g. keyType "EC:prime256v1" or
   * "rsa:2048"; the private key never leaves it. Returns the public key as PEM, for a certificate.
   */
  generateKey(token: string, pin: string, keyType: string, label: string, idHex: string): Promise<string>;
  /** Initialises an existing token again (all its keys are gone) with a new user PIN. */
  reinitToken(label: string, pin: string): Promise<void>;
  /** Takes a token's folder away, as if the token were pulled out; `restore` puts it back. */
  remove(token: string): Promise<() => Promise<void>>;
}

/**
 * Makes a private SoftHSM2 (DEPENDENCIES.md §8) and points SOFTHSM2_CONF at it. Create every token
 * before the first signer loads the library: SoftHSM reads its token folder at C_Initialize. Throws
 * (never skips) when SoftHSM2 is not installed: `bash .ci/run` installs it.
 */
export async function privateSoftHsm(): Promise<SoftHsm> {
  let module: string | undefined;
  for (const candidate of MODULE_CANDIDATES) {
    if (await access(candidate).then(() => true, () => false)) {
      module = candidate;
      break;
    }
  }
  if (module === undefined) throw new Error(`SoftHSM2 is not installed (no libsofthsm2.so in ${MODULE_CANDIDATES.join(", ")}); install the softhsm2 package (bash .ci/run does)`);
  await run("softhsm2-util", ["--version"]).catch((error: unknown) => {
    throw new Error("softhsm2-util is not on PATH; install the softhsm2 package (bash .ci/run does)", { cause: error });
  });
  const dir = await mkdtemp(join(tmpdir(), "vouch-softhsm-"));
  const tokenDir = join(dir, "tokens");
  await mkdir(tokenDir);
  const conf = join(dir, "softhsm2.conf");
  await writeFile(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  const util = (args: string[]) => run("softhsm2-util", args, { env: { ...process.env, SOFTHSM2_CONF: conf } });
  const tokenFolders = new Map<string, string>();
  return {
    module,
    conf,
    tokenDir,
    dir,
    initToken: async (label, pin) => {
      const before = new Set(await readdir(tokenDir));
      await util(["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "5678"]);
      const created = (await readdir(tokenDir)).find((entry) => !before.has(entry));
      if (created === undefined) throw new Error(`softhsm2-util made no token folder for "${label}"`);
      tokenFolders.set(label, created);
    },
    generateKey: async (token, pin, keyType, label, idHex) => {
      const tool = (args: string[]) => run("pkcs11-tool", ["--module", module, "--token-label", token, ...args], { env: { ...process.env, SOFTHSM2_CONF: conf } });
      await tool(["--login", "--pin", pin, "--keypairgen", "--key-type", keyType, "--label", label, "--id", idHex]).catch((error: unknown) => {
        throw new Error(`pkcs11-tool --keypairgen failed (is opensc installed? bash .ci/run installs it): ${String(error)}`, { cause: error });
      });
      const der = join(dir, `${label}.pub.der`);
      await tool(["--read-object", "--type", "pubkey", "--label", label, "-o", der]);
      const { stdout } = await run("openssl", ["pkey", "-pubin", "-inform", "DER", "-in", der]);
      return stdout;
    },
    reinitToken: async (label, pin) => {
      await util(["--init-token", "--token", label, "--label", label, "--pin", pin, "--so-pin", "5678"]);
    },
    importKey: async (token, pin, keyFile, label, idHex) => {
      await util(["--import", keyFile, "--token", token, "--label", label, "--id", idHex, "--pin", pin]);
    },
    remove: async (token) => {
      const folder = tokenFolders.get(token);
      if (folder === undefined) throw new Error(`no token "${token}" was initialised here`);
      const away = join(dir, `${folder}.removed`);
      await rename(join(tokenDir, folder), away);
      return () => rename(away, join(tokenDir, folder));
    },
  };
}

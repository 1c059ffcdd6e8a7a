import { readFile } from "node:fs/promises";

/** Where the token PIN (or a key file's passphrase) comes from; never the configuration file itself. */
export type PinSource = { readonly file: string } | { readonly env: string };

/** Why a PIN could not be read; `field` is `file` or `env`, under the `pin` setting. */
export class PinUnavailableError extends Error {
  override readonly name = "PinUnavailableError";
  readonly field: "file" | "env";
  constructor(field: "file" | "env", message: string, options?: ErrorOptions) {
    super(message, options);
    this.field = field;
  }
}

/**
 * Reads the PIN: the file's first line (a trailing newline is not part of the PIN), or the
 * environment variable. Read again at each (re)connection, so a PIN changed on the token and in
 * the file is picked up without a restart. Throws PinUnavailableError when the file cannot be read,
 * the variable is unset, or the PIN is empty. `what` names the secret in messages (a key passphrase
 * is read the same way).
 */
export async function readPin(source: PinSource, what = "PIN"): Promise<string> {
  if ("file" in source) {
    let text: string;
    try {
      text = await readFile(source.file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new PinUnavailableError("file", `${source.file}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(error)})`}`, { cause: error });
    }
    const pin = text.split(/\r?\n/, 1)[0] ?? "";
    if (pin === "") throw new PinUnavailableError("file", `${source.file}: the first line (the ${what}) is empty`);
    return pin;
  }
  const pin = process.env[source.env];
  if (pin === undefined || pin === "") throw new PinUnavailableError("env", `the environment variable ${source.env} is not set or empty`);
  return pin;
}

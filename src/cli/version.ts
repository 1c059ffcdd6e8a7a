import { readFileSync } from "node:fs";

/**
 * `vouch --version`: "vouch 0.1.0 (Node.js 24.21.0, OpenSSL 3.5.4)", what a bug report needs. The
 * version is the package's (package.json sits two folders up from src/cli/ and dist/cli/ alike).
 */
export function versionLine(): string {
  const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return `vouch ${version} (Node.js ${process.versions.node}, OpenSSL ${process.versions.openssl})`;
}

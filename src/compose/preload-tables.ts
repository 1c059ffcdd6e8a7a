/**
 * The revocation tables a process with worker threads loads once, before it starts them: every
 * `index` source's file and every `crl` source's files (verified against their issuer), into shared
 * memory (src/status/preloads.ts). Whatever cannot be loaded here is left to the workers, which
 * load it themselves and report what is wrong, naming the field.
 */
import type { Config } from "../config/schema.ts";
import { readCertificateFile } from "../certificate-file.ts";
import { loadPreloadedTables, type CrlFiles } from "../status/preloads.ts";
import type { PreloadedTables } from "../status/source-supply.ts";

export async function preloadTables(config: Config, now: number): Promise<PreloadedTables> {
  const indexFiles: string[] = [];
  const crlSources: Promise<CrlFiles | undefined>[] = [];
  for (const [r, responder] of config.responders.entries()) {
    for (const [i, issuer] of responder.issuers.entries()) {
      for (const source of issuer.sources) {
        if (source.type === "index") indexFiles.push(source.file);
        if (source.type === "crl") {
          const field = `responders[${r}].issuers[${i}].certificate`;
          crlSources.push(readCertificateFile(issuer.certificate, field).then((issuerDer) => ({ files: source.files, issuerDer }), () => undefined));
        }
      }
    }
  }
  const crls = (await Promise.all(crlSources)).filter((source) => source !== undefined);
  return loadPreloadedTables(indexFiles, crls, now);
}

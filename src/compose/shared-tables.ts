/**
 * The revocation tables a process with worker threads loads once, before it starts them: every
 * `index` source's file and every `crl` source's files (verified against their issuer), into shared
 * memory (src/status/shared-tables.ts). Whatever cannot be loaded here is left to the workers, which
 * load it themselves and report what is wrong, naming the field.
 */
import type { Config } from "../config/schema.ts";
import { readCertificateFile } from "../pki/certificate-file.ts";
import { loadSharedCrls, type CrlFiles } from "../status/crl/shared-crl-loads.ts";
import { loadSharedIndexes } from "../status/index/shared-index-loads.ts";
import type { SharedTables } from "../status/shared-tables.ts";

export async function loadSharedTables(config: Config, now: number): Promise<SharedTables> {
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
  const [indexes, crlLoads] = await Promise.all([loadSharedIndexes(indexFiles), loadSharedCrls(crls, now)]);
  return { indexes, crls: crlLoads };
}

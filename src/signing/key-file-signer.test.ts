import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { keyFileSigner } from "./key-file-signer.ts";
import { CONTRACT_KEYS, signerContract, type ContractKey } from "./signer.contract.ts";
import { keyAndCertificate } from "./test-support/signer-keys.ts";

let dir: string;
const keys = new Map<ContractKey, { readonly keyFile: string; readonly certificate: Buffer }>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-key-file-signer-"));
  for (const key of CONTRACT_KEYS) keys.set(key, await keyAndCertificate(dir, key, key));
});
after(() => rm(dir, { recursive: true, force: true }));

signerContract("keyFileSigner", async (key, rsaPadding) => {
  const { keyFile, certificate } = keys.get(key)!;
  return { signer: await keyFileSigner({ keyFile, certificate, rsaPadding, field: "signer.key" }), close: () => {} };
});

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, test } from "node:test";
import { fixedClock, systemClock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { certificateSerial, readPemDer } from "../pki/openssl-pki.ts";
import { certIdFor } from "./test-support/cert-id-fixture.ts";
import { memorySource } from "./memory-source.ts";
import type { MemoryEntry } from "./memory-source.ts";
import { statusSourceContract } from "./status-source.contract.ts";

const SIGNAL = new AbortController().signal;

statusSourceContract("memorySource", async (pki) => {
  const entries = new Map<string, MemoryEntry>([
    [await certificateSerial(pki.good), { kind: "good" }],
    [await certificateSerial(pki.revoked), { kind: "revoked", revokedAt: new Date(systemClock.now()), reason: "keyCompromise" }],
  ]);
  return memorySource({ issuer: await readPemDer(pki.ca), entries, listsIssued: true, clock: systemClock });
});

describe("memorySource", () => {
  test("answers not-issued for an absent serial when it lists every issued certificate, good otherwise", async () => {
    const { issuer } = await smallIssuer();
    const clock = fixedClock("2030-01-01T00:00:00Z");
    const listing = memorySource({ issuer, entries: new Map(), listsIssued: true, clock });
    const notListing = memorySource({ issuer, entries: new Map(), listsIssued: false, clock });
    const id = certIdFor(Buffer.from([0x12, 0x34]), issuer);
    assert.deepEqual(await listing.status(id, SIGNAL), { kind: "not-issued", thisUpdate: new Date("2030-01-01T00:00:00Z"), nextUpdate: undefined });
    assert.equal((await notListing.status(id, SIGNAL))?.kind, "good");
  });

  test("matches entry keys in any hex spelling", async () => {
    const { issuer } = await smallIssuer();
    for (const spelling of ["00AB", "ab", "0AB", "0000ab"]) {
      const source = memorySource({ issuer, entries: new Map([[spelling, { kind: "unknown" } as const]]), listsIssued: true, clock: systemClock });
      assert.equal((await source.status(certIdFor(Buffer.from([0x00, 0xab]), issuer), SIGNAL))?.kind, "unknown", spelling);
    }
  });

  test("carries fixed thisUpdate and nextUpdate when given", async () => {
    const { issuer } = await smallIssuer();
    const thisUpdate = new Date("2030-01-01T00:00:00Z");
    const nextUpdate = new Date("2030-01-02T00:00:00Z");
    const source = memorySource({ issuer, entries: new Map(), listsIssued: false, clock: systemClock, thisUpdate, nextUpdate });
    assert.deepEqual(await source.status(certIdFor(Buffer.from([1]), issuer), SIGNAL), { kind: "good", thisUpdate, nextUpdate });
  });

  const invalid: { name: string; field: string; options: (issuer: Buffer) => Parameters<typeof memorySource>[0] }[] = [
    { name: "a non-hex key", field: "entries.xyz", options: (issuer) => ({ issuer, entries: new Map([["xyz", { kind: "good" } as const]]), listsIssued: true, clock: systemClock }) },
    {
      name: "one serial twice",
      field: "entries.0ab",
      options: (issuer) => ({ issuer, entries: new Map([["AB", { kind: "good" } as const], ["0ab", { kind: "good" } as const]]), listsIssued: true, clock: systemClock }),
    },
    {
      name: "an invalid revocation date",
      field: "entries.1.revokedAt",
      options: (issuer) => ({ issuer, entries: new Map([["1", { kind: "revoked", revokedAt: new Date("nope") } as const]]), listsIssued: true, clock: systemClock }),
    },
    { name: "an issuer that is not a certificate", field: "issuer", options: () => ({ issuer: Buffer.from([0x30, 0x00]), entries: new Map(), listsIssued: true, clock: systemClock }) },
  ];
  for (const { name, field, options } of invalid) {
    test(`rejects ${name} with a ConfigError naming ${field}`, async () => {
      const { issuer } = await smallIssuer();
      assert.throws(() => memorySource(options(issuer)), (error: unknown) => error instanceof ConfigError && error.field === field);
    });
  }
});

let cached: Promise<{ issuer: Buffer }> | undefined;
/** A self-signed certificate made once with openssl for the tests that need any issuer. */
function smallIssuer(): Promise<{ issuer: Buffer }> {
  cached ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "vouch-memory-"));
    const file = join(dir, "ca.pem");
    await promisify(execFile)("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "ca.key"), "-out", file, "-subj", "/CN=Memory Test CA", "-days", "30"]);
    const issuer = await readPemDer(file);
    await rm(dir, { recursive: true, force: true });
    return { issuer };
  })();
  return cached;
}

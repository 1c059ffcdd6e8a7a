/**
 * Loads one CRL file the way SPEC §2 orders it: parse; reject unsupported critical extensions;
 * check that the issuer's certificate is the CRL's issuer; verify the signature; check
 * thisUpdate ≤ now. Only then are the entries read. nextUpdate is not enforced here: stale data
 * is refused at answer time by guardStale, which lets permanent revocations still be served.
 */
import type { KeyObject } from "node:crypto";
import { X509Certificate } from "node:crypto";
import { ConfigError } from "../errors.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { readCrlEntries } from "./crl-entries.ts";
import { parseCrl } from "./crl-parse.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import { verifyCrlSignature } from "./crl-signature.ts";
import { readFileShared } from "./shared-file.ts";
import type { SerialTable } from "./serial-table.ts";

/** The issuer a CRL must come from: its subject Name DER and public key. */
export interface CrlIssuer {
  readonly subjectDer: Buffer;
  readonly publicKey: KeyObject;
}

/**
 * The issuer of `issuerDer` for CRL checks. Throws ConfigError(field) when it is not a certificate.
 */
export function crlIssuer(issuerDer: Buffer, field = "issuer"): CrlIssuer {
  try {
    return { subjectDer: certificateFields(issuerDer).subjectDer, publicKey: new X509Certificate(issuerDer).publicKey };
  } catch (error) {
    throw new ConfigError(field, `not a DER certificate: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** A verified CRL, reduced to what answers need (the file's bytes are not kept). */
export interface LoadedCrl {
  readonly file: string;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  readonly crlNumber: bigint | undefined;
  /** Set only on a delta CRL: the deltaCRLIndicator's BaseCRLNumber. */
  readonly baseCrlNumber: bigint | undefined;
  readonly entries: SerialTable;
}

/**
 * Reads, checks and indexes the CRL in `file` (PEM or DER). Rejects with
 * ConfigError(field, problem, { file }) when the file cannot be read or parsed, has an unsupported
 * critical extension or entry extension, is not issued by `issuer` (its issuer Name is compared
 * byte for byte with the certificate's subject), does not verify, has thisUpdate after `now`,
 * or is a delta CRL without a cRLNumber.
 */
export async function loadCrlFile(file: string, field: string, issuer: CrlIssuer, now: number, signal?: AbortSignal): Promise<LoadedCrl> {
  const fail = (message: string, cause?: unknown): never => {
    throw new ConfigError(field, message, { file, cause });
  };
  let bytes: Buffer;
  try {
    bytes = await readFileShared(file);
  } catch (error) {
    return fail(`cannot read: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  try {
    const crl = parseCrl(await crlDerOfFile(bytes));
    if (!crl.issuerDer.equals(issuer.subjectDer)) fail("the CRL's issuer is not the issuer certificate's subject");
    if (crl.thisUpdate > now) fail(`thisUpdate ${new Date(crl.thisUpdate).toISOString()} is in the future`);
    if (crl.baseCrlNumber !== undefined && crl.crlNumber === undefined) fail("a delta CRL without a cRLNumber (RFC 5280 §5.2.4)");
    await verifyCrlSignature(crl, issuer.publicKey);
    const entries = await readCrlEntries(crl, signal === undefined ? {} : { signal });
    return {
      file,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      crlNumber: crl.crlNumber,
      baseCrlNumber: crl.baseCrlNumber,
      entries,
    };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    return fail(error instanceof Error ? error.message : String(error), error);
  }
}

/** The CRLs answers come from: a complete CRL and, when one applies, a delta on top of it. */
export interface CrlView {
  readonly full: LoadedCrl;
  readonly delta: LoadedCrl | undefined;
}

/**
 * Picks the view from loaded CRLs: the complete CRL with the highest cRLNumber (the latest
 * thisUpdate among CRLs without one), and the delta with the highest cRLNumber that applies to it
 * (RFC 5280 §5.2.4: BaseCRLNumber ≤ the complete CRL's number < the delta's number).
 * Returns `undefined` when no complete CRL is loaded.
 */
export function selectCrlView(loaded: Iterable<LoadedCrl>): CrlView | undefined {
  let full: LoadedCrl | undefined;
  const deltas: LoadedCrl[] = [];
  for (const crl of loaded) {
    if (crl.baseCrlNumber !== undefined) {
      deltas.push(crl);
    } else if (full === undefined || newer(crl, full)) {
      full = crl;
    }
  }
  if (full === undefined) return undefined;
  let delta: LoadedCrl | undefined;
  const fullNumber = full.crlNumber;
  if (fullNumber !== undefined) {
    for (const candidate of deltas) {
      const base = candidate.baseCrlNumber ?? 0n;
      const number = candidate.crlNumber ?? 0n;
      if (base <= fullNumber && fullNumber < number && (delta === undefined || number > (delta.crlNumber ?? 0n))) delta = candidate;
    }
  }
  return { full, delta };
}

function newer(a: LoadedCrl, b: LoadedCrl): boolean {
  if (a.crlNumber !== undefined && b.crlNumber !== undefined && a.crlNumber !== b.crlNumber) return a.crlNumber > b.crlNumber;
  return a.thisUpdate > b.thisUpdate;
}

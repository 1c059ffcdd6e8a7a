/**
 * One CRL file's bytes checked the way SPEC §2 orders it and indexed: parse; reject unsupported
 * critical extensions; check that the issuer's certificate is the CRL's issuer; check thisUpdate ≤
 * now; verify the signature; only then read the entries. nextUpdate is not enforced here: stale
 * data is refused at answer time by guardStale, which lets permanent revocations still be served.
 * Synchronous on purpose: it runs on a thread of its own (crl-jobs.ts).
 */
import type { KeyObject } from "node:crypto";
import { CrlError } from "./crl-error.ts";
import type { EntryShare } from "./crl-entries.ts";
import { readCrlEntries } from "./crl-entries.ts";
import { parseCrl, type ParsedCrl } from "./crl-parse.ts";
import { verifyCrlSignatureNow } from "./crl-signature.ts";
import type { SerialTableParts } from "../table/serial-table.ts";

/** The issuer a CRL must come from: its subject Name DER and public key. */
export interface CrlIssuer {
  readonly subjectDer: Buffer;
  readonly publicKey: KeyObject;
}

/** A verified CRL's header fields and its entries as a table's parts. Times are ms since the epoch. */
export interface CheckedCrl {
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  readonly crlNumber: bigint | undefined;
  /** Set only on a delta CRL: the deltaCRLIndicator's BaseCRLNumber. */
  readonly baseCrlNumber: bigint | undefined;
  /** Where its Freshest CRL extension says the delta CRLs are. */
  readonly freshestCrl: readonly string[];
  readonly entries: SerialTableParts;
}

/**
 * Checks the CRL whose DER is `der`, and indexes its entries in `share` (default: all). Throws
 * CrlError when it is malformed, has an unsupported critical extension or entry extension, is not
 * issued by `issuer` (its issuer Name is compared byte for byte with the certificate's subject), has
 * thisUpdate after `now`, is a delta CRL without a cRLNumber, or does not verify. With `verify`
 * false the signature is not checked: for a thread whose work is used only when another thread's
 * check of the same bytes succeeded.
 */
export function readCheckedCrl(der: Buffer, issuer: CrlIssuer, now: number, options: { share?: EntryShare; verify?: boolean } = {}): CheckedCrl {
  const crl = checkCrlHeader(der, issuer, now, options.verify !== false);
  return { ...headerOf(crl), entries: readCrlEntries(crl, options.share) };
}

/**
 * Checks the CRL whose DER is `der` as `readCheckedCrl` does, but for its entries (a thread that
 * walks them as they arrive does that: crl-arriving.ts), and returns it parsed.
 */
export function checkCrlHeader(der: Buffer, issuer: CrlIssuer, now: number, verify: boolean): ParsedCrl {
  const crl = parseCrl(der);
  if (!crl.issuerDer.equals(issuer.subjectDer)) throw new CrlError("the CRL's issuer is not the issuer certificate's subject");
  if (crl.thisUpdate > now) throw new CrlError(`thisUpdate ${new Date(crl.thisUpdate).toISOString()} is in the future`);
  if (crl.baseCrlNumber !== undefined && crl.crlNumber === undefined) throw new CrlError("a delta CRL without a cRLNumber (RFC 5280 §5.2.4)");
  if (verify) verifyCrlSignatureNow(crl, issuer.publicKey);
  return crl;
}

/** A checked CRL's fields but its entries. */
export function headerOf(crl: ParsedCrl): Omit<CheckedCrl, "entries"> {
  return { thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, crlNumber: crl.crlNumber, baseCrlNumber: crl.baseCrlNumber, freshestCrl: crl.freshestCrl };
}

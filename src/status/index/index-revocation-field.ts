/**
 * The revocation field of an index.txt R line: `time[,reason[,argument]]`, as apps/ca.c
 * `make_revocation_str` writes it:
 *
 *     261124085940Z,keyCompromise
 *     261124085940Z,holdInstruction,1.2.840.10040.2.2   certificateHold with its instruction
 *     261124085940Z,keyTime,20240101120000Z             keyCompromise, key compromised at that time
 *     261124085940Z,CAkeyTime,20240101120000Z           cACompromise, likewise
 *
 * Reason names match case-insensitively, as openssl's `unpack_revinfo` does.
 */
import { CRL_REASON_CODES } from "../../ocsp/types.ts";
import { parseDerTimeText } from "../../ocsp/der-time.ts";

/** What the reason word of a revocation field means; `argument` says what must follow it. */
export interface ReasonWord {
  readonly code: number;
  readonly argument: "none" | "optional-oid" | "oid" | "time";
}

/** The reason words, lower-cased. */
export const REASON_WORDS: ReadonlyMap<string, ReasonWord> = new Map([
  ["unspecified", { code: CRL_REASON_CODES.unspecified, argument: "none" }],
  ["keycompromise", { code: CRL_REASON_CODES.keyCompromise, argument: "none" }],
  ["cacompromise", { code: CRL_REASON_CODES.cACompromise, argument: "none" }],
  ["affiliationchanged", { code: CRL_REASON_CODES.affiliationChanged, argument: "none" }],
  ["superseded", { code: CRL_REASON_CODES.superseded, argument: "none" }],
  ["cessationofoperation", { code: CRL_REASON_CODES.cessationOfOperation, argument: "none" }],
  ["certificatehold", { code: CRL_REASON_CODES.certificateHold, argument: "optional-oid" }],
  ["removefromcrl", { code: CRL_REASON_CODES.removeFromCRL, argument: "none" }],
  ["holdinstruction", { code: CRL_REASON_CODES.certificateHold, argument: "oid" }],
  ["keytime", { code: CRL_REASON_CODES.keyCompromise, argument: "time" }],
  ["cakeytime", { code: CRL_REASON_CODES.cACompromise, argument: "time" }],
]);

/** Dotted OIDs, or the names OpenSSL knows for the three RFC 5280 §5.3.2 hold instructions. */
const HOLD_INSTRUCTION = /^(?:[0-2](?:\.(?:0|[1-9][0-9]*))+|holdInstruction(?:None|CallIssuer|Reject))$/;

/**
 * One revocation field parsed: milliseconds, a CRLReason code or 0xff, and an invalidity date
 * (NaN when none). Returns an error message instead when the field is not valid.
 */
export function parseRevocationField(text: string): { revokedAt: number; code: number; invalidityDate: number } | string {
  const parts = text.split(",");
  if (parts.length > 3) return `revocation field "${text}" has more than three parts`;
  const [timeText = "", word, argument] = parts;
  const revokedAt = parseDerTimeText(timeText);
  if (Number.isNaN(revokedAt)) return `revocation time "${timeText}" is not YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ`;
  if (word === undefined) return { revokedAt, code: 0xff, invalidityDate: Number.NaN };
  const reason = REASON_WORDS.get(word.toLowerCase());
  if (reason === undefined) return `unknown revocation reason "${word}"`;
  let invalidityDate = Number.NaN;
  switch (reason.argument) {
    case "none":
      if (argument !== undefined) return `reason ${word} takes no argument`;
      break;
    case "optional-oid":
    case "oid":
      if (argument === undefined ? reason.argument === "oid" : !HOLD_INSTRUCTION.test(argument)) {
        return `reason ${word} needs a hold instruction OID, found ${argument === undefined ? "none" : `"${argument}"`}`;
      }
      break;
    case "time":
      invalidityDate = argument === undefined ? Number.NaN : parseDerTimeText(argument);
      if (Number.isNaN(invalidityDate)) return `reason ${word} needs a compromise time (YYYYMMDDHHMMSSZ), found ${argument === undefined ? "none" : `"${argument}"`}`;
      break;
  }
  return { revokedAt, code: reason.code, invalidityDate };
}

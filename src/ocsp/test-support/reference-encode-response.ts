/**
 * The previous implementation of encodeResponseData, kept as an oracle: it built every element as its
 * own Buffer and concatenated them. The single-allocation encoder must match it byte for byte, errors
 * included (encode-response.test.ts).
 */
import { assertNever } from "../../errors.ts";
import { boolean, enumerated, explicit, octetString, oid, sequence, tlv } from "../der-writer.ts";
import { id_ce_invalidityDate } from "../oids.ts";
import type { CertStatus, Extension, ResponseData, SingleResponse } from "../types.ts";
import { CRL_REASON_CODES } from "../types.ts";

const oracleGood = Buffer.from([0x80, 0x00]);
const oracleUnknown = Buffer.from([0x82, 0x00]);
const oracleReasons = new Map(Object.entries(CRL_REASON_CODES).map(([reason, code]) => [reason, explicit(0, enumerated(code))]));

function oracleTime(date: Date): Buffer {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("invalid Date");
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`year ${year} does not fit GeneralizedTime`);
  const out = Buffer.allocUnsafe(17);
  out[0] = 0x18;
  out[1] = 15;
  const fields = [Math.floor(year / 100), year % 100, date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
  fields.forEach((value, i) => {
    out[2 + 2 * i] = 0x30 + Math.floor(value / 10);
    out[3 + 2 * i] = 0x30 + (value % 10);
  });
  out[16] = 0x5a; // "Z"
  return out;
}

function oracleExtension(extension: Extension): Buffer {
  const id = oid(extension.oid);
  const value = octetString(extension.value);
  return extension.critical ? sequence(id, boolean(true), value) : sequence(id, value);
}

function oracleCertStatus(status: CertStatus): Buffer {
  switch (status.kind) {
    case "good":
      return oracleGood;
    case "unknown":
      return oracleUnknown;
    case "revoked": {
      const time = oracleTime(status.revokedAt);
      if (status.reason === undefined) return tlv(0xa1, time);
      const reason = oracleReasons.get(status.reason);
      if (reason === undefined) throw new RangeError(`unknown CRL reason ${String(status.reason)}`);
      return tlv(0xa1, time, reason);
    }
    default:
      return assertNever(status);
  }
}

function oracleSingleResponse(single: SingleResponse): Buffer {
  const parts = [single.certIdDer, oracleCertStatus(single.status), oracleTime(single.thisUpdate)];
  if (single.nextUpdate !== undefined) parts.push(explicit(0, oracleTime(single.nextUpdate)));
  const extensions: Buffer[] = [];
  if (single.invalidityDate !== undefined) {
    extensions.push(sequence(oid(id_ce_invalidityDate), octetString(oracleTime(single.invalidityDate))));
  }
  for (const extension of single.extensions) extensions.push(oracleExtension(extension));
  if (extensions.length > 0) parts.push(explicit(1, sequence(...extensions)));
  return sequence(...parts);
}

export function oracleResponseData(data: ResponseData): Buffer {
  const parts = [data.responderIdDer, oracleTime(data.producedAt), sequence(...data.responses.map(oracleSingleResponse))];
  if (data.extensions.length > 0) parts.push(explicit(1, sequence(...data.extensions.map(oracleExtension))));
  return sequence(...parts);
}

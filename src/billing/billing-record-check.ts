import type { BillingRecord } from "./billing-sink.ts";

/**
 * Why a record cannot be stored, or undefined when it can. Checked on `write`, before the record
 * joins a batch, so that one bad record fails alone instead of failing the batch it would share.
 */
function unstorableReason(record: BillingRecord): string | undefined {
  if (!(record.time instanceof Date) || Number.isNaN(record.time.getTime())) return "its time is not a valid date";
  if (record.singleRequests !== undefined && !Number.isSafeInteger(record.singleRequests)) return "singleRequests is not an integer";
  return undefined;
}

/** `write` for a sink: rejects unstorable records at once, hands the others to `add`. */
export function checkedWrite(add: (record: BillingRecord) => Promise<void>): (record: BillingRecord) => Promise<void> {
  return (record) => {
    const reason = unstorableReason(record);
    return reason === undefined ? add(record) : Promise.reject(new Error(`billing record not stored: ${reason}`));
  };
}

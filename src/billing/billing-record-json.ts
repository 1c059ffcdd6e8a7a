import type { BilledCertificate, BillingRecord } from "./billing-sink.ts";

/**
 * The JSON form of a billing record, one per line in the file sink. Field names are fixed and every
 * field is present (absent values are `null`), so that `jq`, spreadsheets and log shippers see the
 * same columns on every line. `tlsSubject`, `signerSubject` and `authorizedBy` were added later
 * (issue 12): lines written before lack them, and read as if they were null.
 */
export interface BillingRecordJson {
  time: string;
  responder: string;
  responderUrl: string;
  clientAddress: string;
  requestor: string | null;
  tlsSubject: string | null;
  signerSubject: string | null;
  authorizedBy: string | null;
  outcome: string;
  source: string | null;
  singleRequests: number | null;
  certificates: { issuerKeyHash: string; issuer: string | null; serial: string; status: string }[] | null;
}

/** One record as a JSON line, newline included. */
export function billingRecordLine(record: BillingRecord): string {
  // Built field by field (not spread) so the key order is fixed and nothing extra leaks in.
  const json: BillingRecordJson = {
    time: record.time.toISOString(),
    responder: record.responder,
    responderUrl: record.responderUrl,
    clientAddress: record.clientAddress,
    requestor: record.requestor ?? null,
    tlsSubject: record.tlsSubject ?? null,
    signerSubject: record.signerSubject ?? null,
    authorizedBy: record.authorizedBy ?? null,
    outcome: record.outcome,
    source: record.source ?? null,
    singleRequests: record.singleRequests ?? null,
    certificates:
      record.certificates?.map((certificate) => ({
        issuerKeyHash: certificate.issuerKeyHash,
        issuer: certificate.issuer ?? null,
        serial: certificate.serial,
        status: certificate.status,
      })) ?? null,
  };
  return `${JSON.stringify(json)}\n`;
}

/** Reads a line written by `billingRecordLine`; undefined when it is not one (a torn or foreign line). */
export function parseBillingRecordLine(line: string): BillingRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const json = value as Partial<Record<keyof BillingRecordJson, unknown>>;
  const time = typeof json.time === "string" ? new Date(json.time) : undefined;
  if (time === undefined || Number.isNaN(time.getTime())) return undefined;
  if (typeof json.responder !== "string" || typeof json.responderUrl !== "string" || typeof json.clientAddress !== "string") return undefined;
  if (typeof json.outcome !== "string") return undefined;
  const authorizedBy = json.authorizedBy ?? undefined;
  if (authorizedBy !== undefined && authorizedBy !== "tls" && authorizedBy !== "signature" && authorizedBy !== "both") return undefined;
  const certificates = parseCertificates(json.certificates);
  if (certificates === false) return undefined;
  return {
    time,
    responder: json.responder,
    responderUrl: json.responderUrl,
    clientAddress: json.clientAddress,
    requestor: typeof json.requestor === "string" ? json.requestor : undefined,
    tlsSubject: typeof json.tlsSubject === "string" ? json.tlsSubject : undefined,
    signerSubject: typeof json.signerSubject === "string" ? json.signerSubject : undefined,
    authorizedBy,
    // The writer only ever wrote BillingRecord outcomes and sources; trust the file's own vocabulary.
    outcome: json.outcome as BillingRecord["outcome"],
    source: typeof json.source === "string" ? (json.source as BillingRecord["source"]) : undefined,
    singleRequests: typeof json.singleRequests === "number" ? json.singleRequests : undefined,
    certificates,
  };
}

/** The certificates of a line: undefined when null, false when malformed. */
function parseCertificates(value: unknown): BilledCertificate[] | undefined | false {
  if (value === null || value === undefined) return undefined;
  if (!Array.isArray(value)) return false;
  const certificates: BilledCertificate[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== "object" || item === null) return false;
    const { issuerKeyHash, issuer, serial, status } = item as Record<string, unknown>;
    if (typeof issuerKeyHash !== "string" || typeof serial !== "string") return false;
    if (status !== "good" && status !== "revoked" && status !== "unknown") return false;
    certificates.push({ issuerKeyHash, issuer: typeof issuer === "string" ? issuer : undefined, serial, status });
  }
  return certificates;
}

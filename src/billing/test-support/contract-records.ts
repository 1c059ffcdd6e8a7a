import type { BillingRecord } from "../billing-sink.ts";

const BASE_TIME = Date.parse("2026-11-05T10:00:00.000Z");

/** A record whose `clientAddress` is its id, exercising every optional field across ids. */
export function contractRecord(id: number): BillingRecord {
  const failed = id % 7 === 3;
  return {
    time: new Date(BASE_TIME + id),
    responder: "acme-ocsp",
    responderUrl: "http://ocsp.example/acme",
    clientAddress: `id-${id}`,
    requestor: id % 5 === 0 ? undefined : `CN=client ${id % 11},O=Example "quoted", \\ back`,
    tlsSubject: id % 5 === 0 || id % 2 === 1 ? undefined : `CN=tls ${id % 13},O=Ünïcode ✓`,
    signerSubject: id % 5 === 0 || id % 2 === 0 ? undefined : `CN=client ${id % 11},O=Example "quoted", \\ back`,
    authorizedBy: failed || id % 5 === 0 ? undefined : (["tls", "signature", "both"] as const)[id % 3],
    outcome: failed ? "unauthorized" : "successful",
    source: failed ? undefined : id % 2 === 0 ? "cache" : "local",
    singleRequests: id % 3 === 0 ? undefined : (id % 4) + 1,
    certificates:
      id % 3 === 1
        ? undefined
        : [
            { issuerKeyHash: "ab".repeat(20), issuer: id % 2 === 0 ? "CN=Acme Issuing CA" : undefined, serial: id.toString(16).padStart(4, "0"), status: "good" },
            { issuerKeyHash: "cd".repeat(20), issuer: "CN=Ünïcode CA ✓", serial: "01", status: id % 2 === 0 ? "revoked" : "unknown" },
          ],
  };
}

/** The id a contract (or crash test) record carries in `clientAddress`. */
export function contractRecordId(record: BillingRecord): number {
  return Number(record.clientAddress.slice("id-".length));
}

import type { BilledCertificate, BillingSink } from "../../billing/billing-sink.ts";
import { TryLaterError } from "../../errors.ts";
import { serialText } from "../../status/serial-key.ts";
import type { Exchange } from "../exchange.ts";
import type { Step } from "../step.ts";

export interface BillingOptions {
  readonly sink: BillingSink;
  readonly responder: string;
  readonly responderUrl: string;
  readonly perRequest: boolean;
  readonly perCert: boolean;
  readonly countUnknown: boolean;
}

/**
 * SPEC step 9: one durable record per request, written before anything is sent. When the sink
 * cannot make the record durable, the step throws TryLaterError, which replaces the answer: the
 * client is never told something that was not billed.
 */
export function billingStep(options: BillingOptions): Step {
  const { sink } = options;
  return {
    name: "billing",
    async run(exchange) {
      const certificates = billedCertificates(exchange, options);
      const tlsSubject = exchange.tlsClient?.subject;
      const signerSubject = exchange.authenticated.find((certificate) => certificate.via === "signature")?.subject;
      try {
        await sink.write({
          time: new Date(exchange.startedAt),
          responder: options.responder,
          responderUrl: options.responderUrl,
          clientAddress: exchange.clientAddress,
          // SPEC step 9's requestor: the signer, else the TLS client (kept for summaries and old readers).
          requestor: signerSubject ?? tlsSubject,
          tlsSubject,
          signerSubject,
          authorizedBy: exchange.authorizedBy,
          outcome: exchange.error?.status ?? (exchange.response === undefined ? "internalError" : "successful"),
          source: exchange.error === undefined ? exchange.source : undefined,
          singleRequests: options.perRequest ? certificates.length : undefined,
          certificates: options.perCert ? certificates : undefined,
        });
      } catch (error) {
        throw new TryLaterError("the billing record could not be made durable", { cause: error });
      }
    },
  };
}

function billedCertificates(exchange: Exchange, options: BillingOptions): BilledCertificate[] {
  const requests = exchange.request?.requests;
  const served = exchange.servedIssuers;
  const answers = exchange.error === undefined ? exchange.answers : undefined;
  if (requests === undefined || answers === undefined) return [];
  const billed: BilledCertificate[] = [];
  for (let index = 0; index < requests.length; index++) {
    const status = answers[index]!.status.kind;
    if (status === "unknown" && !options.countUnknown) continue;
    const certId = requests[index]!.certId;
    billed.push({
      issuerKeyHash: certId.issuerKeyHash.toString("hex"),
      issuer: served?.[index]?.name,
      serial: serialText(certId.serialNumber),
      status,
    });
  }
  return billed;
}

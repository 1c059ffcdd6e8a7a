import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { Logger } from "../observability/logger.ts";
import type { AuthenticatedCertificate } from "../pipeline/exchange.ts";
import type { CertificateCache } from "../trust/certificate-cache.ts";
import type { CertificateValidator } from "../trust/certificate-validator.ts";
import { distinguishedName } from "../trust/distinguished-name.ts";

/** A client the listener must disconnect without answering. */
export const REFUSED: unique symbol = Symbol("refused");

export interface ClientAuthOptions {
  readonly mode: "optional" | "required";
  readonly validator: CertificateValidator;
  readonly cache: CertificateCache;
  readonly logger: Logger;
}

const NEVER_ABORTED = new AbortController().signal;

/** Most certificates taken from a client's chain (its own excluded): a hostile chain adds no more. */
const MAX_SENT_INTERMEDIATES = 8;

/** Logs a refused client as SPEC step 1's outcome, naming the failed check (`reason`). */
export function logRefusedClient(logger: Logger, client: string | undefined, reason: string, fields: Record<string, unknown> = {}): void {
  logger.info({ step: "tls-client-auth", result: "refused", client, reason, ...fields }, "TLS client refused");
}

/**
 * SPEC step 1, once the handshake is over: authenticates the client certificate of a TLS connection
 * with the validation process (not only OpenSSL's chain check; OpenSSL is told to accept any
 * certificate so that the decision is ours). Resolves with the authenticated certificate, `undefined`
 * for a client without one in optional mode, or REFUSED (logged; the caller closes the connection).
 * (In required mode OpenSSL itself ends the handshake of a client without a certificate.)
 * Intermediates the client sent go into the certificate cache, where path building finds them.
 */
export async function authenticateTlsClient(socket: TLSSocket, options: ClientAuthOptions): Promise<AuthenticatedCertificate | undefined | typeof REFUSED> {
  const refuse = (reason: string, fields?: Record<string, unknown>): typeof REFUSED => {
    logRefusedClient(options.logger, socket.remoteAddress, reason, fields);
    return REFUSED;
  };
  // One call gives the certificate and, through issuerCertificate, the chain the client sent. Not
  // getPeerCertificate(true) after it: Node then returns the certificate without its chain, which is
  // how the intermediates clients sent never reached the cache (issue 12).
  const peer = socket.getPeerX509Certificate();
  if (peer === undefined) {
    return options.mode === "required" ? refuse("no client certificate") : undefined;
  }
  const certificate = Buffer.from(peer.raw);
  for (const intermediate of sentIntermediates(peer)) options.cache.add(intermediate);
  let result;
  try {
    result = await options.validator.authenticate(certificate, "tls-client-auth", NEVER_ABORTED);
  } catch (error) {
    return refuse("the certificate's status cannot be checked now", { err: error });
  }
  if (!result.ok) return refuse(result.failed, { detail: result.detail, subject: peer.subject.replaceAll("\n", ", ") });
  const subjectDer = certificateFields(certificate).subjectDer;
  return { via: "tls", certificate, subjectDer, subject: distinguishedName(subjectDer) };
}

/**
 * The certificates the client sent after its own, as Node linked them by issuer. Untrusted: they
 * only help the validation process build a path to a configured trust anchor.
 */
function sentIntermediates(leaf: X509Certificate): Buffer[] {
  const found: Buffer[] = [];
  let current = leaf.issuerCertificate;
  // The chain is circular at a self-signed root; the bound stops a hostile chain too.
  while (current !== undefined && found.length < MAX_SENT_INTERMEDIATES) {
    const der = Buffer.from(current.raw);
    if (der.equals(leaf.raw) || found.some((known) => known.equals(der))) break;
    found.push(der);
    current = current.issuerCertificate;
  }
  return found;
}

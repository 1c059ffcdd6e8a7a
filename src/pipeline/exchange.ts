import type { AuthorizedBy } from "../billing/billing-sink.ts";
import type { OcspErrorStatus } from "../errors.ts";
import type { ServedIssuer } from "../issuers/issuer-directory.ts";
import type { OcspRequest, SingleResponse } from "../ocsp/types.ts";
import type { VerifiedProofs } from "../responses/verified-proofs.ts";
import type { ResponderIdentity } from "../signing/responder-identity.ts";

/** Where an answer came from (SPEC step 9 "source"). */
export type AnswerSource = "cache" | "forward" | "local";

/** How long HTTP caches may keep a response (SPEC §5), and its ETag. */
export interface CacheWindow {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** responses/response-etag.ts, computed once where the response was made or stored. */
  readonly etag: string;
}

/** A signed, complete OCSPResponse and what HTTP caching may say about it (SPEC §5). */
export interface SignedResponse {
  readonly body: Buffer;
  /** Its producedAt (what orders two responses with one thisUpdate in the response cache). */
  readonly producedAt: Date;
  /**
   * Present when the response may be cached by HTTP caches (no nonce, every answer authoritative):
   * its validity and its ETag (responses/response-etag.ts), computed once where the response was made
   * or stored, so that a reply never hashes the body again.
   */
  readonly cacheWindow: CacheWindow | undefined;
  /**
   * Signed by a signer the request's preferred-signature-algorithms chose over the issuer's default
   * (an ML-DSA signer, say): fine for HTTP caches (the request, hence a GET URL, differs), never for
   * the response cache, which answers every client by CertID.
   */
  readonly forThisClient?: true;
}

/** A certificate that the validation process authenticated for this request (SPEC steps 1 and 3). */
export interface AuthenticatedCertificate {
  readonly via: "tls" | "signature";
  readonly certificate: Buffer;
  /** Its subject Name DER (for byname authorization). */
  readonly subjectDer: Buffer;
  /** Its subject as an RFC 4514 string (for billing and logs). */
  readonly subject: string;
}

/**
 * What goes back for an exchange, as step 10 decided it: the OCSPResponse and what HTTP caching may
 * do with it (SPEC §5). Plain data: http/ocsp-reply.ts alone turns it into status, headers and bytes.
 */
export interface OcspReply {
  /** The OCSPResponse DER: a signed response, or the precomputed unsigned one of an error status. */
  readonly body: Buffer;
  /** Present when HTTP caches may keep it: its validity and ETag (the response's cache window). */
  readonly cache: CacheWindow | undefined;
  /** When step 10 ran (ms since the epoch): what max-age counts from; 0 without a cache window. */
  readonly at: number;
  /** A GET whose If-None-Match names the ETag: answered 304 Not Modified, without the body. */
  readonly notModified: boolean;
  /**
   * The same bytes go out again and again (an error status, a cache hit, a reused answer): HTTP may
   * format their cache headers and encode their head once a second and reuse them. False for a
   * response made for this request alone. (A no-cache head depends on the body length only: HTTP
   * shares it by length either way.)
   */
  readonly reuseHead: boolean;
}

/**
 * The per-request record that the pipeline steps read and write. Created by the HTTP layer with the
 * received bytes; `request` and `servedIssuers` are set once the bytes decode; deciding steps set `answers` and `response`
 * (or the pipeline sets `error`); finishing steps read everything and set `reply`.
 */
export interface Exchange {
  readonly received: Buffer;
  readonly method: "GET" | "POST";
  readonly clientAddress: string;
  /** The client's If-None-Match header (RFC 5019 §6.2), when sent. */
  readonly ifNoneMatch: string | undefined;
  readonly signal: AbortSignal;
  /** Milliseconds since the epoch at which the exchange began (the pipeline's clock). */
  readonly startedAt: number;
  /** The TLS client certificate, already authenticated during the handshake (SPEC step 1), if any. */
  readonly tlsClient: AuthenticatedCertificate | undefined;
  /** Certificates authenticated so far by steps 1 and 3, in that order. */
  authenticated: AuthenticatedCertificate[];
  /** Set by step 4 when it grants; undefined without authorization or when it refused. */
  authorizedBy: AuthorizedBy | undefined;
  request: OcspRequest | undefined;
  /**
   * The served issuer of each single request of `request`, in request order (`undefined`: this
   * responder does not serve that CertID's issuer). Set with `request`, right after decoding, so that
   * no step looks an issuer up again (decode.ts servedIssuersOf).
   */
  servedIssuers: readonly (ServedIssuer | undefined)[] | undefined;
  /**
   * The statuses from this request's verified freshness proofs (SPEC step 2), when it carried some;
   * only step 3 reads them, to authenticate this request's signer. Never shared with another request.
   */
  freshnessProofs: VerifiedProofs | undefined;
  /** One per single request, in request order, once local validation (or a later source) has run. */
  answers: SingleResponse[] | undefined;
  /** True when some answer is `unknown` for an issuer this responder does not serve. */
  nonAuthoritative: boolean;
  /** True when a non-issued certificate is answered `revoked` (RFC 6960 §2.2 extended revoke). */
  extendedRevoke: boolean;
  /** Who signs: the issuer of the first served single request, else the responder's first issuer. */
  identity: ResponderIdentity | undefined;
  response: SignedResponse | undefined;
  source: AnswerSource | undefined;
  error: { readonly status: OcspErrorStatus; readonly cause: unknown } | undefined;
  reply: OcspReply | undefined;
}

/** What the HTTP layer knows when a request arrives. */
export type ExchangeInit = Pick<Exchange, "received" | "method" | "ifNoneMatch" | "signal" | "startedAt"> &
  Partial<Pick<Exchange, "tlsClient">> & {
    /**
     * The client's address, or how to learn it: a socket's remoteAddress is a getpeername() system
     * call and an object, paid again for every connection, which most exchanges never read (only logs
     * and billing do); a function is called at the first read, at most once.
     */
    readonly clientAddress: string | (() => string);
  };

export function createExchange(init: ExchangeInit): Exchange {
  return new ExchangeRecord(init);
}

/**
 * An exchange as a class, not an object literal: the client's address is a getter on the prototype,
 * so every exchange still has one shape and is made as cheaply (a getter in a literal made
 * createExchange several µs slower per request, --cpu-prof).
 */
class ExchangeRecord implements Exchange {
  readonly received: Buffer;
  readonly method: "GET" | "POST";
  readonly ifNoneMatch: string | undefined;
  readonly signal: AbortSignal;
  readonly startedAt: number;
  readonly tlsClient: AuthenticatedCertificate | undefined;
  authenticated: AuthenticatedCertificate[] = [];
  authorizedBy: AuthorizedBy | undefined = undefined;
  request: OcspRequest | undefined = undefined;
  servedIssuers: readonly (ServedIssuer | undefined)[] | undefined = undefined;
  freshnessProofs: VerifiedProofs | undefined = undefined;
  answers: SingleResponse[] | undefined = undefined;
  nonAuthoritative = false;
  extendedRevoke = false;
  identity: ResponderIdentity | undefined = undefined;
  response: SignedResponse | undefined = undefined;
  source: AnswerSource | undefined = undefined;
  error: { readonly status: OcspErrorStatus; readonly cause: unknown } | undefined = undefined;
  reply: OcspReply | undefined = undefined;
  #clientAddress: string | (() => string);

  constructor(init: ExchangeInit) {
    this.received = init.received;
    this.method = init.method;
    this.#clientAddress = init.clientAddress;
    this.ifNoneMatch = init.ifNoneMatch;
    this.signal = init.signal;
    this.startedAt = init.startedAt;
    this.tlsClient = init.tlsClient;
  }

  get clientAddress(): string {
    const address = this.#clientAddress;
    if (typeof address === "string") return address;
    return (this.#clientAddress = address());
  }
}

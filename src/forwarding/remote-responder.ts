import { BadResponseError } from "../errors.ts";
import { decodeOcspResponse, type DecodedOcspResponse } from "../ocsp/decode-response.ts";
import type { CircuitBreakers } from "./circuit-breaker.ts";
import type { HttpPoster, PostFailure } from "./http-post.ts";

/** Options of `remoteResponder`. */
export interface RemoteResponderOptions {
  readonly poster: HttpPoster;
  readonly breakers: CircuitBreakers;
  /** Deadline of each attempt (connect, send, whole answer), in milliseconds. */
  readonly timeoutMs: number;
  /** Further attempts after a failed one (transport failure or an answer that does not decode). */
  readonly retries: number;
  /** Largest answer accepted, in octets. */
  readonly maxResponseBytes: number;
}

/** Why a remote gave nothing usable. */
export type RemoteFailure = PostFailure | "circuit-open" | "garbage";

/** What a remote responder said: a decoded OCSPResponse (whatever its status), or why there is none. */
export type RemoteAnswer =
  | { readonly ok: true; readonly response: DecodedOcspResponse; readonly attempts: number }
  | { readonly ok: false; readonly failure: RemoteFailure; readonly detail: string; readonly attempts: number };

/** The back-end client of SPEC step 6. */
export interface RemoteResponder {
  /**
   * Sends `request` (the OCSPRequest DER exactly as the client sent it) to `url` and decodes the
   * answer, with a deadline per attempt, bounded retries and the URL's circuit breaker. Never rejects.
   */
  ask(url: URL, request: Buffer, signal: AbortSignal): Promise<RemoteAnswer>;
}

/**
 * The back-end client. The circuit counts as failures what says the remote is unwell: no answer in
 * time, a refused connection, an HTTP error, an answer that is not an OCSPResponse, and the OCSP
 * statuses `tryLater` and `internalError`. A remote that answers `unauthorized`, `malformedRequest`
 * or `sigRequired` is healthy (it just will not answer this request), and so is one whose signed
 * answer the caller later refuses. Retries go out only for failures that another attempt may cure
 * (transport and garbage), and never through an open circuit.
 */
export function remoteResponder(options: RemoteResponderOptions): RemoteResponder {
  const { poster, breakers, timeoutMs, retries, maxResponseBytes } = options;
  return {
    async ask(url, request, signal) {
      const key = url.href;
      let failure: RemoteFailure = "circuit-open";
      let detail = "the circuit breaker is open";
      let attempts = 0;
      while (attempts <= retries) {
        if (!breakers.admit(key)) break;
        attempts++;
        const posted = await poster.post(url, request, { timeoutMs, maxResponseBytes, signal });
        if (!posted.ok) {
          failure = posted.failure;
          detail = posted.detail;
          if (posted.failure === "aborted") {
            // The client is gone: the remote is not to blame, but a half-open trial slot must be freed.
            breakers.release(key);
            break;
          }
          breakers.failure(key);
          continue;
        }
        let response: DecodedOcspResponse;
        try {
          response = decodeOcspResponse(posted.body);
        } catch (error) {
          if (!(error instanceof BadResponseError)) throw error;
          failure = "garbage";
          detail = error.message;
          breakers.failure(key);
          continue;
        }
        if (response.status === "tryLater" || response.status === "internalError") breakers.failure(key);
        else breakers.success(key);
        return { ok: true, response, attempts };
      }
      return { ok: false, failure, detail, attempts };
    },
  };
}

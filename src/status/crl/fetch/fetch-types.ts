/** What a fetch of a CRL from where its CA publishes it is given and gives back, whatever the protocol. */

/** What the last answer said about its version, sent back so an unchanged CRL is not sent again (HTTP). */
export interface Validators {
  readonly etag?: string | undefined;
  readonly lastModified?: string | undefined;
}

/** Bounds of one fetch. */
export interface FetchLimits {
  /** The whole fetch, connection to last byte (ms). */
  readonly timeoutMs: number;
  /** The largest CRL accepted (bytes). */
  readonly maxBytes: number;
  /** CA certificates (PEM) that https:// and ldaps:// servers must chain to, instead of the system's. */
  readonly ca?: Buffer | undefined;
}

/** What one fetch found: the CRL is unchanged, or its bytes are in the file the fetch was given. */
export type FetchOutcome =
  | { readonly kind: "not-modified" }
  | { readonly kind: "fetched"; readonly sha256: string; readonly validators: Validators };

/**
 * A fetch that did not bring a CRL (the network, the server's answer, a limit): the CRL held keeps
 * answering and the fetch is retried, unlike a CRL that came and failed a check ("refused").
 */
export class FetchError extends Error {
  override readonly name = "FetchError";
}

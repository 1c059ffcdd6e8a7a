/**
 * The closed error family. Every error on the request path maps to one OCSP
 * error status (RFC 6960 §4.2.1); only step 10 (`pipeline/steps/10-send.ts`) turns one into its
 * unsigned OCSPResponse. Anything that is not an OcspError becomes `internalError` in the pipeline,
 * and is logged.
 */
export type OcspErrorStatus = "malformedRequest" | "internalError" | "tryLater" | "sigRequired" | "unauthorized";

/** OCSPResponseStatus values (RFC 6960 §4.2.1); 4 is not used. */
export const OCSP_RESPONSE_STATUS_CODES: Readonly<Record<OcspErrorStatus | "successful", number>> = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
};

export const OCSP_ERROR_STATUSES: readonly OcspErrorStatus[] = [
  "malformedRequest",
  "internalError",
  "tryLater",
  "sigRequired",
  "unauthorized",
];

export class OcspError extends Error {
  readonly status: OcspErrorStatus;
  constructor(status: OcspErrorStatus, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/** Not an OCSP request, trailing bytes, an empty request list, a bad nonce, an unknown critical extension. */
export class MalformedRequestError extends OcspError {
  override readonly name = "MalformedRequestError";
  constructor(message: string, options?: ErrorOptions) {
    super("malformedRequest", message, options);
  }
}

/** A fault inside Vouch (a signing failure, a bug). */
export class InternalError extends OcspError {
  override readonly name = "InternalError";
  constructor(message: string, options?: ErrorOptions) {
    super("internalError", message, options);
  }
}

/** Temporarily unable to answer: stale data, overload, a remote responder down. */
export class TryLaterError extends OcspError {
  override readonly name = "TryLaterError";
  constructor(message: string, options?: ErrorOptions) {
    super("tryLater", message, options);
  }
}

/**
 * An OCSP response from elsewhere (a remote responder, a freshness proof) that is not well-formed DER
 * of the RFC 6960 §4.2.1 shape. Maps to tryLater: Vouch cannot answer from it now.
 */
export class BadResponseError extends OcspError {
  override readonly name = "BadResponseError";
  constructor(message: string, options?: ErrorOptions) {
    super("tryLater", message, options);
  }
}

/** The responder requires signed requests and this one is not signed. */
export class SigRequiredError extends OcspError {
  override readonly name = "SigRequiredError";
  constructor(message: string, options?: ErrorOptions) {
    super("sigRequired", message, options);
  }
}

/** The client is not authorized, or no authoritative answer is possible. */
export class UnauthorizedError extends OcspError {
  override readonly name = "UnauthorizedError";
  constructor(message: string, options?: ErrorOptions) {
    super("unauthorized", message, options);
  }
}

/**
 * A user error in configuration or input files, found at start-up or reload.
 * `field` is the dotted path of the offending setting (`responders[0].issuers[1].signer.key`).
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly field: string;
  readonly file: string | undefined;
  constructor(field: string, message: string, options?: ErrorOptions & { file?: string }) {
    super(message, options);
    this.field = field;
    this.file = options?.file;
  }

  /** The same error with its field placed under `parent` (a component's option inside the configuration). */
  within(parent: string): ConfigError {
    return new ConfigError(this.field === "" ? parent : `${parent}.${this.field}`, this.message, { cause: this.cause, file: this.file });
  }

  /** "vouch.yaml: responders[0].port: must be an integer" */
  describe(): string {
    const where = [this.file, this.field].filter((part) => part !== undefined && part !== "").join(": ");
    return where === "" ? this.message : `${where}: ${this.message}`;
  }
}

/** Exhaustiveness check for switches over discriminated unions. */
export function assertNever(value: never): never {
  throw new InternalError(`unexpected value ${JSON.stringify(value)}`);
}

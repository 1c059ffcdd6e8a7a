import { X509Certificate, randomBytes, verify, type KeyObject } from "node:crypto";
import type { Clock } from "../clock.ts";
import { ConfigError, InternalError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { PinSource } from "./pkcs11/pin-source.ts";
import { loadPkcs11Module, pkcs11Binding, type Pkcs11Module } from "./pkcs11/pkcs11-module.ts";
import { closeQuietly, connectToken, TokenProblem, type TokenConnection, type TokenKeyLocation } from "./pkcs11/token-connection.ts";
import { tokenKeyProfile, tokenMechanism, type TokenMechanism } from "./pkcs11/token-mechanisms.ts";
import type { KnownSignatureAlgorithm } from "./signature-algorithms.ts";
import type { SignatureAlgorithm, Signer } from "./signer.ts";

export interface Pkcs11SignerOptions {
  /** Path of the PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  readonly module: string;
  /** Token label. */
  readonly token: string;
  /** Optional position among the slots holding a token, when several tokens share the label. */
  readonly slot?: number;
  /** CKA_LABEL and/or CKA_ID of the private key; at least one. */
  readonly keyLabel?: string;
  readonly keyId?: Buffer;
  readonly pin: PinSource;
  /** The certificate that goes with the key (the CA's or a delegated responder's), DER. */
  readonly certificate: Buffer;
  /** RSA keys: which padding is the default. */
  readonly rsaPadding: "pkcs1" | "pss";
  /** Most sessions open on the token, i.e. signatures at once; more wait for a session. */
  readonly sessions: number;
  /** After a failed reconnection, requests fail at once for this long before the next attempt. */
  readonly retryIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Field path of the `pkcs11` setting, for errors. */
  readonly field: string;
}

/** A Signer whose key stays on a PKCS#11 token. */
export interface Pkcs11Signer extends Signer {
  /** Closes this signer's sessions. The library stays loaded (other signers, other threads may use it). */
  close(): void;
}

type Handle = Buffer;

/**
 * A signer whose private key is on a PKCS#11 token. At start-up it loads the library, finds the
 * token by label, logs in, finds the key and makes a test signature with every algorithm it offers,
 * verified against the certificate; it throws ConfigError naming the setting at fault (`module`,
 * `token`, `slot`, `pin.file`, `pin.env`, `pin`, `key`) when any step fails or the key does not
 * belong to the certificate.
 *
 * Signing hashes in Node and runs C_Sign on libuv's thread pool (pkcs11js C_SignAsync), on up to
 * `sessions` sessions at once. A failing signature marks the connection broken and reconnects
 * (session, login, key), re-initialising the library when that is not enough, as SoftHSM needs to
 * see a token that came back; the request is signed once more on the new connection, and rejects
 * with InternalError when that fails too. While reconnection keeps failing, requests are refused at
 * once with InternalError and a new attempt is made every `retryIntervalMs`; `sign` therefore also
 * serves as the readiness test signature.
 */
export async function pkcs11Signer(options: Pkcs11SignerOptions): Promise<Pkcs11Signer> {
  const publicKey = new X509Certificate(options.certificate).publicKey;
  const profile = tokenKeyProfile(publicKey, options.rsaPadding, `${options.field}.key`);
  let module: Pkcs11Module;
  try {
    module = loadPkcs11Module(options.module);
  } catch (error) {
    // A Pkcs11Error comes from C_Initialize (the library loaded); anything else from loading it.
    const what = error instanceof pkcs11Binding().Pkcs11Error ? "the PKCS#11 library failed to initialise" : "cannot load the PKCS#11 library";
    throw new ConfigError(`${options.field}.module`, `${options.module}: ${what} (${describe(error)})`, { cause: error });
  }
  const location: TokenKeyLocation = {
    token: options.token,
    slot: options.slot,
    keyLabel: options.keyLabel,
    keyId: options.keyId,
    pin: options.pin,
    keyType: profile.keyType,
  };
  const token = tokenState(module, location, options, profile.signatureLength);
  try {
    await token.connectNow();
  } catch (error) {
    throw asConfigError(error, options);
  }
  const algorithms: KnownSignatureAlgorithm[] = [];
  try {
    for (const [index, algorithm] of profile.algorithms.entries()) {
      const works = await testSignature(token, algorithm, index === 0, publicKey, options);
      // Only the default must work; a token without, say, CKM_RSA_PKCS_PSS just offers fewer algorithms.
      if (works) algorithms.push(algorithm);
    }
  } catch (error) {
    token.close();
    throw error;
  }
  return {
    certificate: options.certificate,
    algorithms,
    sign: token.sign,
    close: token.close,
  };
}

/** Signs a random challenge and verifies it with the certificate. False when a non-default algorithm cannot sign; throws ConfigError otherwise. */
async function testSignature(token: TokenState, algorithm: KnownSignatureAlgorithm, isDefault: boolean, publicKey: KeyObject, options: Pkcs11SignerOptions): Promise<boolean> {
  const challenge = randomBytes(32);
  let signature: Buffer;
  try {
    signature = await token.sign(challenge, algorithm);
  } catch (error) {
    if (!isDefault) return false;
    throw new ConfigError(`${options.field}.key`, `a test signature with ${algorithm.name} failed: ${describe(error)}`, { cause: error });
  }
  const { digest, padding, saltLength } = algorithm.recipe;
  if (!verify(digest, challenge, padding === undefined ? publicKey : { key: publicKey, padding, saltLength }, signature)) {
    throw new ConfigError(`${options.field}.key`, `the key on token "${options.token}" does not belong to the signer certificate (a test signature with ${algorithm.name} did not verify)`);
  }
  return true;
}

function asConfigError(error: unknown, options: Pkcs11SignerOptions): ConfigError {
  if (error instanceof ConfigError) return error;
  if (error instanceof TokenProblem) return new ConfigError(`${options.field}.${error.field}`, error.message, { cause: error });
  return new ConfigError(`${options.field}.token`, `token "${options.token}": ${describe(error)}`, { cause: error });
}

/** "CKR_PIN_INCORRECT", or the message of anything else. */
function describe(error: unknown): string {
  if (error instanceof Error) return (error.cause instanceof Error && error instanceof InternalError ? error.cause : error).message.split("\n")[0]!;
  return String(error);
}

/** A signature failed because the connection to the token failed under it (internal: `sign` retries once). */
class ConnectionLostError extends InternalError {}

interface TokenState {
  connectNow(): Promise<TokenConnection>;
  sign(tbs: Buffer, algorithm: SignatureAlgorithm): Promise<Buffer>;
  close(): void;
}

interface Waiter {
  resolve(session: Handle): void;
  reject(error: Error): void;
}

/** The connection to the token, its sessions, and the reconnection policy. */
function tokenState(module: Pkcs11Module, location: TokenKeyLocation, options: Pkcs11SignerOptions, signatureLength: number): TokenState {
  const pkcs11 = pkcs11Binding();
  const mechanisms = new Map<SignatureAlgorithm, TokenMechanism>();
  const rejectedPin = { value: undefined as string | undefined };
  const waiters: Waiter[] = [];
  let current: TokenConnection | undefined;
  let connecting: Promise<TokenConnection> | undefined;
  let lastFailure: { at: number; message: string } | undefined;
  let closed = false;
  const logger = options.logger.child({ token: location.token });

  const connectNow = async (): Promise<TokenConnection> => {
    const seenGeneration = module.generation;
    let connection: TokenConnection;
    try {
      connection = await connectToken(module, location, rejectedPin);
    } catch (error) {
      // A wrong PIN stays wrong, and trying it again can lock the token; anything else may be a
      // library that has not seen the token come back: finalise, initialise, and try once more.
      if (error instanceof TokenProblem && error.field.startsWith("pin")) throw error;
      if (!module.reinitialize(seenGeneration)) throw error;
      connection = await connectToken(module, location, rejectedPin);
    }
    current = connection;
    return connection;
  };

  const connection = (): Promise<TokenConnection> => {
    if (closed) return Promise.reject(new InternalError(`the PKCS#11 signer for token "${location.token}" is closed`));
    if (current !== undefined && !current.broken && current.generation === module.generation) return Promise.resolve(current);
    if (current !== undefined) breakConnection(current, "the library was re-initialised");
    if (connecting !== undefined) return connecting;
    if (lastFailure !== undefined && options.clock.now() - lastFailure.at < options.retryIntervalMs) {
      return Promise.reject(new InternalError(`PKCS#11 token "${location.token}" is unavailable (${lastFailure.message}); retrying every ${options.retryIntervalMs} ms`));
    }
    connecting = connectNow()
      .then(
        (connected) => {
          // The first connection is made at start-up (connectNow); every one made here replaces a broken one.
          logger.info({}, "PKCS#11 token reconnected");
          lastFailure = undefined;
          return connected;
        },
        (error: unknown) => {
          lastFailure = { at: options.clock.now(), message: describe(error) };
          logger.warn({ err: error }, "PKCS#11 token reconnection failed");
          throw new InternalError(`PKCS#11 token "${location.token}" is unavailable (${lastFailure.message})`, { cause: error });
        },
      )
      .finally(() => {
        connecting = undefined;
      });
    return connecting;
  };

  const breakConnection = (broken: TokenConnection, reason: string) => {
    if (broken.broken) return;
    broken.broken = true;
    for (const session of broken.idle.splice(0)) {
      closeQuietly(module, session);
      broken.open--;
    }
    if (current === broken) current = undefined;
    const error = new InternalError(`PKCS#11 token "${location.token}": ${reason}`);
    for (const waiter of waiters.splice(0)) waiter.reject(error);
    if (!closed) logger.warn({ reason }, "PKCS#11 token error; reconnecting");
  };

  const acquire = (connected: TokenConnection): Handle | Promise<Handle> => {
    if (connected.broken) throw new InternalError(`PKCS#11 token "${location.token}": the connection failed while this request waited`);
    const idle = connected.idle.pop();
    if (idle !== undefined) return idle;
    if (connected.open < options.sessions) {
      const session = module.api.C_OpenSession(connected.slot, pkcs11.CKF_SERIAL_SESSION);
      connected.open++;
      return session;
    }
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  };

  const release = (connected: TokenConnection, session: Handle) => {
    if (connected.broken || closed) {
      closeQuietly(module, session);
      connected.open--;
      return;
    }
    const waiter = waiters.shift();
    if (waiter !== undefined) waiter.resolve(session);
    else connected.idle.push(session);
  };

  /** One attempt on `connected`; ConnectionLostError when the connection failed under it. */
  const signOn = async (connected: TokenConnection, tbs: Buffer, algorithm: SignatureAlgorithm, mechanism: TokenMechanism): Promise<Buffer> => {
    let session: Handle;
    try {
      session = await acquire(connected);
    } catch (error) {
      if (!(error instanceof InternalError)) breakConnection(connected, describe(error));
      throw new ConnectionLostError(`PKCS#11 token "${location.token}": cannot get a session (${describe(error)})`, { cause: error });
    }
    module.inFlight++;
    try {
      module.api.C_SignInit(session, mechanism.mechanism, connected.key);
      const raw = await module.api.C_SignAsync(session, mechanism.input(tbs), Buffer.allocUnsafe(signatureLength));
      return mechanism.output(raw);
    } catch (error) {
      // SoftHSM answers CKR_GENERAL_ERROR even for a refused mechanism parameter, so no CKR_* code is
      // trusted to mean "the connection is fine": every failure reconnects.
      breakConnection(connected, describe(error));
      throw new ConnectionLostError(`PKCS#11 token "${location.token}": signing with ${algorithm.name} failed (${describe(error)})`, { cause: error });
    } finally {
      module.inFlight--;
      release(connected, session);
    }
  };

  const sign = async (tbs: Buffer, algorithm: SignatureAlgorithm): Promise<Buffer> => {
    let mechanism = mechanisms.get(algorithm);
    if (mechanism === undefined) {
      mechanism = tokenMechanism(algorithm as KnownSignatureAlgorithm, pkcs11);
      mechanisms.set(algorithm, mechanism);
    }
    try {
      return await signOn(await connection(), tbs, algorithm, mechanism);
    } catch (error) {
      if (!(error instanceof ConnectionLostError) || closed) throw error;
      // The connection failed under this request: a handle gone stale (the token was re-read), a
      // token pulled out and maybe back. One more try on a new connection decides; if the token is
      // really gone, reconnecting fails and this request gets internalError.
      return signOn(await connection(), tbs, algorithm, mechanism);
    }
  };

  const close = () => {
    closed = true;
    if (current !== undefined) breakConnection(current, "the signer was closed");
  };

  return { connectNow, sign, close };
}

/**
 * Automatic renewal of a directory's signers (`signer.renew`, issue 15): `before` the newest
 * signer's notAfter (but not before half its validity has passed), make the next key (the newest signer's algorithm) and a certificate request
 * (its subject, the delegated responder profile), run the configured command with the request (PEM)
 * on standard input, take the issued certificate (PEM) from its standard output, check it as at
 * start-up (the CA's, the new key's, id-kp-OCSPSigning, valid past the newest signer), and install
 * NAME.key then NAME.pem in the directory, where the rollover (signer-selection.ts) takes it up.
 * A failure removes what the attempt wrote, is logged and counted, shows in readiness, and is
 * tried again after `retryInterval`, doubling up to `maxRetryInterval`.
 */
import { X509Certificate, createPublicKey } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../observability/logger.ts";
import { nextSignerSubject, requestPem } from "../certification-request.ts";
import { generateSignerKey, keyAlgorithmOf, keyCertificationRequest, writeKeyFile } from "../new-signer-key.ts";
import { readPin, type PinSource } from "../pkcs11/pin-source.ts";
import type { SignerIdentity } from "../responder-identity.ts";
import { runRenewalCommand } from "./renewal-command.ts";
import { tryLock } from "./renewal-lock.ts";

/** Waits are re-evaluated at least this often: the directory's signers may change meanwhile. */
const MAX_WAIT_MS = 3_600_000;

export interface SignerRenewalOptions {
  readonly directory: string;
  readonly beforeMs: number;
  readonly command: readonly string[];
  readonly timeoutMs: number;
  readonly retryIntervalMs: number;
  readonly maxRetryIntervalMs: number;
  /** The directory's key passphrase: new keys are encrypted with it. */
  readonly passphrase?: PinSource | undefined;
  readonly rsaPadding: "pkcs1" | "pss";
  readonly issuerCertificate: Buffer;
  /** The directory's signers now. */
  readonly signers: () => readonly SignerIdentity[];
  /** Reads the directory again (what another process or this renewal installed). */
  readonly refresh: () => Promise<void>;
  /** Checks a certificate and key file as at start-up; rejects with the reason. */
  readonly check: (certificateFile: string, keyFile: string) => Promise<SignerIdentity>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly count: (result: "renewed" | "failed") => void;
}

export interface SignerRenewal {
  /** What an operator should know before it becomes an outage (failures so far), for readiness warnings. */
  warnings(): string[];
  /** Looks again at when to renew (the directory's signers changed). */
  reschedule(): void;
  /** Stops, waiting for an attempt in progress. */
  close(): Promise<void>;
}

export function startSignerRenewal(options: SignerRenewalOptions): SignerRenewal {
  const { clock, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  let failures = 0;
  let firstFailureAt = 0;
  let lastReason = "";
  let retryAt = 0;

  const newest = () => options.signers().reduce<SignerIdentity | undefined>((latest, identity) => (latest === undefined || identity.notAfter > latest.notAfter ? identity : latest), undefined);
  // Never before half the newest signer's validity has passed: a CA that issues certificates
  // shorter than `before` must not make every renewal due again at once.
  const dueAt = () => {
    const latest = newest();
    if (latest === undefined) return retryAt;
    return Math.max(latest.notAfter - options.beforeMs, latest.notBefore + (latest.notAfter - latest.notBefore) / 2, retryAt);
  };

  const schedule = () => {
    clearTimeout(timer);
    if (closed) return;
    const wait = Math.min(Math.max(dueAt() - clock.now(), 0), MAX_WAIT_MS);
    timer = setTimeout(() => {
      if (running === undefined) running = attemptIfDue().finally(() => (running = undefined));
    }, wait);
    timer.unref();
  };

  const attemptIfDue = async (): Promise<void> => {
    const now = clock.now();
    if (closed || dueAt() > now) return schedule();
    const release = await tryLock(join(options.directory, ".renewal.lock"), options.timeoutMs * 2 + 60_000, now).catch((error: unknown) => {
      logger.warn({ directory: options.directory, err: describe(error) }, "cannot take the signer renewal lock");
      return undefined;
    });
    if (release === undefined) {
      // Another process renews (or cannot write here): look again later, without counting a failure.
      retryAt = now + options.retryIntervalMs;
      return schedule();
    }
    try {
      await options.refresh();
      if (dueAt() <= clock.now()) await renewOnce();
    } finally {
      await release();
      schedule();
    }
  };

  const renewOnce = async (): Promise<void> => {
    const template = newest();
    const name = `signer-${new Date(clock.now()).toISOString().replace(/[-:]|\.\d+/g, "")}`;
    const hiddenKey = join(options.directory, `.${name}.key`);
    const hiddenCertificate = join(options.directory, `.${name}.pem`);
    try {
      if (template === undefined) throw new Error("the directory holds no signer whose subject and key algorithm the next one could take");
      const certificate = new X509Certificate(template.signer.certificate);
      const algorithm = keyAlgorithmOf(certificate.publicKey);
      if (algorithm === undefined) throw new Error(`cannot make a new key like the signer's (${certificate.publicKey.asymmetricKeyType ?? "unknown"})`);
      const key = await generateSignerKey(algorithm);
      const passphrase = options.passphrase === undefined ? undefined : await readPin(options.passphrase, "passphrase");
      await writeKeyFile(key, hiddenKey, passphrase);
      const request = requestPem(await keyCertificationRequest(key, nextSignerSubject(template.signer.certificate, options.issuerCertificate), options.rsaPadding));
      const { stdout } = await runRenewalCommand(options.command, request, options.timeoutMs, { VOUCH_SIGNER_DIRECTORY: options.directory, VOUCH_SIGNER_NAME: name });
      const issued = certificateFor(stdout, createPublicKey(key).export({ type: "spki", format: "der" }));
      await writeFile(hiddenCertificate, issued, { mode: 0o644 });
      const identity = await options.check(hiddenCertificate, hiddenKey);
      if (identity.notAfter <= template.notAfter) {
        throw new Error(`the issued certificate expires ${new Date(identity.notAfter).toISOString()}, no later than the current signer (${new Date(template.notAfter).toISOString()})`);
      }
      // The key first: a NAME.pem without its NAME.key would be a broken signer for an instant.
      await rename(hiddenKey, join(options.directory, `${name}.key`));
      await writeFile(join(options.directory, `${name}.csr`), request);
      await rename(hiddenCertificate, join(options.directory, `${name}.pem`));
      failures = 0;
      retryAt = 0;
      options.count("renewed");
      logger.info({ directory: options.directory, certificate: `${name}.pem`, serial: identity.serial, notBefore: new Date(identity.notBefore).toISOString(), notAfter: new Date(identity.notAfter).toISOString() }, "signer renewed");
      await options.refresh();
    } catch (error) {
      await rm(hiddenKey, { force: true });
      await rm(hiddenCertificate, { force: true });
      const now = clock.now();
      if (failures === 0) firstFailureAt = now;
      failures++;
      lastReason = describe(error);
      retryAt = now + Math.min(options.retryIntervalMs * 2 ** (failures - 1), options.maxRetryIntervalMs);
      options.count("failed");
      logger.error({ directory: options.directory, failures, retryAt: new Date(retryAt).toISOString(), err: lastReason }, "signer renewal failed");
    }
  };

  schedule();
  return {
    warnings() {
      if (failures === 0) return [];
      const latest = newest();
      const expires = latest === undefined ? "" : `; the newest signer expires ${new Date(latest.notAfter).toISOString()}`;
      return [`signer renewal failing since ${new Date(firstFailureAt).toISOString()} (${failures} attempt(s), next ${new Date(retryAt).toISOString()}): ${lastReason}${expires}`];
    },
    reschedule() {
      if (running === undefined) schedule();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * The PEM certificate in `output` whose key is `spki` (a command may print the chain after it).
 * Throws when there is none.
 */
function certificateFor(output: string, spki: Buffer): string {
  const blocks = output.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  for (const block of blocks) {
    try {
      const certificate = new X509Certificate(block);
      if (certificate.publicKey.export({ type: "spki", format: "der" }).equals(spki)) return `${block}\n`;
    } catch {
      // Not a certificate this process can read: look at the next block.
    }
  }
  throw new Error(blocks.length === 0 ? "the command printed no PEM certificate" : `none of the ${blocks.length} certificate(s) the command printed holds the new key`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

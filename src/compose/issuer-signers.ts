/**
 * Every signer of one served issuer, kept current (issue 15): the blocks of its configuration
 * (signer-block.ts) watched for changed files (signer-watch.ts), the rotation that chooses per
 * response (signer-rotation.ts), the logs at each rollover and expiry, a warning a day from
 * `warnBefore` before a notAfter nothing takes over from, the validity gauges, readiness, and
 * automatic renewal of directory blocks in the one process that renews (startService's `renewSigners`).
 */
import type { SignerConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { SignerReadiness } from "../signing/signer-readiness.ts";
import type { SignerIdentity } from "../signing/responder-identity.ts";
import { startSignerRenewal, type SignerRenewal } from "../signing/renewal/signer-renewal.ts";
import { signerRotation, type SignerRotation } from "../signing/signer-rotation.ts";
import type { SignerSelection } from "../signing/signer-selection.ts";
import type { Signer } from "../signing/signer.ts";
import { loadSigner, secretOf, type SignerContext } from "./build-signer.ts";
import { openSignerBlock, type SignerBlock } from "./signer-block.ts";
import { watchSigners, type SignerWatch } from "./signer-watch.ts";

const DAY_MS = 86_400_000;
/** Expiry warnings are looked at this often (and at every change of the selection). */
const TICK_MS = 3_600_000;

export interface IssuerSigners {
  /** What the request path signs with (ServedIssuer.identity). */
  readonly identity: SignerRotation;
  /** Readiness: the signers valid now to test, and what is wrong or soon will be. */
  readiness(): SignerReadiness;
  close(): Promise<void>;
}

export interface IssuerSignersOptions {
  /** The issuer's signer blocks with the field path of each (`responders[0].issuers[0].signers[1]`). */
  readonly blocks: readonly { readonly config: SignerConfig; readonly field: string }[];
  readonly issuerCertificateFile: string;
  readonly context: SignerContext;
  /** Whether this process runs the automatic renewals (one process of a service does). */
  readonly renew: boolean;
}

/**
 * Loads the issuer's signers and starts watching them. Throws ConfigError naming the field when a
 * signer cannot be loaded, or when every signer has expired (none ever could sign again). A signer
 * not valid yet is accepted: its issuer answers tryLater, and is not ready, until its notBefore.
 */
export async function buildIssuerSigners(options: IssuerSignersOptions): Promise<IssuerSigners> {
  const { context } = options;
  const { clock, metrics } = context;
  const logger = context.logger.child({ issuer: context.issuerName });
  const blocks: SignerBlock[] = [];
  try {
    for (const { config, field } of options.blocks) {
      blocks.push(await openSignerBlock({ config, field, issuerCertificateFile: options.issuerCertificateFile, context: { ...context, logger } }));
    }
    const all = blocks.flatMap((block) => block.loaded.map((loaded) => loaded.identity));
    const field = options.blocks[0]?.field ?? "signer";
    if (all.length === 0) throw new ConfigError(field, "no signer: the directory holds no NAME.pem beside a NAME.key");
    if (all.every((identity) => identity.notAfter < clock.now())) {
      throw new ConfigError(`${field}.certificate`, `every signer certificate has expired (${all.map(validity).join("; ")})`);
    }
  } catch (error) {
    for (const block of blocks) block.close();
    throw error;
  }

  /** Which block each signer came from (its warnBefore), and its test signer; rebuilt with the set. */
  let configOf = new Map<SignerIdentity, SignerConfig>();
  let testSigners = new Map<SignerIdentity, Signer>();
  const collect = (): SignerIdentity[] => {
    configOf = new Map();
    testSigners = new Map();
    blocks.forEach((block, index) => {
      for (const loaded of block.loaded) {
        configOf.set(loaded.identity, options.blocks[index]!.config);
        testSigners.set(loaded.identity, loaded.testSigner);
      }
    });
    return [...configOf.keys()];
  };

  // The rotation reports its first selection while it is being made: the log reads `known`, not it.
  let known = collect();
  const logSelection = (previous: SignerSelection | undefined, next: SignerSelection) => {
    const chosen = next.defaultChoice?.identity;
    const others = next.usable.filter((identity) => identity !== chosen).map((identity) => identity.serial);
    if (chosen === undefined) {
      logger.error({ signers: known.map(validity) }, "no signer certificate of the issuer is valid now: its requests get tryLater");
    } else if (previous?.defaultChoice?.identity !== chosen) {
      const replaced = previous?.defaultChoice?.identity;
      logger.info({ serial: chosen.serial, notAfter: iso(chosen.notAfter), ...(replaced === undefined ? {} : { replaced: replaced.serial }), alsoValid: others }, replaced === undefined ? "signing with signer" : "signer rollover: signing with the next signer");
    } else {
      logger.info({ serial: chosen.serial, alsoValid: others }, "signers valid now changed");
    }
  };
  const rotation = signerRotation(known, { clock, onChange: logSelection });

  // Expiry warnings: once a day per signer, from warnBefore before a notAfter that no signer covers.
  const warnedAt = new Map<SignerIdentity, number>();
  const expiryWarnings = (now: number): { identity: SignerIdentity; message: string }[] =>
    rotation.selectionAt(now).usable.flatMap((identity) => {
      const warnBefore = configOf.get(identity)?.warnBefore ?? 30 * DAY_MS;
      if (identity.notAfter - now > warnBefore || coveredAfter(identity, rotation.all)) return [];
      return [{ identity, message: `signer ${identity.serial} expires ${iso(identity.notAfter)} (in ${timeLeft(identity.notAfter - now)}) and no other signer takes over` }];
    });
  let tick: NodeJS.Timeout | undefined;
  let closed = false;
  const check = () => {
    clearTimeout(tick);
    if (closed) return;
    const now = clock.now();
    const selection = rotation.selectionAt(now);
    for (const { identity, message } of expiryWarnings(now)) {
      if (now - (warnedAt.get(identity) ?? -Infinity) < DAY_MS) continue;
      warnedAt.set(identity, now);
      logger.warn({ serial: identity.serial, notAfter: iso(identity.notAfter) }, message);
    }
    tick = setTimeout(check, Math.max(1, Math.min(selection.until - now, TICK_MS)));
    tick.unref();
  };

  const renewals: SignerRenewal[] = [];
  const watch: SignerWatch = watchSigners({
    files: blocks.flatMap((block) => block.watched.files),
    directories: blocks.flatMap((block) => block.watched.directories),
    pollIntervalMs: Math.min(...options.blocks.map((block) => block.config.pollInterval)),
    logger,
    check: async () => {
      let changed = false;
      for (const block of blocks) changed = (await block.refresh()) || changed;
      if (!changed) return;
      known = collect();
      rotation.replace(known);
      check();
      for (const renewal of renewals) renewal.reschedule();
    },
  });
  const untrack = metrics?.trackSigners({ labels: { responder: context.responder.name, issuer: context.issuerName }, signers: () => rotation.all });
  if (options.renew) {
    blocks.forEach((block, index) => {
      const { config, field } = options.blocks[index]!;
      if (config.renew === undefined || config.directory === undefined) return;
      const counters = { renewed: metrics?.signerRenewals.child({ responder: context.responder.name, issuer: context.issuerName, result: "renewed" }), failed: metrics?.signerRenewals.child({ responder: context.responder.name, issuer: context.issuerName, result: "failed" }) };
      renewals.push(
        startSignerRenewal({
          directory: config.directory,
          beforeMs: config.renew.before,
          command: config.renew.command,
          timeoutMs: config.renew.timeout,
          retryIntervalMs: config.renew.retryInterval,
          maxRetryIntervalMs: config.renew.maxRetryInterval,
          passphrase: secretOf(config.passphrase),
          rsaPadding: config.rsaPadding,
          issuerCertificate: context.issuerCertificate,
          signers: () => block.loaded.map((loaded) => loaded.identity),
          refresh: () => watch.checkNow(),
          check: async (certificateFile, keyFile) => {
            const loaded = await loadSigner({ config, certificateFile, keyFile, field }, { ...context, metrics: undefined, limiter: undefined });
            loaded.close?.();
            return loaded.identity;
          },
          clock,
          logger,
          count: (result) => counters[result]?.inc(),
        }),
      );
    });
  }
  check();

  return {
    identity: rotation,
    readiness() {
      const now = clock.now();
      const selection = rotation.selectionAt(now);
      const problems = selection.usable.length > 0 ? [] : [`no signer certificate is valid now (${rotation.all.map(validity).join("; ")})`];
      const warnings = [
        ...expiryWarnings(now).map((warning) => warning.message),
        ...blocks.flatMap((block) => block.rejected.map((reason) => `signer files rejected: ${reason}`)),
        ...renewals.flatMap((renewal) => renewal.warnings()),
      ];
      return { signers: selection.usable.map((identity) => testSigners.get(identity)!), problems, warnings };
    },
    async close() {
      closed = true;
      clearTimeout(tick);
      untrack?.();
      await Promise.all(renewals.map((renewal) => renewal.close()));
      await watch.close();
      for (const block of blocks) block.close();
    },
  };
}

/**
 * Whether another signer takes over when `identity` expires: one of the same kind (classical or
 * post-quantum) valid at its notAfter and later than it.
 */
function coveredAfter(identity: SignerIdentity, all: readonly SignerIdentity[]): boolean {
  return all.some((other) => other !== identity && other.postQuantum === identity.postQuantum && other.notBefore <= identity.notAfter && other.notAfter > identity.notAfter);
}

function validity(identity: SignerIdentity): string {
  return `${identity.serial} valid ${iso(identity.notBefore)} to ${iso(identity.notAfter)}`;
}

/** "12 days", "5.5 hours", "40 seconds". */
function timeLeft(milliseconds: number): string {
  if (milliseconds >= 2 * DAY_MS) return `${Math.floor(milliseconds / DAY_MS)} days`;
  if (milliseconds >= 7_200_000) return `${(milliseconds / 3_600_000).toFixed(1)} hours`;
  return `${Math.round(milliseconds / 1000)} seconds`;
}

function iso(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}

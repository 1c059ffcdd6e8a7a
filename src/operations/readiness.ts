/**
 * Readiness (SPEC §7 "/readyz: ready only when every issuer has current data and a working
 * signer"). Each issuer of each responder is checked:
 * - data: revocation data that reports freshness must have data (`freshness()` not undefined) whose
 *   nextUpdate, when it has one, is still ahead (an sql source's nextUpdate is its last confirmed
 *   refresh + maxStaleness; the problem then names why it cannot refresh); sources without
 *   `freshness` read live data;
 * - signer: its certificate is inside its validity period, and a test signature made with
 *   `signer.sign(tbs, signer.algorithms[0])` verifies against the certificate's public key. The
 *   signature result is kept for `signerTestIntervalMs`, so probes do not cost a signature each.
 * An issuer with several signers over time (signer rotation) gives its signers as a function: the
 * ones valid now are tested, none valid is a problem, and what needs an operator before it becomes
 * one (a signer expiring with no successor, a failing renewal, a rejected signer file) is a warning
 * that leaves the issuer ready.
 * Reports from several processes are combined with `combineReadyReports`.
 */
import { X509Certificate, randomBytes, type KeyObject } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { SignerReadiness } from "../signing/signer-readiness.ts";
import type { Signer } from "../signing/signer.ts";
import { verifySignedData } from "../signing/verify-signed-data.ts";
import type { SourceData } from "../status/source-data.ts";

/** One issuer's verdict. `problems` is empty when `ready`. */
export interface IssuerReadiness {
  readonly responder: string;
  readonly issuer: string;
  readonly ready: boolean;
  readonly problems: readonly string[];
  /** Trouble ahead that does not make it unready yet; present only when there is some. */
  readonly warnings?: readonly string[];
}

/**
 * A part of a responder besides its issuers that is not fully working: its billing sink cannot write
 * (`failing`: not ready, since every answer would be tryLater), or its Redis tier is down
 * (`degraded`: still ready, answering from memory and local validation).
 */
export interface ComponentHealth {
  readonly responder: string;
  /** "billing" or "redis". */
  readonly component: string;
  readonly state: "failing" | "degraded";
  readonly problems: readonly string[];
}

/** The verdict of one process, or of several combined; plain data (it crosses process boundaries). */
export interface ReadyReport {
  readonly ready: boolean;
  readonly issuers: readonly IssuerReadiness[];
  /** The components not fully working; absent when all are. */
  readonly components?: readonly ComponentHealth[];
}

/** A component check: its health now, or undefined while it works. Never rejects. */
export type ComponentCheck = () => Promise<ComponentHealth | undefined>;

/** The issuers' check with the components' added: not ready when one fails; a degraded one is listed only. */
export function withComponents(issuers: () => Promise<ReadyReport>, checks: readonly ComponentCheck[]): () => Promise<ReadyReport> {
  if (checks.length === 0) return issuers;
  return async () => {
    const [report, healths] = await Promise.all([issuers(), Promise.all(checks.map((check) => check()))]);
    const components = healths.filter((health) => health !== undefined);
    if (components.length === 0) return report;
    return { ready: report.ready && components.every((component) => component.state !== "failing"), issuers: report.issuers, components };
  };
}

/** What readiness needs of one served issuer. */
export interface ReadinessTarget {
  readonly responder: string;
  /** The issuer's name, as in logs and metric labels. */
  readonly issuer: string;
  /** The issuer's revocation data (its freshness). */
  readonly data: Pick<SourceData, "freshness">;
  /** The signer to test, or the issuer's signers as they are now. */
  readonly signer: Signer | (() => SignerReadiness);
}

export interface ReadinessOptions {
  readonly targets: readonly ReadinessTarget[];
  readonly clock: Clock;
  /** How long a test signature's result is reused (default 5000 ms). */
  readonly signerTestIntervalMs?: number;
  /** A test signature taking longer fails (default 2000 ms): a hung token is not a working signer. */
  readonly signerTestTimeoutMs?: number;
}

/** Default of `signerTestIntervalMs`. */
const SIGNER_TEST_INTERVAL_MS = 5000;

/**
 * Returns the check. It never rejects: every failure becomes a problem in the report. Checks of
 * one signer that overlap share one test signature.
 */
export function readinessCheck(options: ReadinessOptions): () => Promise<ReadyReport> {
  const { clock } = options;
  const interval = options.signerTestIntervalMs ?? SIGNER_TEST_INTERVAL_MS;
  const timeout = options.signerTestTimeoutMs ?? 2000;
  // Weak: a rotated-out signer's test goes with it.
  const tests = new WeakMap<Signer, SignerTest>();
  const testOf = (signer: Signer) => {
    let test = tests.get(signer);
    if (test === undefined) tests.set(signer, (test = signerTest(signer, clock, interval, timeout)));
    return test;
  };
  return async () => {
    const issuers = await Promise.all(
      options.targets.map(async (target): Promise<IssuerReadiness> => {
        const signers = typeof target.signer === "function" ? target.signer() : { signers: [target.signer], problems: [], warnings: [] };
        const tested = await Promise.all(signers.signers.map((signer) => testOf(signer).problems()));
        const problems = [...dataProblems(target.data, clock.now()), ...signers.problems, ...tested.flat()];
        const verdict = { responder: target.responder, issuer: target.issuer, ready: problems.length === 0, problems };
        return signers.warnings.length === 0 ? verdict : { ...verdict, warnings: signers.warnings };
      }),
    );
    return { ready: issuers.every((issuer) => issuer.ready), issuers };
  };
}

function dataProblems(data: Pick<SourceData, "freshness">, now: number): string[] {
  if (data.freshness === undefined) return [];
  const fresh = data.freshness();
  if (fresh === undefined) return ["no revocation data loaded"];
  if (fresh.nextUpdate !== undefined && fresh.nextUpdate <= now) {
    const why = fresh.problem === undefined ? "" : `: ${fresh.problem}`;
    return [`revocation data is past its nextUpdate (${new Date(fresh.nextUpdate).toISOString()})${why}`];
  }
  return [];
}

interface SignerTest {
  problems(): Promise<readonly string[]>;
}

function signerTest(signer: Signer, clock: Clock, interval: number, timeout: number): SignerTest {
  let certificate: X509Certificate | undefined;
  let publicKey: KeyObject | undefined;
  let unreadable: string | undefined;
  try {
    certificate = new X509Certificate(signer.certificate);
    publicKey = certificate.publicKey;
  } catch (error) {
    unreadable = `signer certificate unreadable: ${error instanceof Error ? error.message : String(error)}`;
  }
  const validFrom = certificate === undefined ? 0 : Date.parse(certificate.validFrom);
  const validTo = certificate === undefined ? 0 : Date.parse(certificate.validTo);
  let last: { at: number; result: Promise<string | undefined> } | undefined;

  const sign = async (): Promise<string | undefined> => {
    const algorithm = signer.algorithms[0];
    if (algorithm === undefined) return "signer has no signature algorithm";
    const tbs = randomBytes(32);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeout);
      timer.unref();
    });
    try {
      const signature = await Promise.race([signer.sign(tbs, algorithm), timedOut]);
      if (signature === "timeout") return `signer test signature timed out after ${timeout} ms`;
      const verified = await verifySignedData(algorithm.identifier.der, tbs, publicKey!, signature);
      return verified ? undefined : `signer test signature (${algorithm.name}) does not verify with the signer certificate's key`;
    } catch (error) {
      return `signer test signature failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async problems() {
      if (unreadable !== undefined) return [unreadable];
      const now = clock.now();
      if (now < validFrom || now > validTo) return [`signer certificate is not valid now (valid ${certificate!.validFromDate.toISOString()} to ${certificate!.validToDate.toISOString()})`];
      if (last === undefined || now - last.at >= interval) last = { at: now, result: sign() };
      const problem = await last.result;
      return problem === undefined ? [] : [problem];
    },
  };
}

/**
 * Combines the reports of several processes (workers of one service): ready only when every report
 * is; each issuer is ready only when it is ready in every report, with the union of the problems.
 * No reports at all is not ready.
 */
export function combineReadyReports(reports: readonly ReadyReport[]): ReadyReport {
  const merged = new Map<string, { responder: string; issuer: string; ready: boolean; problems: Set<string>; warnings: Set<string> }>();
  for (const report of reports) {
    for (const issuer of report.issuers) {
      const key = `${issuer.responder}\u0000${issuer.issuer}`;
      const entry = merged.get(key) ?? { responder: issuer.responder, issuer: issuer.issuer, ready: true, problems: new Set<string>(), warnings: new Set<string>() };
      entry.ready &&= issuer.ready;
      for (const problem of issuer.problems) entry.problems.add(problem);
      for (const warning of issuer.warnings ?? []) entry.warnings.add(warning);
      merged.set(key, entry);
    }
  }
  const issuers = [...merged.values()].map((entry) => {
    const verdict = { responder: entry.responder, issuer: entry.issuer, ready: entry.ready, problems: [...entry.problems] };
    return entry.warnings.size === 0 ? verdict : { ...verdict, warnings: [...entry.warnings] };
  });
  const components = new Map<string, { responder: string; component: string; state: ComponentHealth["state"]; problems: Set<string> }>();
  for (const health of reports.flatMap((report) => report.components ?? [])) {
    const key = `${health.responder}\u0000${health.component}`;
    const entry = components.get(key) ?? { responder: health.responder, component: health.component, state: health.state, problems: new Set<string>() };
    if (health.state === "failing") entry.state = "failing";
    for (const problem of health.problems) entry.problems.add(problem);
    components.set(key, entry);
  }
  const ready = reports.length > 0 && reports.every((report) => report.ready);
  if (components.size === 0) return { ready, issuers };
  return { ready, issuers, components: [...components.values()].map((entry) => ({ ...entry, problems: [...entry.problems] })) };
}

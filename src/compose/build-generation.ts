import { readFile } from "node:fs/promises";
import type { BillingSink } from "../billing/billing-sink.ts";
import type { Clock } from "../clock.ts";
import type { Config, ResponderConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { inFlight, type InFlight } from "../http/in-flight.ts";
import type { ListenerSettings, ListenerTls, RoutedEndpoint } from "../http/server.ts";
import type { Logger } from "../observability/logger.ts";
import type { VouchMetrics } from "../observability/metrics.ts";
import { readinessCheck, withComponents, type ComponentCheck, type ReadinessTarget, type ReadyReport } from "../operations/readiness.ts";
import { requestObserver } from "../operations/request-metrics.ts";
import { accessLog, type AccessLog } from "../operations/access-log.ts";
import { issuerDirectory, type ServedIssuer } from "../issuers/issuer-directory.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { signingLimiter } from "../signing/signing-limiter.ts";
import { buildBillingSink } from "./build-billing.ts";
import type { OwnChainProofs } from "../responses/own-chain-proofs.ts";
import { askBackEnd, backEndProducer } from "../forwarding/back-end.ts";
import type { CertId } from "../ocsp/types.ts";
import { buildForwarder } from "./build-forwarding.ts";
import { buildOwnChainProofs } from "./build-freshness.ts";
import { buildIssuer } from "./build-issuer.ts";
import { buildPipeline } from "./build-pipeline.ts";
import { buildResponseCache, type BuiltResponseCache } from "./build-response-cache.ts";
import { buildTrust, type Trust } from "./build-trust.ts";
import { revocationLookup } from "../trust/revocation-lookup.ts";
import { reloadThread, type SourceSupply } from "../status/source-supply.ts";
import { applyChanges, type ChangeTarget } from "../responses/apply-changes.ts";
import { gateOnSiblings, holdForSibling, type HoldRequest, type Siblings } from "./sibling-holds.ts";
import { reuseTable, type ReuseTable } from "../responses/reuse-table.ts";
import type { SignedResponse } from "../pipeline/exchange.ts";
import { purgeScope, type PurgeRequest, type PurgeResult, type PurgeScope } from "../responses/cache-purge.ts";

/** Sources answer from memory and ignore it; a signal is part of their contract. */
const NEVER_ABORTED = new AbortController().signal;

/** What one address serves in a generation: the settings of its listener. */
export interface AddressPlan {
  readonly host: string;
  readonly port: number;
  /** Index of the first responder on this address, for error field paths. */
  readonly firstIndex: number;
  readonly settings: ListenerSettings;
}

/**
 * Everything one configuration builds, short of listening: issuers (sources, signers behind one
 * load-shedding limiter), trust store, billing sinks and per-address endpoints. A reload builds a
 * new generation next to the running one, swaps it in, and closes the old one once idle.
 */
export interface Generation {
  /** Keyed by `host|port`, in configuration order. */
  readonly addresses: ReadonlyMap<string, AddressPlan>;
  /** Requests still using this generation (routed to one of its endpoints, or in one of its pipelines). */
  readonly inFlight: InFlight;
  /** Whether every issuer of this generation has current data and a working signer (docs/observability.md). */
  ready(): Promise<ReadyReport>;
  /**
   * `vouch cache purge`: drops what `request` names from every (or the named) responder's memory
   * tier, reused answers and Redis tier. Throws TypeError naming the field of a malformed request.
   */
  purge(request: PurgeRequest): Promise<PurgeResult>;
  /** A sibling worker's change: this generation's issuers it names hold those answers until their sources looked (sibling-holds.ts); how many do. */
  holdChanged(request: HoldRequest): number;
  /** Closes billing sinks (flushing them), then sources. Call once `inFlight` is idle. */
  close(): Promise<void>;
}

interface AddressGroup {
  readonly host: string;
  readonly port: number;
  readonly endpoints: RoutedEndpoint[];
  readonly tlsConfig: ResponderConfig["tls"];
  readonly firstIndex: number;
  timeouts: { headersMs: number; requestMs: number; keepAliveMs: number };
}

/**
 * Builds a generation. Issuers (and their sources) come first, because the validation process checks
 * revocation with them; then the trust store; then each responder's billing sink, response cache (with
 * identrus-cached's own-chain freshness proofs) and pipeline; then
 * each address's TLS material. Throws ConfigError naming the field when anything configured cannot be
 * built; whatever was opened by then is closed.
 */
export async function buildGeneration(
  config: Config,
  clock: Clock,
  logger: Logger,
  metrics: VouchMetrics,
  billingWriter?: string,
  renewSigners = true,
  supply?: SourceSupply,
  siblings?: Siblings,
): Promise<Generation> {
  // Without a supply (`vouch check`), the generation's sources reload on a thread of its own, and fetch nothing.
  const ownReloads = supply === undefined ? reloadThread() : undefined;
  const sources = supply ?? { reloads: ownReloads!, offline: true };
  const issuers: ServedIssuer[] = [];
  const readinessTargets: ReadinessTarget[] = [];
  const sinks: BillingSink[] = [];
  const caches: BuiltResponseCache[] = [];
  /** What `purge` reaches, per responder. */
  const purgeable: { readonly responder: string; readonly cache: BuiltResponseCache | undefined; readonly reuse: ReuseTable<SignedResponse> | undefined }[] = [];
  const ownChains: OwnChainProofs[] = [];
  let trust: Trust | undefined;
  /** Billing sinks and Redis tiers, for /readyz (failing and degraded). */
  const components: ComponentCheck[] = [];
  /** Removes the probes of this generation's circuit breakers from the metrics. */
  const untrack: (() => void)[] = [];
  let access: AccessLog | undefined;
  const close = async () => {
    for (const remove of untrack) remove();
    await access?.close();
    await Promise.all(ownChains.map((proofs) => proofs.close()));
    await Promise.all(caches.map((cache) => cache.close()));
    await Promise.all(sinks.map((sink) => sink.close()));
    await Promise.all(issuers.map((issuer) => issuer.close()));
    await trust?.close();
    await ownReloads?.close();
  };
  const counter = inFlight();
  try {
    // Opened by every generation: a reload after a log rotation writes to the new file.
    access = config.log.access === undefined ? undefined : accessLog({ ...config.log.access, logger });
    const limiter = signingLimiter({ maxInFlight: config.limits.maxSigningsInFlight, maxQueue: config.limits.maxSigningQueue });
    const servedBy: ServedIssuer[][] = [];
    for (const [index, responder] of config.responders.entries()) {
      const served: ServedIssuer[] = [];
      for (const [issuerIndex, issuerConfig] of responder.issuers.entries()) {
        const field = `responders[${index}].issuers[${issuerIndex}]`;
        const issuer = await buildIssuer(issuerConfig, responder, field, clock, logger.child({ responder: responder.name }), sources, { metrics, limiter, renewSigners });
        issuers.push(issuer);
        readinessTargets.push({ responder: responder.name, issuer: issuer.name, data: issuer.data, signer: issuer.signerReadiness ?? issuer.identity.signer });
        served.push(issuer);
      }
      servedBy.push(served);
    }
    // Sibling workers hold their answers for a change before this worker's sources answer with it.
    if (siblings !== undefined) untrack.push(gateOnSiblings(issuers, siblings, logger.child({ component: "changes" })));
    trust = config.trust === undefined ? undefined : await buildTrust(config.trust, issuers, clock, logger, sources.offline === true);
    // What Vouch's own sources say about a delegated signer of a forwarded response (docs/forwarding.md).
    const revocation = trust?.revocation ?? revocationLookup(issuers.map((issuer) => ({ certificate: issuer.certificate, source: issuer.source })));
    const signerStatus = (signer: Buffer, issuer: Buffer) => revocation.status(signer, issuer, NEVER_ABORTED);
    const cache = trust?.cache;
    if (cache !== undefined) metrics.trackCertificateCache(() => cache.tiers());

    const groups = new Map<string, AddressGroup>();
    for (const [index, responder] of config.responders.entries()) {
      const field = `responders[${index}]`;
      const responderLogger = logger.child({ responder: responder.name });
      const billing =
        responder.billing === undefined
          ? undefined
          : await buildBillingSink(responder.billing, `${field}.billing`, clock, responderLogger, { responder: responder.name, writer: billingWriter, metrics: metrics.operations });
      const sink = billing?.sink;
      if (billing !== undefined) {
        sinks.push(billing.sink);
        components.push(failingWhen(responder.name, "billing", billing.health.problem));
      }
      const directory = issuerDirectory(servedBy[index]!);
      // One back-end client per responder (SPEC step 6), shared by its requests and its background
      // work: renewing forwarded issuers' responses (SPEC §6) and its own chain's freshness proofs.
      const backEnd =
        responder.forwarding === undefined
          ? undefined
          : buildForwarder(responder.forwarding, `${field}.forwarding`, {
              issuers: directory,
              certificates: trust?.cache,
              signerStatus,
              clock,
              logger: responderLogger,
              metrics: { registry: metrics, responder: responder.name },
              trackCircuits: (states) => untrack.push(metrics.operations.trackCircuits(responder.name, states)),
            });
      const backEndQuery = backEnd === undefined ? undefined : (certId: CertId, _issuer: Buffer, signal: AbortSignal) => askBackEnd(backEnd, certId, signal).then((answer) => answer?.body);
      const ownChain = buildOwnChainProofs(responder, directory, () => cache?.cache, trust, clock, responderLogger, backEndQuery);
      if (ownChain !== undefined) ownChains.push(ownChain);
      const cache =
        responder.responseCache === undefined
          ? undefined
          : buildResponseCache(responder, responder.responseCache, `${field}.responseCache`, {
              issuers: directory,
              clock,
              logger: responderLogger,
              ownChainProofs: ownChain,
              metrics: metrics.operations,
              ...(backEnd === undefined ? {} : { producers: [backEndProducer(backEnd)] }),
            });
      if (cache !== undefined) caches.push(cache);
      // A reused answer must not outlive what the response cache was told to keep: with expiresAfter
      // shorter than reuseFor, step 8 would hand the expired entry's bytes back and store them again.
      const reuseForMs = Math.min(responder.reuseFor, ...(responder.responseCache?.issuers.map((row) => row.expiresAfter) ?? []));
      const reuse = reuseForMs > 0 ? reuseTable<SignedResponse>({ reuseForMs }) : undefined;
      purgeable.push({ responder: responder.name, cache, reuse });
      // `vouch cache purge` run anywhere reaches this worker's memory through the change channel (the command deleted the Redis keys).
      cache?.remote?.onPurge((scope, request) => {
        const memory = cache.purgeMemory(scope) + (reuse === undefined ? 0 : purgeReused(reuse, scope));
        responderLogger.info({ component: "changes", purge: request.issuer === undefined ? "everything" : (request.serial ?? "issuer"), memory }, "cache purge through the change channel applied");
      });
      const changeTargets: ChangeTarget[] = [...(cache === undefined ? [] : [cache]), ...(reuse === undefined ? [] : [reuse])];
      untrack.push(applyChanges({ responder: responder.name, issuers: servedBy[index]!, targets: changeTargets, remote: cache?.remote, clock, logger: responderLogger.child({ component: "changes" }), applied: metrics.revocationApplied }));
      const redisUp = cache?.redisUp;
      if (redisUp !== undefined) {
        components.push(async () =>
          redisUp() ? undefined : { responder: responder.name, component: "redis", state: "degraded", problems: ["the shared response cache (Redis) is unavailable: answers come from memory and local validation"] },
        );
      }
      const scheme = responder.tls === undefined ? "http" : "https";
      const endpoint: RoutedEndpoint = {
        name: responder.name,
        prefix: responder.path.replace(/\/+$/, ""),
        pipeline: held(
          buildPipeline(responder, field, {
            issuers: directory,
            clock,
            logger: responderLogger,
            trust,
            billingSink: sink,
            url: `${scheme}://${responder.listen.host}:${responder.listen.port}${responder.path}`,
            metrics,
            responseCache: cache?.cache,
            ownChainProofs: ownChain,
            forwarder: backEnd,
            reuse,
          }),
          counter,
        ),
        maxRequestBytes: responder.maxRequestBytes,
        observer: access === undefined ? requestObserver(metrics, responder.name, responder.type) : access.observe(requestObserver(metrics, responder.name, responder.type), responder.name),
        inFlight: counter,
      };
      addToGroup(groups, responder, index, endpoint);
    }

    const addresses = new Map<string, AddressPlan>();
    for (const [key, group] of groups) {
      const tls = group.tlsConfig === undefined ? undefined : await listenerTls(group.tlsConfig, `responders[${group.firstIndex}].tls`, trust, logger);
      addresses.set(key, { host: group.host, port: group.port, firstIndex: group.firstIndex, settings: { endpoints: group.endpoints, timeouts: group.timeouts, tls } });
    }
    const ready = withComponents(readinessCheck({ targets: readinessTargets, clock, signerTestIntervalMs: config.admin?.readiness.signerTestInterval }), components);
    const purge = async (request: PurgeRequest): Promise<PurgeResult> => {
      const scope = purgeScope(request);
      let memory = 0;
      let redis: number | undefined;
      let redisFailed = 0;
      const responders: string[] = [];
      for (const entry of purgeable) {
        if (request.responder !== undefined && entry.responder !== request.responder) continue;
        responders.push(entry.responder);
        if (entry.reuse !== undefined) memory += purgeReused(entry.reuse, scope);
        const purged = await entry.cache?.purge(scope);
        if (purged === undefined) continue;
        memory += purged.memory;
        if (entry.cache?.redisUp === undefined) continue;
        if (purged.redis === undefined) redisFailed++;
        else redis = (redis ?? 0) + purged.redis;
      }
      return { memory, redis, redisFailed, responders };
    };
    return { addresses, inFlight: counter, ready, purge, holdChanged: (request) => holdForSibling(issuers, request), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A component check that fails readiness while `problem` names one. */
function failingWhen(responder: string, component: string, problem: () => Promise<string | undefined>): ComponentCheck {
  return async () => {
    const found = await problem();
    return found === undefined ? undefined : { responder, component, state: "failing", problems: [found] };
  };
}

/** The pipeline, counted in `counter` while it runs (its billing included). */
function held(inner: Pipeline, counter: InFlight): Pipeline {
  return {
    steps: inner.steps,
    run: (exchange) => {
      const release = counter.hold();
      let pending: void | Promise<void>;
      try {
        pending = inner.run(exchange);
      } catch (error) {
        release();
        throw error;
      }
      if (pending === undefined) release();
      else return pending.finally(release);
    },
  };
}

/** Responders on one address share a listener; they must agree on its TLS settings. */
function addToGroup(groups: Map<string, AddressGroup>, responder: ResponderConfig, index: number, endpoint: RoutedEndpoint): void {
  const field = `responders[${index}]`;
  const key = `${responder.listen.host}|${responder.listen.port}`;
  const timeouts = { headersMs: responder.timeouts.headers, requestMs: responder.timeouts.request, keepAliveMs: responder.timeouts.keepAlive };
  const group = groups.get(key);
  if (group === undefined) {
    groups.set(key, { host: responder.listen.host, port: responder.listen.port, endpoints: [endpoint], tlsConfig: responder.tls, firstIndex: index, timeouts });
    return;
  }
  // Port 0 asks for a free port each time; responders that all ask for one still share a listener.
  if (group.endpoints.some((other) => other.prefix === endpoint.prefix)) {
    throw new ConfigError(`${field}.path`, `another responder already serves path "${responder.path}" on ${responder.listen.host}:${responder.listen.port}`);
  }
  if (JSON.stringify(group.tlsConfig) !== JSON.stringify(responder.tls)) {
    throw new ConfigError(`${field}.tls`, `responders sharing ${responder.listen.host}:${responder.listen.port} must have the same tls settings`);
  }
  group.endpoints.push(endpoint);
  group.timeouts = {
    headersMs: Math.min(group.timeouts.headersMs, timeouts.headersMs),
    requestMs: Math.min(group.timeouts.requestMs, timeouts.requestMs),
    keepAliveMs: Math.min(group.timeouts.keepAliveMs, timeouts.keepAliveMs),
  };
}

async function listenerTls(config: NonNullable<ResponderConfig["tls"]>, field: string, trust: Trust | undefined, logger: Logger): Promise<ListenerTls> {
  const read = async (file: string, name: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new ConfigError(`${field}.${name}`, `${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : String(error)}`, { cause: error });
    }
  };
  const certificate = await read(config.certificate, "certificate");
  const key = await read(config.key, "key");
  try {
    // Checked here, not at listen: a reload with a broken certificate must fail before anything is swapped.
    process.getBuiltinModule("node:tls").createSecureContext({ cert: certificate, key });
  } catch (error) {
    throw new ConfigError(field, `the certificate and key cannot be used: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (config.clientAuth === "off") return { certificate, key, clientAuth: undefined };
  if (trust === undefined) throw new ConfigError("trust", "TLS client authentication needs a trust store (trust.anchors)");
  return { certificate, key, clientAuth: { mode: config.clientAuth, validator: trust.validator, cache: trust.cache, logger } };
}

/** Drops what `scope` names from reused answers; how many went. */
function purgeReused(reuse: ReuseTable<SignedResponse>, scope: PurgeScope): number {
  if (scope.kind === "issuer") return reuse.drop(scope.issuer, scope.serials);
  const held = reuse.size;
  reuse.dropAll();
  return held;
}

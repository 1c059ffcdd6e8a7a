import { readFile } from "node:fs/promises";
import type { BillingSink } from "../billing/billing-sink.ts";
import type { Clock } from "../clock.ts";
import type { Config, ResponderConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { startListener, type Listener, type ListenerTls } from "../http/server.ts";
import type { OcspEndpoint } from "../http/ocsp-handler.ts";
import type { Logger } from "../observability/logger.ts";
import { issuerDirectory, type ServedIssuer } from "../pipeline/issuer-directory.ts";
import type { OwnChainProofs } from "../responses/own-chain-proofs.ts";
import { buildBillingSink } from "./build-billing.ts";
import { buildOwnChainProofs, proofCaches } from "./build-freshness.ts";
import { buildIssuer } from "./build-issuer.ts";
import { buildPipeline } from "./build-pipeline.ts";
import { buildResponseCache, type BuiltResponseCache } from "./build-response-cache.ts";
import { buildTrust, type Trust } from "./build-trust.ts";

/** A running Vouch: its listeners and the sources behind them. */
export interface Service {
  readonly listeners: readonly Listener[];
  /** Stops listening, finishes requests in flight (and their billing), stops reloading sources. */
  close(): Promise<void>;
}

interface ListenerGroup {
  readonly host: string;
  readonly port: number;
  readonly endpoints: OcspEndpoint[];
  readonly tlsConfig: ResponderConfig["tls"];
  readonly firstIndex: number;
  timeouts: { headersMs: number; requestMs: number; keepAliveMs: number };
}

/**
 * The composition root: turns a validated Config into running listeners. Issuers (and their
 * sources) are built first, because the validation process checks revocation with them; then the
 * trust store; then each responder's pipeline and billing sink; then the listeners. Throws
 * ConfigError naming the field when anything configured cannot be built; whatever was opened by
 * then is closed.
 */
export async function startService(config: Config, clock: Clock, logger: Logger, options: { readonly reusePort?: boolean } = {}): Promise<Service> {
  const issuers: ServedIssuer[] = [];
  const sinks: BillingSink[] = [];
  const listeners: Listener[] = [];
  const caches: BuiltResponseCache[] = [];
  const ownChains: OwnChainProofs[] = [];
  const closeAll = async () => {
    await Promise.all(listeners.map((listener) => listener.close()));
    await Promise.all(ownChains.map((proofs) => proofs.close()));
    await Promise.all(caches.map((cache) => cache.close()));
    await Promise.all(sinks.map((sink) => sink.close()));
    await Promise.all(issuers.map((issuer) => issuer.source.close()));
  };
  try {
    const servedBy: ServedIssuer[][] = [];
    for (const [index, responder] of config.responders.entries()) {
      const served: ServedIssuer[] = [];
      for (const [issuerIndex, issuerConfig] of responder.issuers.entries()) {
        const issuer = await buildIssuer(issuerConfig, responder, `responders[${index}].issuers[${issuerIndex}]`, clock, logger.child({ responder: responder.name }));
        issuers.push(issuer);
        served.push(issuer);
      }
      servedBy.push(served);
    }
    // Freshness proofs (identrus-cached, SPEC step 2) reach the validation process through the response caches.
    const proofs = config.responders.some((responder) => responder.type === "identrus-cached") ? proofCaches() : undefined;
    const trust = config.trust === undefined ? undefined : await buildTrust(config.trust, issuers, clock, proofs?.reader);

    const groups = new Map<string, ListenerGroup>();
    for (const [index, responder] of config.responders.entries()) {
      const field = `responders[${index}]`;
      const responderLogger = logger.child({ responder: responder.name });
      const sink = responder.billing === undefined ? undefined : await buildBillingSink(responder.billing, `${field}.billing`, clock, responderLogger);
      if (sink !== undefined) sinks.push(sink);
      const directory = issuerDirectory(servedBy[index]!);
      const ownChain = buildOwnChainProofs(responder, directory, () => cache?.cache, trust, clock, responderLogger);
      if (ownChain !== undefined) ownChains.push(ownChain);
      const cache =
        responder.responseCache === undefined
          ? undefined
          : buildResponseCache(responder, responder.responseCache, `${field}.responseCache`, { issuers: directory, clock, logger: responderLogger, ownChainProofs: ownChain });
      if (cache !== undefined) caches.push(cache);
      if (cache !== undefined && responder.type === "identrus-cached") proofs?.add(cache.cache);
      const scheme = responder.tls === undefined ? "http" : "https";
      const endpoint: OcspEndpoint = {
        name: responder.name,
        prefix: responder.path.replace(/\/+$/, ""),
        pipeline: buildPipeline(responder, field, {
          issuers: directory,
          clock,
          logger: responderLogger,
          trust,
          billingSink: sink,
          url: `${scheme}://${responder.listen.host}:${responder.listen.port}${responder.path}`,
          responseCache: cache?.cache,
          ownChainProofs: ownChain,
        }),
        maxRequestBytes: responder.maxRequestBytes,
      };
      addToGroup(groups, responder, index, endpoint);
    }

    for (const group of groups.values()) {
      const tls = group.tlsConfig === undefined ? undefined : await listenerTls(group.tlsConfig, `responders[${group.firstIndex}].tls`, trust, logger);
      try {
        listeners.push(await startListener({ host: group.host, port: group.port, endpoints: group.endpoints, timeouts: group.timeouts, tls, clock, logger, reusePort: options.reusePort }));
      } catch (error) {
        throw new ConfigError(`responders[${group.firstIndex}].listen`, `cannot listen on ${group.host}:${group.port} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
      }
      const last = listeners[listeners.length - 1]!;
      logger.info({ host: last.host, port: last.port, tls: tls !== undefined, responders: group.endpoints.map((endpoint) => endpoint.name) }, "listening");
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  return { listeners, close: closeAll };
}

/** Responders on one address share a listener; they must agree on its TLS settings. */
function addToGroup(groups: Map<string, ListenerGroup>, responder: ResponderConfig, index: number, endpoint: OcspEndpoint): void {
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
  if (config.clientAuth === "off") return { certificate, key, clientAuth: undefined };
  if (trust === undefined) throw new ConfigError("trust", "TLS client authentication needs a trust store (trust.anchors)");
  return { certificate, key, clientAuth: { mode: config.clientAuth, validator: trust.validator, cache: trust.cache, logger } };
}

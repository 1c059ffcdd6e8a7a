import type { Clock } from "../clock.ts";
import type { Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { startListener, type Listener } from "../http/server.ts";
import type { OcspEndpoint } from "../http/ocsp-handler.ts";
import type { Logger } from "../observability/logger.ts";
import { issuerDirectory, type ServedIssuer } from "../pipeline/issuer-directory.ts";
import { buildIssuer } from "./build-issuer.ts";
import { buildPipeline } from "./build-pipeline.ts";

/** A running Vouch: its listeners and the sources behind them. */
export interface Service {
  readonly listeners: readonly Listener[];
  /** Stops listening, finishes requests in flight, stops reloading sources. */
  close(): Promise<void>;
}

/**
 * The composition root: turns a validated Config into running listeners. Throws ConfigError naming
 * the field when anything configured cannot be built; whatever was opened by then is closed.
 */
export async function startService(config: Config, clock: Clock, logger: Logger): Promise<Service> {
  const issuers: ServedIssuer[] = [];
  const listeners: Listener[] = [];
  const closeAll = async () => {
    await Promise.all(listeners.map((listener) => listener.close()));
    await Promise.all(issuers.map((issuer) => issuer.source.close()));
  };
  try {
    const byAddress = new Map<string, { host: string; port: number; endpoints: OcspEndpoint[]; timeouts: { headersMs: number; requestMs: number; keepAliveMs: number } }>();
    for (const [index, responder] of config.responders.entries()) {
      const field = `responders[${index}]`;
      const served: ServedIssuer[] = [];
      for (const [issuerIndex, issuerConfig] of responder.issuers.entries()) {
        const issuer = await buildIssuer(issuerConfig, responder, `${field}.issuers[${issuerIndex}]`, clock, logger.child({ responder: responder.name }));
        issuers.push(issuer);
        served.push(issuer);
      }
      const directory = issuerDirectory(served);
      const endpoint: OcspEndpoint = {
        name: responder.name,
        prefix: responder.path.replace(/\/+$/, ""),
        pipeline: buildPipeline(responder, field, directory, clock, logger.child({ responder: responder.name })),
        maxRequestBytes: responder.maxRequestBytes,
      };
      const key = `${responder.listen.host}|${responder.listen.port}`;
      const group = byAddress.get(key);
      const timeouts = { headersMs: responder.timeouts.headers, requestMs: responder.timeouts.request, keepAliveMs: responder.timeouts.keepAlive };
      if (group === undefined) {
        byAddress.set(key, { host: responder.listen.host, port: responder.listen.port, endpoints: [endpoint], timeouts });
      } else {
        if (group.endpoints.some((other) => other.prefix === endpoint.prefix)) {
          throw new ConfigError(`${field}.path`, `another responder already serves path "${responder.path}" on ${responder.listen.host}:${responder.listen.port}`);
        }
        group.endpoints.push(endpoint);
        group.timeouts = {
          headersMs: Math.min(group.timeouts.headersMs, timeouts.headersMs),
          requestMs: Math.min(group.timeouts.requestMs, timeouts.requestMs),
          keepAliveMs: Math.min(group.timeouts.keepAliveMs, timeouts.keepAliveMs),
        };
      }
    }
    for (const group of byAddress.values()) {
      try {
        listeners.push(await startListener({ ...group, clock, logger }));
      } catch (error) {
        const index = config.responders.findIndex((responder) => responder.listen.host === group.host && responder.listen.port === group.port);
        throw new ConfigError(`responders[${index}].listen`, `cannot listen on ${group.host}:${group.port} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
      }
      const last = listeners[listeners.length - 1]!;
      logger.info({ host: last.host, port: last.port, responders: group.endpoints.map((endpoint) => endpoint.name) }, "listening");
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  return { listeners, close: closeAll };
}

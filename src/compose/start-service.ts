import type { Clock } from "../clock.ts";
import type { Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { listenerKind, startListener, type Listener } from "../http/server.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics, type VouchMetrics } from "../observability/metrics.ts";
import type { ReadyReport } from "../operations/readiness.ts";
import { reloadThread, type PreloadedTables } from "../status/source-supply.ts";
import type { ListedCrlIssuers } from "../status/crl/fetch/listed-crl-issuer.ts";
import type { PurgeRequest, PurgeResult } from "../responses/cache-purge.ts";
import type { HoldRequest, Siblings } from "./sibling-holds.ts";
import { buildGeneration, type AddressPlan, type Generation } from "./build-generation.ts";

/** A running Vouch: its listeners and the sources behind them. */
export interface Service {
  /** The listeners now open, in configuration order of their addresses. */
  readonly listeners: readonly Listener[];
  /** This process's metrics registry (kept across reloads) and the current configuration's readiness (docs/observability.md). */
  readonly observability: { readonly metrics: VouchMetrics; ready(): Promise<ReadyReport> };
  /**
   * Swaps in `config` without failing a request in flight: builds everything new first (sources
   * loaded, signers checked, billing sinks open, new addresses listening), then swaps the responders
   * behind the listeners that stay, closes listeners whose address went away, and closes the old
   * sources and sinks once their last request is done. Rejects with ConfigError (field named) when
   * the new configuration cannot be built; the running one then stays untouched. Reloads run one
   * at a time.
   */
  reload(config: Config): Promise<void>;
  /** `vouch cache purge` in this process (build-generation.ts `Generation.purge`). */
  purge(request: PurgeRequest): Promise<PurgeResult>;
  /** A sibling worker's change: hold those answers until this worker's sources looked (sibling-holds.ts); how many issuers do. */
  holdChanged(request: HoldRequest): number;
  /** Stops listening, finishes requests in flight (and their billing), stops reloading sources. */
  close(): Promise<void>;
}

/**
 * The composition root: turns a validated Config into running listeners (build-generation.ts builds
 * the pieces). With `reusePort`, listeners share their ports with other processes (SO_REUSEPORT).
 * Throws ConfigError naming the field when anything configured cannot be built or bound; whatever
 * was opened by then is closed.
 */
export async function startService(
  config: Config,
  clock: Clock,
  logger: Logger,
  options: {
    readonly reusePort?: boolean;
    readonly metrics?: VouchMetrics;
    /** Names this process's billing files when several processes bill into one folder (a worker's number). */
    readonly billingWriter?: string;
    /** Run the automatic signer renewals here (default true): one process of a service does (worker 1). */
    readonly renewSigners?: boolean;
    /** Revocation tables loaded before the service (a worker thread's, from its supervisor): for the first configuration's sources only. */
    readonly tables?: PreloadedTables | undefined;
    /** The other workers of this instance, told of each change before this one answers with it (sibling-holds.ts). */
    readonly siblings?: Siblings | undefined;
  } = {},
): Promise<Service> {
  const reusePort = options.reusePort === true;
  // One registry per process, counting across reloads. prom-client's process metrics watch every GC
  // and wake the event loop every 10 ms (event-loop lag); only an admin listener (this process's, or
  // its supervisor's, from the same configuration) ever reads them, and it is never added on reload.
  const metrics = options.metrics ?? createMetrics({ clock, processMetrics: config.admin !== undefined });
  // One thread for the reloads of every source, across configuration reloads (source-supply.ts).
  const reloadsThread = reloadThread();
  // The issuer Names of CRLs that CRL lists name, read once for all issuers, across reloads too.
  const listedCrlIssuers: ListedCrlIssuers = new Map();
  let generation: Generation;
  try {
    generation = await buildGeneration(config, clock, logger, metrics, options.billingWriter, options.renewSigners, { reloads: reloadsThread, tables: options.tables, listedCrlIssuers }, options.siblings);
  } catch (error) {
    await reloadsThread.close();
    throw error;
  }
  const listeners = new Map<string, Listener>();
  try {
    for (const [key, plan] of generation.addresses) listeners.set(key, await listen(plan, clock, logger, reusePort, metrics));
  } catch (error) {
    await Promise.all([...listeners.values()].map((listener) => listener.close()));
    await generation.close();
    await reloadsThread.close();
    throw error;
  }
  // Old generations and listeners still finishing their requests; close() waits for them too.
  const retiring = new Set<Promise<void>>();
  const retire = (work: Promise<unknown>, old: Generation) => {
    const done = (async () => {
      await work;
      await old.inFlight.idle();
      await old.close();
    })().catch((error: unknown) => logger.error({ err: error }, "closing the previous configuration failed"));
    retiring.add(done);
    void done.finally(() => retiring.delete(done));
  };
  let reloads = Promise.resolve();
  metrics.trackReadiness(() => generation.ready());
  const reload = async (next: Config) => {
    const fresh = await buildGeneration(next, clock, logger, metrics, options.billingWriter, options.renewSigners, { reloads: reloadsThread, listedCrlIssuers }, options.siblings);
    const opened = new Map<string, Listener>();
    // Same address, other kind (http ↔ https, client auth on ↔ off): the socket must be replaced.
    const replaced: [string, AddressPlan][] = [];
    try {
      for (const [key, plan] of fresh.addresses) {
        const current = listeners.get(key);
        if (current === undefined) opened.set(key, await listen(plan, clock, logger, reusePort, metrics));
        else if (current.kind !== listenerKind(plan.settings.tls)) {
          // With SO_REUSEPORT the new socket can bind before the old one closes: no gap.
          if (reusePort) opened.set(key, await listen(plan, clock, logger, reusePort, metrics));
          else replaced.push([key, plan]);
        }
      }
    } catch (error) {
      await Promise.all([...opened.values()].map((listener) => listener.close()));
      await fresh.close();
      throw error;
    }
    // The swap: synchronous from here to the first await, so no request sees half of it.
    const old = generation;
    generation = fresh;
    const closing: Promise<void>[] = [];
    for (const [key, listener] of listeners) {
      const plan = fresh.addresses.get(key);
      if (plan !== undefined && listener.kind === listenerKind(plan.settings.tls)) {
        listener.update(plan.settings);
        continue;
      }
      listeners.delete(key);
      closing.push(listener.close());
      if (plan === undefined) logger.info({ host: listener.host, port: listener.port }, "stopped listening");
    }
    for (const [key, listener] of opened) listeners.set(key, listener);
    retire(Promise.all(closing), old);
    for (const [key, plan] of replaced) {
      try {
        listeners.set(key, await listenAgain(plan, clock, logger, metrics));
      } catch (error) {
        logger.error({ host: plan.host, port: plan.port, err: error }, "cannot listen again after a reload: this address is not served");
      }
    }
  };
  return {
    get listeners() {
      return [...generation.addresses.keys()].flatMap((key) => listeners.get(key) ?? []);
    },
    observability: { metrics, ready: () => generation.ready() },
    purge: (request) => generation.purge(request),
    holdChanged: (request) => generation.holdChanged(request),
    reload: (next) => {
      const run = reloads.then(() => reload(next));
      reloads = run.catch(() => undefined);
      return run;
    },
    close: async () => {
      await reloads;
      await Promise.all([...listeners.values()].map((listener) => listener.close()));
      await generation.inFlight.idle();
      await generation.close();
      await Promise.all(retiring);
      await reloadsThread.close();
    },
  };
}

/** Opens the listener of one address and logs it. Throws ConfigError naming the responder's `listen`. */
async function listen(plan: AddressPlan, clock: Clock, logger: Logger, reusePort: boolean, metrics: VouchMetrics): Promise<Listener> {
  let listener: Listener;
  try {
    listener = await startListener({ host: plan.host, port: plan.port, ...plan.settings, clock, logger, reusePort });
  } catch (error) {
    throw new ConfigError(`responders[${plan.firstIndex}].listen`, `cannot listen on ${plan.host}:${plan.port} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      cause: error,
    });
  }
  logger.info(
    { host: listener.host, port: listener.port, tls: plan.settings.tls !== undefined, responders: plan.settings.endpoints.map((endpoint) => endpoint.name) },
    "listening",
  );
  const untrack = metrics.operations.trackListener(`${listener.host}:${listener.port}`, () => listener.openConnections);
  const close = listener.close.bind(listener);
  // Counted until it has closed: a closing listener still holds the connections finishing their requests.
  return Object.assign(listener, { close: () => close().finally(untrack) });
}

/** listen() on an address whose previous socket is closing: retries while the port is still taken (up to ~2 s). */
async function listenAgain(plan: AddressPlan, clock: Clock, logger: Logger, metrics: VouchMetrics): Promise<Listener> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await listen(plan, clock, logger, false, metrics);
    } catch (error) {
      const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      if (code !== "EADDRINUSE" || attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

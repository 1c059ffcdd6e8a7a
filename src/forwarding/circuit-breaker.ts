import type { Clock } from "../clock.ts";

/** Options of `circuitBreakers`. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open a URL's circuit (≥ 1). */
  readonly failureThreshold: number;
  /** Milliseconds an open circuit stays open before one trial request is let through. */
  readonly coolDownMs: number;
  readonly clock: Clock;
  /**
   * Told when a URL's circuit opens (`failures` in a row, or a failed trial) and when it closes again
   * (a trial succeeded), for the log.
   */
  readonly onChange?: (url: string, change: "opened" | "closed", failures: number) => void;
}

/** A URL's circuit: closed (requests flow), open (none do), half-open (one trial is in flight). */
export type CircuitState = "closed" | "open" | "half-open";

/**
 * One circuit breaker per remote URL (SPEC step 6), so that a remote responder that is down costs
 * the hot path nothing once it has failed `failureThreshold` times in a row: requests for it go
 * straight to the next discovery method (or the fallback) without waiting for a deadline.
 */
export interface CircuitBreakers {
  /**
   * True when a request to `url` may go out now. An open circuit whose cool-down has passed lets
   * exactly one caller through (half-open); every other caller is refused until that one reports.
   */
  admit(url: string): boolean;
  /** The attempt succeeded: the circuit closes and the failure count resets. */
  success(url: string): void;
  /** The attempt failed: counts towards opening; a failed half-open trial reopens for a new cool-down. */
  failure(url: string): void;
  /** The attempt ended without a verdict on the remote (the exchange was aborted): a half-open trial slot is freed. */
  release(url: string): void;
  /** The circuit's state now (for logs and tests). */
  state(url: string): CircuitState;
  /** Every URL that has failed at least once, with its state now (the `vouch_forwarding_circuit_state` gauge). */
  states(): Iterable<readonly [url: string, state: CircuitState]>;
}

interface Circuit {
  failures: number;
  /** When the circuit opened (ms since the epoch), or undefined while closed. */
  openedAt: number | undefined;
  trialInFlight: boolean;
}

/**
 * Per-URL circuit breakers. URLs are few (configured tables, certificates' AIA, allowed service
 * locators), so circuits are kept for the life of the responder.
 */
export function circuitBreakers(options: CircuitBreakerOptions): CircuitBreakers {
  const { failureThreshold, coolDownMs, clock, onChange } = options;
  if (!Number.isSafeInteger(failureThreshold) || failureThreshold < 1) throw new RangeError("failureThreshold must be a positive integer");
  const circuits = new Map<string, Circuit>();
  const circuitOf = (url: string): Circuit => {
    let circuit = circuits.get(url);
    if (circuit === undefined) {
      circuit = { failures: 0, openedAt: undefined, trialInFlight: false };
      circuits.set(url, circuit);
    }
    return circuit;
  };
  const stateOf = (circuit: Circuit | undefined): CircuitState => {
    if (circuit?.openedAt === undefined) return "closed";
    if (circuit.trialInFlight || clock.now() - circuit.openedAt >= coolDownMs) return "half-open";
    return "open";
  };
  return {
    admit(url) {
      const circuit = circuits.get(url);
      const state = stateOf(circuit);
      if (state === "closed") return true;
      if (state === "open" || circuit!.trialInFlight) return false;
      circuit!.trialInFlight = true;
      return true;
    },
    success(url) {
      const circuit = circuits.get(url);
      if (circuit === undefined) return;
      if (circuit.openedAt !== undefined) onChange?.(url, "closed", circuit.failures);
      circuit.failures = 0;
      circuit.openedAt = undefined;
      circuit.trialInFlight = false;
    },
    failure(url) {
      const circuit = circuitOf(url);
      circuit.failures++;
      if (circuit.trialInFlight || circuit.failures >= failureThreshold) {
        // A failed trial reopens an open circuit: only the first opening is news.
        if (circuit.openedAt === undefined) onChange?.(url, "opened", circuit.failures);
        circuit.openedAt = clock.now();
        circuit.trialInFlight = false;
      }
    },
    release(url) {
      const circuit = circuits.get(url);
      if (circuit !== undefined) circuit.trialInFlight = false;
    },
    state(url) {
      return stateOf(circuits.get(url));
    },
    *states() {
      for (const [url, circuit] of circuits) yield [url, stateOf(circuit)] as const;
    },
  };
}

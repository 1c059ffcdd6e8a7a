/**
 * A layer that counts what a signer does (STYLE convention 9): `vouch_signer_results_total`,
 * labelled by `result` (`signed` or `error`).
 */
import type { VouchMetrics } from "../observability/metrics.ts";
import type { Signer } from "./signer.ts";

export interface MeteredSignerOptions {
  readonly metrics: VouchMetrics;
  /** Label `responder`. */
  readonly responder: string;
  /** Label `issuer`: the issuer this signer signs for. */
  readonly issuer: string;
}

/**
 * Wraps `inner`: each `sign` is counted as `signed` when it resolves and `error` when it rejects
 * (the rejection is passed on unchanged). Certificate and algorithms are `inner`'s.
 */
export function meteredSigner(inner: Signer, options: MeteredSignerOptions): Signer {
  const { metrics, responder, issuer } = options;
  const signed = metrics.signerResults.child({ responder, issuer, result: "signed" });
  const failed = metrics.signerResults.child({ responder, issuer, result: "error" });
  return {
    certificate: inner.certificate,
    algorithms: inner.algorithms,
    sign(tbs, algorithm) {
      let pending: Promise<Buffer>;
      try {
        pending = inner.sign(tbs, algorithm);
      } catch (error) {
        failed.inc();
        return Promise.reject(error as Error);
      }
      return pending.then(
        (signature) => {
          signed.inc();
          return signature;
        },
        (error: unknown) => {
          failed.inc();
          throw error;
        },
      );
    },
  };
}

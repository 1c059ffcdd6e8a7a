/**
 * A layer that counts what a signer does (STYLE convention 9): `vouch_signer_results_total`,
 * labelled by `result` (`signed` or `error`).
 */
import { isPromise, type Awaitable } from "../awaitable.ts";
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
 * Wraps `inner`: each `sign` is counted as `signed` when it returns or resolves and `error` when it
 * throws or rejects (the error is passed on unchanged). Certificate and algorithms are `inner`'s.
 */
export function meteredSigner(inner: Signer, options: MeteredSignerOptions): Signer {
  const { metrics, responder, issuer } = options;
  const signed = metrics.signerResults.child({ responder, issuer, result: "signed" });
  const failed = metrics.signerResults.child({ responder, issuer, result: "error" });
  return {
    certificate: inner.certificate,
    algorithms: inner.algorithms,
    sign(tbs, algorithm) {
      let result: Awaitable<Buffer>;
      try {
        result = inner.sign(tbs, algorithm);
      } catch (error) {
        failed.inc();
        throw error;
      }
      if (!isPromise(result)) {
        signed.inc();
        return result;
      }
      return result.then(
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

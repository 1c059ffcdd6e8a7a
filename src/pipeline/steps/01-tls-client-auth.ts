import type { Step } from "../step.ts";

/**
 * SPEC step 1: TLS client authentication. The check itself runs during the handshake, in the HTTPS
 * listener (http/tls-client-auth.ts), because a client whose certificate fails the validation
 * process must be disconnected before any HTTP is answered. By the time a request reaches this step
 * its TLS certificate, if any, is authenticated; the step records it for authorization and billing.
 */
export function tlsClientAuthStep(): Step {
  return {
    name: "tls-client-auth",
    run(exchange) {
      if (exchange.tlsClient !== undefined) exchange.authenticated.push(exchange.tlsClient);
    },
  };
}

import { UnauthorizedError } from "../../errors.ts";
import type { Step } from "../step.ts";

/** Decides whether a subject (Name DER) is on the name match table. */
export interface NameMatcher {
  matches(subjectDer: Buffer): boolean;
}

export type AuthorizationOptions =
  | { readonly method: "byauthentication" }
  | { readonly method: "byname"; readonly names: NameMatcher };

/**
 * SPEC step 4: authorization. byauthentication grants when step 1 or 3 authenticated a certificate;
 * byname when the subject of one of them matches the name match table: either identity suffices
 * (an OR), and an identity that failed authentication never got here (step 1 closes the connection,
 * step 3 refuses the request). Else UnauthorizedError. When it grants, `exchange.authorizedBy` names
 * every identity that satisfies the method on its own, for billing.
 */
export function authorizationStep(options: AuthorizationOptions): Step {
  return {
    name: "authorization",
    run(exchange) {
      if (exchange.authenticated.length === 0) {
        throw new UnauthorizedError("no authenticated client certificate or request signature");
      }
      let tls = false;
      let signature = false;
      for (const certificate of exchange.authenticated) {
        if (options.method === "byname" && !options.names.matches(certificate.subjectDer)) continue;
        if (certificate.via === "tls") tls = true;
        else signature = true;
      }
      if (!tls && !signature) {
        throw new UnauthorizedError(`no authenticated subject is on the name match table (${exchange.authenticated.map((c) => c.subject).join("; ")})`);
      }
      exchange.authorizedBy = tls && signature ? "both" : tls ? "tls" : "signature";
    },
  };
}

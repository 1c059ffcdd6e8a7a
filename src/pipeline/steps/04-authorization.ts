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
 * byname when the subject of one of them matches the name match table. Else UnauthorizedError.
 */
export function authorizationStep(options: AuthorizationOptions): Step {
  return {
    name: "authorization",
    run(exchange) {
      if (exchange.authenticated.length === 0) {
        throw new UnauthorizedError("no authenticated client certificate or request signature");
      }
      if (options.method === "byname" && !exchange.authenticated.some((certificate) => options.names.matches(certificate.subjectDer))) {
        throw new UnauthorizedError(`no authenticated subject is on the name match table (${exchange.authenticated.map((c) => c.subject).join("; ")})`);
      }
    },
  };
}

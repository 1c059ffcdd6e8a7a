import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UnauthorizedError } from "../../errors.ts";
import { createExchange, type AuthenticatedCertificate, type Exchange } from "../exchange.ts";
import { authorizationStep, type NameMatcher } from "./04-authorization.ts";

/** An authenticated identity; its "subject DER" is just its name's bytes, which the matcher below compares. */
function identity(via: "tls" | "signature", subject: string): AuthenticatedCertificate {
  return { via, certificate: Buffer.from(subject), subjectDer: Buffer.from(subject), subject };
}

/** A name match table listing exactly `subjects`. */
function table(...subjects: string[]): NameMatcher {
  return { matches: (subjectDer) => subjects.includes(subjectDer.toString()) };
}

function exchangeWith(...authenticated: AuthenticatedCertificate[]): Exchange {
  const exchange = createExchange({ received: Buffer.alloc(0), method: "POST", clientAddress: "192.0.2.1", ifNoneMatch: undefined, signal: new AbortController().signal, startedAt: 0 });
  exchange.authenticated.push(...authenticated);
  return exchange;
}

const TLS = identity("tls", "CN=tls client");
const SIGNER = identity("signature", "CN=signer");

describe("authorization (SPEC step 4) records which identity granted", () => {
  const cases: [string, Parameters<typeof authorizationStep>[0], AuthenticatedCertificate[], Exchange["authorizedBy"] | "refused"][] = [
    ["byauthentication, TLS only", { method: "byauthentication" }, [TLS], "tls"],
    ["byauthentication, signer only", { method: "byauthentication" }, [SIGNER], "signature"],
    ["byauthentication, both", { method: "byauthentication" }, [TLS, SIGNER], "both"],
    ["byname, the table lists the signer: the TLS client adds nothing", { method: "byname", names: table("CN=signer") }, [TLS, SIGNER], "signature"],
    ["byname, the table lists the TLS client: the signer adds nothing", { method: "byname", names: table("CN=tls client") }, [TLS, SIGNER], "tls"],
    ["byname, the table lists both", { method: "byname", names: table("CN=tls client", "CN=signer") }, [TLS, SIGNER], "both"],
    ["byname, the table lists neither", { method: "byname", names: table("CN=someone else") }, [TLS, SIGNER], "refused"],
    ["nothing authenticated", { method: "byauthentication" }, [], "refused"],
  ];
  for (const [name, options, authenticated, expected] of cases) {
    test(`${name} → ${expected}`, async () => {
      const exchange = exchangeWith(...authenticated);
      const step = authorizationStep(options);
      if (expected === "refused") {
        assert.throws(() => step.run(exchange), UnauthorizedError);
        assert.equal(exchange.authorizedBy, undefined);
      } else {
        await step.run(exchange);
        assert.equal(exchange.authorizedBy, expected);
      }
    });
  }
});

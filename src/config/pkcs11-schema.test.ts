import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { parseConfig } from "./load.ts";

function withSigner(signer: string): string {
  return `responders:
  - name: hsm
    listen: { port: 0 }
    issuers:
      - certificate: ca.pem
        signer: ${signer}
        sources: [{ type: index, file: index.txt }]
`;
}

function signerOf(text: string) {
  return parseConfig(text, "/etc/vouch/vouch.yaml").responders[0]!.issuers[0]!.signer!;
}

describe("signer.pkcs11 configuration", () => {
  test("a token key with a PIN file: defaults filled in, the PIN file and a module path resolved against the configuration's folder", () => {
    const signer = signerOf(withSigner("{ pkcs11: { module: lib/softhsm.so, token: ocsp, key: signer, pin: { file: pin.txt } } }"));
    assert.equal(signer.key, undefined);
    assert.deepEqual(signer.pkcs11, { module: "/etc/vouch/lib/softhsm.so", token: "ocsp", key: "signer", pin: { file: "/etc/vouch/pin.txt" }, sessions: 4, retryInterval: 1000 });
  });

  test("a bare library name is left to the system loader; the key may be named by id alone; the PIN may come from the environment", () => {
    const signer = signerOf(withSigner("{ pkcs11: { module: libsofthsm2.so, token: ocsp, id: a1B2, pin: { env: VOUCH_PIN }, sessions: 8, retryInterval: PT5S } }"));
    assert.deepEqual(signer.pkcs11, { module: "libsofthsm2.so", token: "ocsp", id: "a1B2", pin: { env: "VOUCH_PIN" }, sessions: 8, retryInterval: 5000 });
  });

  const refused: [name: string, signer: string, field: string, message: RegExp][] = [
    ["both key and pkcs11", "{ key: k.pem, pkcs11: { module: m.so, token: t, key: k, pin: { env: P } } }", "responders[0].issuers[0].signer.key", /set exactly one of key \(a key file\), pkcs11 \(a key on a token\) or directory/],
    ["neither key nor pkcs11", "{ rsaPadding: pss }", "responders[0].issuers[0].signer.key", /set exactly one of key/],
    ["a PIN in the file", "{ pkcs11: { module: m.so, token: t, key: k, pin: '1234' } }", "responders[0].issuers[0].signer.pkcs11.pin", /never written in the configuration: it must come from a file \(pin: \{ file: FILE \}\) or an environment variable/],
    ["a PIN as a number", "{ pkcs11: { module: m.so, token: t, key: k, pin: 1234 } }", "responders[0].issuers[0].signer.pkcs11.pin", /must come from a file .* or an environment variable/],
    ["both PIN file and variable", "{ pkcs11: { module: m.so, token: t, key: k, pin: { file: p, env: P } } }", "responders[0].issuers[0].signer.pkcs11.pin", /set exactly one of file or env/],
    ["no key label or id", "{ pkcs11: { module: m.so, token: t, pin: { env: P } } }", "responders[0].issuers[0].signer.pkcs11.key", /key \(its label\) and\/or id/],
    ["an id that is not hex", "{ pkcs11: { module: m.so, token: t, id: xyz, pin: { env: P } } }", "responders[0].issuers[0].signer.pkcs11.id", /hex octets/],
    ["a token label over 32 octets", `{ pkcs11: { module: m.so, token: ${"t".repeat(33)}, key: k, pin: { env: P } } }`, "responders[0].issuers[0].signer.pkcs11.token", /at most 32 octets/],
    ["a slot ID instead of a label", "{ pkcs11: { module: m.so, token: t, slotId: 580746144, key: k, pin: { env: P } } }", "responders[0].issuers[0].signer.pkcs11", /unknown field "slotId"/],
  ];
  for (const [name, signer, field, message] of refused) {
    test(`refused: ${name}`, () => {
      assert.throws(() => signerOf(withSigner(signer)), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.field, field);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

import assert from "node:assert/strict";
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ConfigError } from "../../errors.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import { bitString, boolean, enumerated, explicit, generalizedTime, integer, octetString, oid, sequence, tlv } from "../../ocsp/der-writer.ts";
import { ecdsa_with_SHA256, id_ce_certificateIssuer, id_ce_cRLNumber, id_ce_cRLReasons, id_ce_invalidityDate } from "../../ocsp/oids.ts";
import { pkiSuite, type PkiSuite } from "../test-support/pki-suite.ts";
import { crlIssuer, loadCrlFile, type CrlIssuer } from "./crl-load.ts";

const DAY = 86_400_000;
/** Whole seconds: CRL times carry no fraction. */
const NOW = Math.floor(Date.now() / 1000) * 1000;

/** UTCTime of `ms` (YYMMDDHHMMSSZ). */
function utc(ms: number): Buffer {
  return tlv(0x17, Buffer.from(`${new Date(ms).toISOString().replace(/[-:T]/g, "").slice(2, 14)}Z`, "latin1"));
}

function extension(id: string, value: Buffer, critical = false): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** What one hand-built entry should read back as. */
interface Expected {
  readonly serial: Buffer;
  readonly revokedAt: number;
  readonly reason: string | undefined;
  readonly invalidityDate: number | undefined;
}

describe("loadCrlFile (on its loading thread)", () => {
  let suite: PkiSuite;
  let dir: string, issuerDer: Buffer, issuer: CrlIssuer, key: KeyObject;
  before(async () => {
    ({ dir, issuer: issuerDer } = suite = await pkiSuite("vouch-crl-load-", { below: "pki", caKeyType: "ecdsa-p256" }));
    issuer = crlIssuer(issuerDer);
    key = createPrivateKey(await readFile(suite.pki.caKey));
  });
  after(() => suite.remove());

  /** A CRL of `entries` signed by the CA (or with its signature's last octet flipped), written to a file. */
  async function crlFile(name: string, entries: readonly Buffer[], options: { flipSignature?: boolean } = {}): Promise<string> {
    const algorithm = sequence(oid(ecdsa_with_SHA256));
    const tbs = sequence(
      integer(1),
      algorithm,
      certificateFields(issuerDer).subjectDer,
      utc(NOW - DAY),
      utc(NOW + 7 * DAY),
      tlv(0x30, ...entries),
      explicit(0, sequence(extension(id_ce_cRLNumber, integer(7)))),
    );
    const signature = sign("sha256", tbs, key);
    if (options.flipSignature === true) signature[signature.length - 1]! ^= 0x01;
    const file = join(dir, name);
    await writeFile(file, sequence(tbs, algorithm, bitString(signature)));
    return file;
  }

  test("reads every entry shape alike: plain, reasonCode (also critical), invalidityDate, GeneralizedTime, long forms, padded serials, dates that change", async () => {
    const expected: Expected[] = [];
    const entries: Buffer[] = [];
    const add = (serial: Buffer, date: Buffer, revokedAt: number, extensions: Buffer[], reason?: string, invalidityDate?: number): void => {
      entries.push(sequence(tlv(0x02, serial), date, ...(extensions.length > 0 ? [sequence(...extensions)] : [])));
      // The only padded serials below have one redundant leading zero.
      const minimal = serial[0] === 0x00 && (serial[1] ?? 0) < 0x80 ? serial.subarray(1) : serial;
      expected.push({ serial: minimal, revokedAt, reason, invalidityDate });
    };
    for (let i = 0; i < 3000; i++) {
      const serial = Buffer.alloc(16);
      serial.writeUInt32BE(0x40000000 + i, 0);
      serial.writeUInt32BE(i * 2654435761 >>> 0, 12);
      // Runs of equal dates, then a new one: the walk keeps the last date it read.
      const revokedAt = NOW - DAY - Math.floor(i / 7) * 1000;
      switch (i % 8) {
        case 0:
          add(serial, utc(revokedAt), revokedAt, []);
          break;
        case 1:
          add(serial, utc(revokedAt), revokedAt, [extension(id_ce_cRLReasons, enumerated(1))], "keyCompromise");
          break;
        case 2:
          add(serial, utc(revokedAt), revokedAt, [extension(id_ce_cRLReasons, enumerated(6), true)], "certificateHold");
          break;
        case 3:
          add(serial, utc(revokedAt), revokedAt, [extension(id_ce_cRLReasons, enumerated(4)), extension(id_ce_invalidityDate, generalizedTime(new Date(revokedAt - DAY)))], "superseded", revokedAt - DAY);
          break;
        case 4:
          add(serial, generalizedTime(new Date(revokedAt)), revokedAt, [extension(id_ce_cRLReasons, enumerated(8))], "removeFromCRL");
          break;
        case 5: {
          // 130 octets: the entry needs a long-form length.
          const long = Buffer.concat([serial, Buffer.alloc(114, i & 0xff)]);
          add(long, utc(revokedAt), revokedAt, [extension(id_ce_cRLReasons, enumerated(0))], "unspecified");
          break;
        }
        case 6:
          // A serial with a redundant leading zero: filed under its minimal octets.
          add(Buffer.concat([Buffer.of(0x00), serial]), utc(revokedAt), revokedAt, [extension(id_ce_cRLReasons, enumerated(5))], "cessationOfOperation");
          break;
        default:
          add(serial, utc(revokedAt), revokedAt, [extension(id_ce_cRLReasons, enumerated(3)), extension(id_ce_cRLReasons, enumerated(2))], "cACompromise");
      }
    }
    const crl = await loadCrlFile(await crlFile("shapes.crl", entries), "files[0]", issuer, NOW);
    assert.equal(crl.entries.size, expected.length);
    assert.equal(crl.crlNumber, 7n);
    assert.equal(crl.thisUpdate, NOW - DAY);
    assert.equal(crl.nextUpdate, NOW + 7 * DAY);
    for (const [i, want] of expected.entries()) {
      const record = crl.entries.lookup(want.serial);
      assert.deepEqual(record, { revokedAt: want.revokedAt, reason: want.reason, invalidityDate: want.invalidityDate }, `entry ${i}`);
    }
    assert.equal(crl.entries.lookup(Buffer.of(0x7f, 0x01)), undefined);
  });

  /** Expects the load to reject with ConfigError(files[0]) naming the file, its message matching `problem`. */
  const rejectsWith = async (file: string, problem: RegExp): Promise<void> => {
    await assert.rejects(loadCrlFile(file, "files[0]", issuer, NOW), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.field, "files[0]");
      assert.equal(error.file, file);
      assert.match(error.message, problem);
      return true;
    });
  };

  const plain = (n: number): Buffer => sequence(integer(n), utc(NOW - DAY));

  test("refuses an entry with reason code 7, naming the entry", async () => {
    await rejectsWith(await crlFile("reason7.crl", [plain(1), plain(2), sequence(integer(3), utc(NOW - DAY), sequence(extension(id_ce_cRLReasons, enumerated(7))))]), /revokedCertificates\[2\]\.reasonCode: not a CRLReason/);
  });

  test("refuses an indirect CRL's certificateIssuer entry extension", async () => {
    await rejectsWith(await crlFile("indirect.crl", [sequence(integer(3), utc(NOW - DAY), sequence(extension(id_ce_certificateIssuer, sequence())))]), /revokedCertificates\[0\]: certificateIssuer entry extension/);
  });

  test("refuses an entry whose time is not a valid date", async () => {
    const bad = tlv(0x17, Buffer.from("261332000000Z", "latin1"));
    await rejectsWith(await crlFile("date.crl", [plain(1), sequence(integer(2), bad)]), /revokedCertificates\[1\]\.revocationDate: invalid time/);
  });

  test("refuses an entry that runs past the list, naming where", async () => {
    // The last entry claims two more octets than the list holds.
    const last = Buffer.from(plain(9));
    last[1]! += 2;
    await rejectsWith(await crlFile("overrun.crl", [plain(1), last]), /in revokedCertificates\[1\]: SEQUENCE of \d+ octets runs past the end/);
  });

  test("reports a bad signature before any fault in the entries", async () => {
    await rejectsWith(await crlFile("both.crl", [sequence(integer(3), utc(NOW - DAY), sequence(extension(id_ce_cRLReasons, enumerated(7))))], { flipSignature: true }), /signature does not verify/);
  });

  test("refuses a file that cannot be read, and a file cut short", async () => {
    await rejectsWith(join(dir, "missing.crl"), /cannot read: .*ENOENT/);
    const whole = await readFile(await crlFile("whole.crl", [plain(1), plain(2)]));
    const cut = join(dir, "cut.crl");
    await writeFile(cut, whole.subarray(0, whole.length - 20));
    await rejectsWith(cut, /in CertificateList: SEQUENCE of \d+ octets runs past the end/);
  });

  test("stops loading when its signal aborts", async () => {
    const file = await crlFile("abort.crl", [plain(1)]);
    const aborter = new AbortController();
    const loading = loadCrlFile(file, "files[0]", issuer, NOW, aborter.signal);
    aborter.abort();
    await assert.rejects(loading, (error: unknown) => error instanceof ConfigError && /cancelled/.test(error.message));
    aborter.abort();
    await assert.rejects(loadCrlFile(file, "files[0]", issuer, NOW, aborter.signal), /cancelled/);
  });
});

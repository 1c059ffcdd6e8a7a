/**
 * A CRL too big to be read on the serving thread, fetched over HTTP from a real server on loopback:
 * the loading threads download it and walk its entries as they arrive (crl-jobs.ts,
 * crl-arriving.ts). Whatever arrives, nothing is held (so nothing answers) before the whole CRL
 * passed every check, and a refused or broken download leaves nothing in the state folder.
 */
import assert from "node:assert/strict";
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { systemClock } from "../../../clock.ts";
import { recordingLogger, silentLogger, type Logger } from "../../../observability/logger.ts";
import { certificateFields } from "../../../ocsp/certificate-fields.ts";
import { bitString, enumerated, explicit, integer, octetString, oid, sequence, tlv } from "../../../ocsp/der-writer.ts";
import { ecdsa_with_SHA256, id_ce_cRLNumber, id_ce_cRLReasons } from "../../../ocsp/oids.ts";
import { pkiSuite, type PkiSuite } from "../../test-support/pki-suite.ts";
import { crlIssuer, READ_HERE_BYTES, type CrlIssuer } from "../crl-load.ts";
import { UrlFeed } from "./url-feed.ts";

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 1000) * 1000;
const ENTRIES = 6000;
const SCHEDULE = { marginMs: 60_000, maxIntervalMs: 3_600_000, retryFirstMs: 1_000, retryMaxMs: 60_000 };

function utc(ms: number): Buffer {
  return tlv(0x17, Buffer.from(`${new Date(ms).toISOString().replace(/[-:T]/g, "").slice(2, 14)}Z`, "latin1"));
}

/** The serial of entry i (16 octets, never sign-padded). */
function serialOf(i: number): Buffer {
  const serial = Buffer.alloc(16);
  serial.writeUInt32BE(0x40000000 + i, 0);
  serial.writeUInt32BE((i * 2654435761) >>> 0, 12);
  return serial;
}

/** How the server answers one GET: the bytes, and how it sends them. */
interface Answer {
  readonly body: Buffer;
  /** Content-Length sent (default: the body's); `null`: none (chunked). */
  readonly declared?: number | null;
  /** Send only this many octets, then cut the connection. */
  readonly cutAfter?: number;
  /** Send in pieces of this size with a pause between (default: at once). */
  readonly piece?: number;
  /** Send only this many octets, then neither end nor cut the connection. */
  readonly stallAfter?: number;
}

describe("a CRL over HTTP too big for the serving thread", () => {
  let suite: PkiSuite;
  let issuerDer: Buffer, issuer: CrlIssuer, key: KeyObject;
  let server: Server;
  let url: string;
  /** What each GET is answered with, in turn (the last one repeats). */
  let answers: Answer[] = [];
  let gets = 0;
  let folders = 0;

  before(async () => {
    ({ issuer: issuerDer } = suite = await pkiSuite("vouch-url-feed-large-", { below: "pki", caKeyType: "ecdsa-p256" }));
    issuer = crlIssuer(issuerDer);
    key = createPrivateKey(await readFile(suite.pki.caKey));
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const answer = answers[Math.min(gets++, answers.length - 1)]!;
      void send(answer, response);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ca.crl`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await suite.remove();
  });

  async function send(answer: Answer, response: ServerResponse): Promise<void> {
    const declared = answer.declared === undefined ? answer.body.length : answer.declared;
    response.writeHead(200, { "content-type": "application/pkix-crl", ...(declared === null ? {} : { "content-length": declared }) });
    const end = answer.cutAfter ?? answer.stallAfter ?? answer.body.length;
    const piece = answer.piece ?? end;
    for (let at = 0; at < end; at += piece) {
      response.write(answer.body.subarray(at, Math.min(end, at + piece)));
      if (piece < end) await new Promise((done) => setTimeout(done, 2));
    }
    if (answer.cutAfter !== undefined) response.destroy();
    else if (answer.stallAfter === undefined) response.end();
  }

  /** A CRL of ENTRIES entries numbered `number`, signed by the CA (or with its signature's last octet flipped). */
  function crl(number: number, options: { flipSignature?: boolean; thisUpdate?: number; badReasonAt?: number; entries?: number } = {}): Buffer {
    const algorithm = sequence(oid(ecdsa_with_SHA256));
    const entries: Buffer[] = [];
    for (let i = 0; i < (options.entries ?? ENTRIES); i++) {
      // Reason code 7 does not exist: an entry fault.
      const code = i === options.badReasonAt ? 7 : 1;
      const reason = i % 3 === 0 ? [] : [sequence(sequence(oid(id_ce_cRLReasons), octetString(enumerated(code))))];
      entries.push(sequence(tlv(0x02, serialOf(i)), utc(NOW - DAY), ...reason));
    }
    const thisUpdate = options.thisUpdate ?? NOW - DAY + number * 1000;
    const tbs = sequence(integer(1), algorithm, certificateFields(issuerDer).subjectDer, utc(thisUpdate), utc(NOW + 7 * DAY), tlv(0x30, ...entries), explicit(0, sequence(sequence(oid(id_ce_cRLNumber), octetString(integer(number))))));
    const signature = sign("sha256", tbs, key);
    if (options.flipSignature === true) signature[signature.length - 1]! ^= 0x01;
    const der = sequence(tbs, algorithm, bitString(signature));
    assert.ok(der.length > READ_HERE_BYTES, "the CRL must be too big for the serving thread");
    return der;
  }

  async function feed(maxBytes = 64 * 1024 * 1024, logger: Logger = silentLogger, timeoutMs = 20_000): Promise<{ feed: UrlFeed; stateFolder: string }> {
    const stateFolder = join(suite.dir, `state-${folders++}`);
    await mkdir(stateFolder);
    gets = 0;
    return { feed: new UrlFeed({ url, field: "urls[0]", issuer, stateFolder, schedule: SCHEDULE, limits: { timeoutMs, maxBytes }, clock: systemClock, logger }), stateFolder };
  }

  const partFiles = async (stateFolder: string): Promise<string[]> => (await readdir(stateFolder)).filter((name) => name.endsWith(".part"));

  const revoked = (held: UrlFeed, i: number): boolean => held.crl?.entries.lookup(serialOf(i))?.revokedAt !== undefined;

  test("one that arrives in pieces is walked as it comes, answers for every entry once checked, and is kept as the last good CRL", async () => {
    const body = crl(7);
    answers = [{ body, piece: 16 * 1024 }];
    const { feed: held, stateFolder } = await feed();
    await held.start();
    assert.equal(held.state.lastResult, "new");
    assert.equal(held.crl?.crlNumber, 7n);
    assert.equal(held.crl?.entries.size, ENTRIES);
    for (const i of [0, 1, 2, ENTRIES / 2, ENTRIES - 1]) assert.ok(revoked(held, i), `entry ${i}`);
    assert.deepEqual(held.crl?.entries.lookup(serialOf(1)), { revokedAt: NOW - DAY, reason: "keyCompromise", invalidityDate: undefined });
    assert.equal(revoked(held, ENTRIES), false);
    assert.equal(gets, 2, "asked once on the serving thread, fetched once by the loading thread");
    assert.deepEqual(await readFile(UrlFeed.keptCrlFile(stateFolder, url)), body);
    assert.deepEqual((await readdir(stateFolder)).filter((name) => name.endsWith(".part")), []);

    // The same bytes again (a server without validators): not parsed, not replaced.
    const before = held.crl;
    await held.fetch();
    assert.equal(held.state.lastResult, "unchanged");
    assert.equal(held.crl, before);

    // The next CRL replaces it; the one before that comes back and is refused as a rollback.
    answers = [{ body: crl(8) }];
    gets = 0;
    assert.equal(await held.fetch(), true);
    assert.equal(held.crl?.crlNumber, 8n);
    assert.ok(revoked(held, ENTRIES - 1));
    answers = [{ body }];
    gets = 0;
    assert.equal(await held.fetch(), false);
    assert.equal(held.state.lastResult, "rolled-back");
    assert.equal(held.crl?.crlNumber, 8n);
    await held.close();
  });

  test("one with a bad signature is refused after its entries were walked: nothing is held, nothing kept", async () => {
    answers = [{ body: crl(7, { flipSignature: true }), piece: 32 * 1024 }];
    const { feed: refused, stateFolder } = await feed();
    await refused.start();
    assert.equal(refused.state.lastResult, "refused");
    assert.equal(refused.crl, undefined);
    assert.deepEqual(await readdir(stateFolder), []);
    await refused.close();
  });

  test("faults are reported in a file's order: a bad signature before a bad entry, a bad entry once the signature verifies", async () => {
    const problems = async (body: Buffer): Promise<unknown[]> => {
      answers = [{ body, piece: 32 * 1024 }];
      const logger = recordingLogger();
      const { feed: refused } = await feed(undefined, logger);
      await refused.start();
      assert.equal(refused.state.lastResult, "refused");
      assert.equal(refused.crl, undefined);
      await refused.close();
      return logger.records.filter((record) => record.level === "warn").map((record) => record.fields.problem);
    };
    const [both] = await problems(crl(7, { flipSignature: true, badReasonAt: 100 }));
    assert.match(String(both), /signature does not verify/);
    const [entry] = await problems(crl(7, { badReasonAt: 100 }));
    assert.match(String(entry), /revokedCertificates\[100\]\.reasonCode: not a CRLReason/);
  });

  test("a server that dies mid-body: the fetch failed, nothing is held (or the CRL held stays), no part file is left", async () => {
    const body = crl(7);
    answers = [{ body }, { body, cutAfter: Math.floor(body.length / 2), piece: 16 * 1024 }];
    const { feed: broken, stateFolder } = await feed();
    await broken.start();
    assert.equal(broken.state.lastResult, "failed");
    assert.equal(broken.crl, undefined);
    assert.deepEqual(await readdir(stateFolder), []);

    // With a CRL held, it stays.
    answers = [{ body }];
    assert.equal(await broken.fetch(), true);
    const next = crl(8);
    answers = [{ body: next }, { body: next, cutAfter: Math.floor(next.length / 2), piece: 16 * 1024 }];
    gets = 0;
    assert.equal(await broken.fetch(), false);
    assert.equal(broken.state.lastResult, "failed");
    assert.equal(gets, 2);
    assert.equal(broken.state.crlNumber, 7n);
    assert.deepEqual(await partFiles(stateFolder), []);
    await broken.close();
  });

  test("a server that stalls mid-body: the fetch fails at its time limit, the loading threads stop, no part file is left", async () => {
    const body = crl(7);
    answers = [{ body }, { body, stallAfter: Math.floor(body.length / 2), piece: 16 * 1024 }];
    const logger = recordingLogger();
    const { feed: stalled, stateFolder } = await feed(undefined, logger, 1_000);
    const started = Date.now();
    await stalled.start();
    assert.ok(Date.now() - started < 10_000, "the fetch ended soon after its time limit");
    assert.equal(stalled.state.lastResult, "failed");
    assert.equal(stalled.crl, undefined);
    assert.match(String(logger.records.find((record) => record.level === "warn")?.fields.err), /no complete answer within 1000 ms/);
    assert.deepEqual(await readdir(stateFolder), []);
    await stalled.close();
  });

  test("a body larger than the limit: refused when declared so, and cut off when it only turns out so", async () => {
    const body = crl(7);
    answers = [{ body }];
    const declared = await feed(body.length - 1);
    await declared.feed.start();
    assert.equal(declared.feed.state.lastResult, "failed");
    assert.equal(declared.feed.crl, undefined);
    assert.equal(gets, 1, "refused on the declared length, before any loading thread");
    await declared.feed.close();

    // The first answer declares a size within the limit; the loading thread's declares none and runs over it.
    const limit = body.length - 1000;
    answers = [{ body: body.subarray(0, limit - 1) }, { body, declared: null }];
    const undeclared = await feed(limit);
    await undeclared.feed.start();
    assert.equal(undeclared.feed.state.lastResult, "failed");
    assert.equal(undeclared.feed.crl, undefined);
    assert.equal(gets, 2);
    assert.deepEqual(await readdir(undeclared.stateFolder), []);

    // Declaring no size at all, it is read on the serving thread, up to the limit; the CRL held stays.
    answers = [{ body: crl(6, { entries: ENTRIES - 200 }) }];
    assert.equal(await undeclared.feed.fetch(), true);
    answers = [{ body, declared: null }];
    gets = 0;
    assert.equal(await undeclared.feed.fetch(), false);
    assert.equal(undeclared.feed.state.lastResult, "failed");
    assert.equal(undeclared.feed.state.crlNumber, 6n);
    assert.equal(gets, 1);
    assert.deepEqual(await partFiles(undeclared.stateFolder), []);
    await undeclared.feed.close();
  });
});

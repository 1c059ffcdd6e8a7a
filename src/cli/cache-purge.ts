/**
 * `vouch cache purge --config FILE (--all | --issuer CA.pem [--serial HEX]) [--responder NAME]`
 * (issue 14 item 3): the operator's emergency purge of cached responses, from the memory tiers of
 * the running server (through its admin listener's `POST /cache/purge`, which needs
 * `admin.tokenFile`) and from each responder's Redis tier (directly, so that it works with the
 * server down too); then it tells every instance sharing that Redis tier, through its change channel,
 * to drop them from its memory tiers too (the other instances' admin listeners need not be asked). Prints one line per part; resolves with the exit code: 0 when every part
 * worked, 1 when one did not (the line says which). User errors throw ConfigError (exit 2).
 */
import { systemClock } from "../clock.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import { readAdminToken } from "../operations/admin-server.ts";
import { silentLogger } from "../observability/logger.ts";
import { readCertificateFile } from "../certificate-file.ts";
import { purgeScope, type PurgeRequest } from "../responses/cache-purge.ts";
import { issuerTable } from "../responses/issuer-table.ts";
import { changeChannelName, purgeMessage } from "../responses/redis-change-channel.ts";
import { redisResponseCache } from "../responses/redis-response-cache.ts";
import { serialOctetsFromHex } from "../status/serial-key.ts";

export interface CachePurgeOptions {
  readonly config: string;
  readonly all?: boolean | undefined;
  readonly issuer?: string | undefined;
  readonly serial?: string | undefined;
  readonly responder?: string | undefined;
  /** How long to wait for the admin listener and for each Redis, ms. */
  readonly timeoutMs?: number | undefined;
}

export async function runCachePurge(options: CachePurgeOptions, print: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
  if ((options.all === true) === (options.issuer !== undefined)) throw new ConfigError("--issuer", "name what to purge: --all, or --issuer (with --serial for one certificate)");
  if (options.serial !== undefined && options.issuer === undefined) throw new ConfigError("--serial", "a serial needs its --issuer");
  const config = await loadConfig(options.config);
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (options.responder !== undefined && !config.responders.some((responder) => responder.name === options.responder)) {
    throw new ConfigError("--responder", `no responder named "${options.responder}" in ${options.config}`);
  }
  let serial: Buffer | undefined;
  if (options.serial !== undefined) {
    serial = serialOctetsFromHex(options.serial);
    if (serial === undefined) throw new ConfigError("--serial", `"${options.serial}" is not a hexadecimal serial number`);
  }
  const request: PurgeRequest = {
    responder: options.responder,
    issuer: options.issuer === undefined ? undefined : (await readCertificateFile(options.issuer, "--issuer")).toString("base64"),
    serial: serial?.toString("hex"),
  };
  const scope = purgeScope(request);
  let failed = false;

  // The running server's memory tiers (every worker's), through its admin listener.
  const admin = config.admin;
  if (admin?.tokenFile === undefined) {
    print("memory tiers: not purged: the admin listener has no admin.tokenFile, so it serves no /cache/purge");
    failed = true;
  } else {
    const host = admin.listen.host === "0.0.0.0" || admin.listen.host === "::" ? "127.0.0.1" : admin.listen.host;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${admin.listen.port}/cache/purge`;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${await readAdminToken(admin.tokenFile)}`, "content-type": "application/json" },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.trim()}`);
      const answer = JSON.parse(text) as { memory: number; processes: number; workers: number };
      const all = answer.processes === answer.workers;
      print(`memory tiers: ${answer.memory} responses dropped in ${answer.processes} of ${answer.workers} workers (${url})`);
      if (!all) failed = true;
    } catch (error) {
      print(`memory tiers: not purged: ${url}: ${error instanceof Error ? error.message : String(error)}`);
      failed = true;
    }
  }

  // Each responder's Redis tier, directly.
  for (const responder of config.responders) {
    if (options.responder !== undefined && responder.name !== options.responder) continue;
    const redisConfig = responder.responseCache?.redis;
    if (redisConfig === undefined) continue;
    const keyPrefix = redisConfig.keyPrefix ?? `vouch:${responder.name}:`;
    const redis = redisResponseCache({ url: redisConfig.url, keyPrefix, timeoutMs: Math.max(redisConfig.timeout, 1000), logIntervalMs: 60_000, issuers: issuerTable([], "issuers"), clock: systemClock, logger: silentLogger });
    try {
      const deadline = Date.now() + timeoutMs;
      while (redis.status !== "ready" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const deleted = redis.status !== "ready" ? undefined : scope.kind === "everything" ? await redis.evictAll() : await redis.evictChanged(scope.issuer, scope.serials);
      if (deleted === undefined) {
        print(`redis (${responder.name}): not purged: ${redisConfig.url} cannot be reached`);
        failed = true;
      } else {
        print(`redis (${responder.name}): ${deleted} keys deleted under ${keyPrefix}`);
        // Every instance sharing this Redis tier, whichever admin listener was asked, drops them from its memory too.
        const channel = changeChannelName(keyPrefix);
        const told = await redis.publish(channel, purgeMessage({ issuer: request.issuer, serial: request.serial }));
        if (told === undefined) {
          print(`instances (${responder.name}): not told: ${redisConfig.url} cannot be reached`);
          failed = true;
        } else {
          print(`instances (${responder.name}): ${told} workers told through ${channel}`);
        }
      }
    } finally {
      await redis.close();
    }
  }
  return failed ? 1 : 0;
}

/**
 * Change events between instances (issue 14 item 2): every instance sharing a Redis tier (same URL
 * and key prefix) PUBLISHes the changes its own sources saw, naming the issuer and the serials, and
 * SUBSCRIBEs to the others', so that each drops from its memory tiers only what changed and looks
 * at its own sources at once. Redis pub/sub delivers only to connected subscribers: an instance whose
 * subscription was down cannot know what it missed, so when it is back it drops its memory tiers
 * (`onMissed`) and says so in the log. Its own changes that could not be published or deleted from
 * Redis meanwhile are retried then (`onReconnected`).
 *
 * A message is JSON: the publisher's random origin (its own messages are ignored), the issuer's
 * SHA-256 name and key hashes, the changed serials ("<hex of the minimal content octets>:<kind>")
 * or null for "everything", the kind of source and the change time. `vouch cache purge` publishes
 * on the same channel (purgeMessage): `{"origin", "purge": PurgeRequest}`, which every instance
 * applies to its memory tiers and reused answers (the command deleted the Redis keys itself).
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import type { Redis as RedisClient } from "ioredis";
import type { Logger } from "../observability/logger.ts";
import { CHANGE_KINDS, type ChangeKind, type StatusChanges } from "../status/change-events.ts";
import { purgeScope, type PurgeRequest, type PurgeScope } from "./cache-purge.ts";

/** A change another instance saw. */
export interface RemoteChange {
  /** SHA-256 of the issuer's subject Name DER and of its public key (CertID hashes under SHA-256). */
  readonly nameHash: Buffer;
  readonly keyHash: Buffer;
  readonly serials: readonly { readonly serial: Buffer; readonly kind: ChangeKind }[] | "everything";
  readonly source: string;
  readonly changedAt: number;
}

export interface ChangeChannel {
  /** Publishes a change this instance's sources saw; resolves false when Redis could not take it. */
  publish(changes: StatusChanges): Promise<boolean>;
  /** Stops listening. */
  close(): Promise<void>;
}

export interface ChangeChannelOptions {
  readonly url: string;
  /** The channel name (the key prefix followed by "changes"). */
  readonly channel: string;
  /** PUBLISH over the cache's own connection (a subscribed connection cannot publish); resolves with the receivers, undefined when Redis could not take it. */
  publish(channel: string, message: string): Promise<number | undefined>;
  readonly logger: Logger;
  onRemote(change: RemoteChange): void;
  /** `vouch cache purge` asked every instance to drop `scope` from its memory tiers (`request`, as sent). */
  onPurge(scope: PurgeScope, request: PurgeRequest): void;
  /** The subscription was down for a while and is back: changes published meanwhile are unknown. */
  onMissed(downForMs: number): void;
  /** Called after onMissed, and whenever the subscription is back: retry what failed while Redis was away. */
  onReconnected(): void;
}

/** Past this many serials a message says "everything" for the issuer (a message stays under ~0.5 MB). */
const MAX_PUBLISHED_SERIALS = 10_000;

const MAX_RECONNECT_DELAY_MS = 1000;

/** The channel of the instances that share the Redis tier under `keyPrefix`. */
export function changeChannelName(keyPrefix: string): string {
  return `${keyPrefix}changes`;
}

/** What `vouch cache purge` publishes so that every instance drops `request` from its memory tiers. */
export function purgeMessage(request: PurgeRequest): string {
  const { issuer, serial } = request;
  return JSON.stringify({ origin: `purge-${randomBytes(8).toString("hex")}`, purge: { ...(issuer === undefined ? {} : { issuer }), ...(serial === undefined ? {} : { serial }) } });
}

export function redisChangeChannel(options: ChangeChannelOptions): ChangeChannel {
  const { channel, logger } = options;
  const origin = randomBytes(8).toString("hex");
  const { Redis } = createRequire(import.meta.url)("ioredis") as { Redis: typeof RedisClient };
  const subscriber = new Redis(options.url, {
    retryStrategy: (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    maxRetriesPerRequest: null,
  });
  // Errors arrive as events (the cache's outage log already reports Redis being away).
  subscriber.on("error", () => {});
  let subscribedOnce = false;
  let lostAt: number | undefined;
  let closed = false;

  const subscribe = async (): Promise<void> => {
    try {
      await subscriber.subscribe(channel);
    } catch (error) {
      logger.warn({ err: error, channel }, "cannot subscribe to the change channel; retrying when Redis is back");
      return;
    }
    if (lostAt !== undefined && subscribedOnce) {
      const downForMs = Date.now() - lostAt;
      lostAt = undefined;
      options.onMissed(downForMs);
    }
    subscribedOnce = true;
    options.onReconnected();
  };
  subscriber.on("ready", () => void subscribe());
  subscriber.on("close", () => {
    if (!closed && subscribedOnce && lostAt === undefined) lostAt = Date.now();
  });
  subscriber.on("message", (from: string, text: string) => {
    if (from !== channel) return;
    const message = parse(text, origin);
    if (message?.kind === "change") options.onRemote(message.change);
    else if (message?.kind === "purge") options.onPurge(message.scope, message.request);
  });

  return {
    publish(changes) {
      const hashes = changes.issuer.hashes.get("sha256")!;
      const serials = changes.kind === "serials" && changes.serials.size <= MAX_PUBLISHED_SERIALS ? [...changes.serials].map((change) => `${change.serial.toString("hex")}:${change.kind}`) : null;
      const message = JSON.stringify({ origin, nameHash: hashes.nameHash.toString("hex"), keyHash: hashes.keyHash.toString("hex"), serials, source: changes.source, changedAt: changes.changedAt });
      return options.publish(channel, message).then((receivers) => receivers !== undefined);
    },
    async close() {
      closed = true;
      subscriber.disconnect();
    },
  };
}

/** One serial in a message: its minimal content octets in hex, a colon, how it changed. */
const SERIAL_AND_KIND = new RegExp(`^(?:[0-9a-f]{2})+:(?:${CHANGE_KINDS.join("|")})$`);

type Message = { readonly kind: "change"; readonly change: RemoteChange } | { readonly kind: "purge"; readonly scope: PurgeScope; readonly request: PurgeRequest };

/** The change or purge in `text`, or undefined for this instance's own messages and anything malformed. */
function parse(text: string, origin: string): Message | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== "object" || message === null) return undefined;
  const fields = message as Record<string, unknown>;
  if (fields.origin === origin) return undefined;
  if (typeof fields.purge === "object" && fields.purge !== null) {
    const { issuer, serial } = fields.purge as Record<string, unknown>;
    if ((issuer !== undefined && typeof issuer !== "string") || (serial !== undefined && typeof serial !== "string")) return undefined;
    const request: PurgeRequest = { issuer, serial };
    try {
      return { kind: "purge", scope: purgeScope(request), request };
    } catch {
      return undefined;
    }
  }
  if (typeof fields.nameHash !== "string" || typeof fields.keyHash !== "string") return undefined;
  const serials = fields.serials;
  if (serials !== null && !(Array.isArray(serials) && serials.every((serial) => typeof serial === "string" && SERIAL_AND_KIND.test(serial)))) return undefined;
  const change: RemoteChange = {
    nameHash: Buffer.from(fields.nameHash, "hex"),
    keyHash: Buffer.from(fields.keyHash, "hex"),
    serials:
      serials === null
        ? "everything"
        : (serials as string[]).map((entry) => {
            const [serial, kind] = entry.split(":") as [string, ChangeKind];
            return { serial: Buffer.from(serial, "hex"), kind };
          }),
    source: typeof fields.source === "string" ? fields.source : "unknown",
    changedAt: typeof fields.changedAt === "number" ? fields.changedAt : Date.now(),
  };
  return { kind: "change", change };
}

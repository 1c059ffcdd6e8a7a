/** What goes back on the wire for one HTTP request, and whether its head is shared with other replies. */
export interface Reply {
  readonly statusCode: number;
  /** Every header of the reply, content-length included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /**
   * Present when many replies share this status and these headers (error statuses, cache hits, the
   * no-cache headers of a body length): their head is encoded once a second into it and reused
   * (write-reply.ts). Absent: the head is encoded for this reply alone.
   */
  readonly sharedHead: SharedHead | undefined;
}

/**
 * The encoded head of the replies that share one status and one headers object, for the current
 * second (the Date header) and keep-alive timeout; filled by write-reply.ts on first use.
 */
export class SharedHead {
  second = -1;
  keepAliveSeconds = -1;
  keepAlive: Buffer | undefined = undefined;
  close: Buffer | undefined = undefined;
}

/** A reply whose status and headers many replies share: its head is encoded once a second. */
export function sharedReply(statusCode: number, headers: Readonly<Record<string, string>>, body: Buffer): Reply {
  return { statusCode, headers, body, sharedHead: new SharedHead() };
}

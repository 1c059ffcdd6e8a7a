import { z } from "zod";

/**
 * `limits`: load shedding per process (SPEC §7), i.e. per worker with `vouch serve --workers N`.
 * A signature beyond `maxSigningsInFlight` waits; beyond `maxSigningQueue` waiting, the request is
 * answered `tryLater` at once. Defaults: 16 in flight keeps libuv's 4 RSA signing threads and the
 * inline ECDSA path busy; 256 waiting is about 70 ms of RSA-2048 work per process on this machine
 * (~3,700 signatures/s), so a client waits briefly or is told to come back, never for seconds.
 */
export const limitsSchema = z
  .object({
    maxSigningsInFlight: z.number().int().min(1).max(100_000).default(16),
    maxSigningQueue: z.number().int().min(0).max(1_000_000).default(256),
  })
  .strict()
  .prefault({});

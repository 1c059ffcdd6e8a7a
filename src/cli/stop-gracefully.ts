import type { Service } from "../compose/start-service.ts";
import type { Logger } from "../observability/logger.ts";

/**
 * The graceful stop of a serving process: returns `stop(reason)`, which (once; later calls do
 * nothing) stops accepting, lets requests in flight finish with their billing, runs `beforeExit`,
 * then exits 0. Should that take longer than `timeoutMs` (default 60 s), it logs and exits 1.
 */
export function stopGracefully(service: Service, logger: Logger, options: { readonly beforeExit?: () => Promise<void>; readonly timeoutMs?: number } = {}): (reason: string) => void {
  let stopping = false;
  return (reason) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: reason }, "stopping: finishing requests in flight");
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs ?? 60_000 }, "requests still in flight at the stop deadline; exiting");
      process.exit(1);
    }, options.timeoutMs ?? 60_000);
    timer.unref();
    void Promise.all([service.close(), options.beforeExit?.()]).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "stopping failed");
        process.exit(1);
      },
    );
  };
}

import { open, readFile, unlink } from "node:fs/promises";

/**
 * An exclusive lock file (O_CREAT|O_EXCL) in a signer directory, so that one renewal runs at a time
 * however many processes serve it: worker 1 of one service renews, but during a reload the old and
 * the new configuration both exist, and two services may share a directory. A lock older than
 * `staleAfterMs` belonged to a process that died mid-renewal and is taken over.
 * Resolves with the release function, or undefined when another holder has it.
 */
export async function tryLock(file: string, staleAfterMs: number, now: number): Promise<(() => Promise<void>) | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx", 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, at: new Date(now).toISOString() }));
      await handle.close();
      return () => unlink(file).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const at = heldSince(await readFile(file, "utf8").catch(() => ""));
    if (Number.isFinite(at) && now - at < staleAfterMs) return undefined;
    await unlink(file).catch(() => undefined);
  }
  return undefined;
}

/** When the holder took the lock; NaN when the file does not say (it is then stale). */
function heldSince(text: string): number {
  try {
    return Date.parse((JSON.parse(text) as { at?: string }).at ?? "");
  } catch {
    return Number.NaN;
  }
}

import type { MemoryResponseCache } from "./memory-response-cache.ts";
import type { ResponseCache } from "./response-cache.ts";

/**
 * Two tiers as one cache (a layer): `get` asks memory first, then the shared tier, and fills memory
 * with a shared hit (keeping the shared tier's expiry); `put` writes to both (memory at once, the
 * shared tier within its timeout), each keeping a newer response it holds; `close` closes both.
 * Never rejects, like its tiers.
 */
export function tieredResponseCache(memory: MemoryResponseCache, shared: ResponseCache): ResponseCache {
  return {
    peek: (id) => memory.peek(id),
    async get(id) {
      const local = await memory.get(id);
      if (local !== undefined) return local;
      const found = await shared.get(id);
      if (found !== undefined) memory.fill(id, found);
      return found;
    },
    async put(id, response) {
      await Promise.all([memory.put(id, response), shared.put(id, response)]);
    },
    async close() {
      await shared.close();
      await memory.close();
    },
  };
}

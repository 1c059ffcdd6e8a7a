/**
 * Child process of the SIGKILL durability test: writes billing records forever from 32 concurrent
 * loops (like 32 requests in flight) and prints `ack <id>` on stdout after each write resolved, the
 * moment a server would send its response, and `flush <records>` after each batch. Stdout is a pipe,
 * which Node writes synchronously on Linux, so whatever the parent read was printed before the kill.
 *
 *   node crash-writer.ts file <directory>
 *   node crash-writer.ts postgres <table>
 */
import { systemClock } from "../../clock.ts";
import { silentLogger } from "../../observability/logger.ts";
import type { BillingSink } from "../billing-sink.ts";
import { fileBillingSink } from "../file-billing-sink.ts";
import { postgresBillingSink } from "../postgres-billing-sink.ts";
import { contractRecord } from "./contract-records.ts";
import { TEST_DATABASE_URL } from "./postgres.ts";

const [kind, where] = process.argv.slice(2);
if (where === undefined || (kind !== "file" && kind !== "postgres")) throw new Error("usage: crash-writer.ts file|postgres <directory|table>");
const onFlush = (records: number) => process.stdout.write(`flush ${records}\n`);
const sink: BillingSink =
  kind === "file"
    ? fileBillingSink({ directory: where, clock: systemClock, logger: silentLogger, onFlush })
    : await postgresBillingSink({ connectionString: TEST_DATABASE_URL, table: where, clock: systemClock, logger: silentLogger, onFlush });

let next = 0;
async function loop(): Promise<never> {
  for (;;) {
    const id = next++;
    await sink.write(contractRecord(id));
    process.stdout.write(`ack ${id}\n`);
  }
}
await Promise.all(Array.from({ length: 32 }, loop));

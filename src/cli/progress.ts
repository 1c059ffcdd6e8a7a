/**
 * Progress of long `vouch store` work on stderr: a bar redrawn in place on a terminal, a plain
 * line every tenth of the way otherwise (logs, CI), so output stays readable in both.
 */
import { performance } from "node:perf_hooks";

/** Reports `done` of `total`; `finish()` ends the report. */
export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

const WIDTH = 30;

/** 1234567 → "1,234,567" (toLocaleString would load ICU data: ~100 ms on the first call). */
const grouped = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** A Progress for `what` ("importing index.txt") written to `stream` (default stderr). */
export function progress(what: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = performance.now();
  // performance.now() counts from the process start: a report begun in its first 100 ms must still draw at once.
  let lastDraw = -Infinity;
  let lastTenth = -1;
  let drawn = false;
  const rate = (done: number): string => `${grouped(done / Math.max((performance.now() - started) / 1000, 0.001))} rows/s`;
  return {
    update(done, total) {
      const fraction = total > 0 ? Math.min(done / total, 1) : 1;
      if (stream.isTTY === true) {
        const now = performance.now();
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        const filled = Math.round(fraction * WIDTH);
        stream.write(`\r${what} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${grouped(done)}/${grouped(total)} ${rate(done)}   `);
        drawn = true;
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${what}: ${done}/${total} rows (${tenth * 10}%), ${rate(done)}\n`);
      }
    },
    finish() {
      if (drawn) stream.write("\n");
    },
  };
}

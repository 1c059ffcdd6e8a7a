import assert from "node:assert/strict";
import { test } from "node:test";
import { progress } from "./progress.ts";

/** A stream that records what is written; `isTTY` as given. */
function recorder(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

test("on a terminal, progress redraws one bar in place and ends it with a newline", () => {
  const { stream, written } = recorder(true);
  const report = progress("importing index.txt", stream);
  report.update(250_000, 1_000_000);
  report.update(1_000_000, 1_000_000);
  report.finish();
  assert.match(written[0]!, /^\rimporting index\.txt \[#{8}\.{22}\] 25% 250,000\/1,000,000 [\d,]+ rows\/s/);
  assert.match(written.at(-2)!, /^\rimporting index\.txt \[#{30}\] 100% 1,000,000\/1,000,000 /);
  assert.equal(written.at(-1), "\n");
  assert.ok(written.every((text) => !text.slice(0, -1).includes("\n")), "no line breaks inside the bar");
});

test("elsewhere, progress writes a plain line at the start and per tenth of the way, and nothing at the end", () => {
  const { stream, written } = recorder(false);
  const report = progress("importing ca.crl", stream);
  for (let done = 5_000; done <= 100_000; done += 5_000) report.update(done, 100_000);
  report.finish();
  assert.equal(written.length, 11);
  assert.match(written[0]!, /^importing ca\.crl: 5000\/100000 rows \(0%\), [\d,]+ rows\/s\n$/);
  assert.match(written[1]!, /^importing ca\.crl: 10000\/100000 rows \(10%\)/);
  assert.match(written.at(-1)!, /^importing ca\.crl: 100000\/100000 rows \(100%\)/);
});

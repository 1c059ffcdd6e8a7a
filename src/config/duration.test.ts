import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDuration } from "./duration.ts";

test("parseDuration reads the ISO 8601 durations the configuration uses", () => {
  const table: [string, number | undefined][] = [
    ["PT1H", 3_600_000],
    ["PT30M", 1_800_000],
    ["PT0.2S", 200],
    ["P1D", 86_400_000],
    ["P1W", 604_800_000],
    ["P1DT12H", 129_600_000],
    ["PT1H30M5S", 5_405_000],
    ["P", undefined],
    ["PT", undefined],
    ["P1DT", undefined],
    ["1h", undefined],
    ["P1M", undefined],
    ["P1Y", undefined],
    ["-PT1H", undefined],
  ];
  for (const [text, expected] of table) assert.equal(parseDuration(text), expected, text);
});

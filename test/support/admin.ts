/**
 * The admin listener of a real `vouch serve` as tests read it: where it listens (from the log),
 * /metrics parsed, /readyz polled until it says what the test waits for.
 */
import assert from "node:assert/strict";
import { parseSamples, type Sample } from "./prometheus.ts";
import type { VouchProcess } from "./vouch-process.ts";

/** The first log line with message `msg` (log lines are written asynchronously). */
export async function logLine(vouch: VouchProcess, msg: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const record = vouch.logs.find((line) => line.msg === msg);
    if (record !== undefined) return record;
    if (Date.now() > deadline) throw new Error(`no "${msg}" log line`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The admin listener's base URL, from the "admin listening" log line. */
export async function adminUrl(vouch: VouchProcess): Promise<string> {
  return `http://127.0.0.1:${(await logLine(vouch, "admin listening")).port as number}`;
}

export async function scrape(admin: string): Promise<Sample[]> {
  const response = await fetch(`${admin}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseSamples(await response.text());
}

/** Polls /readyz until its HTTP status is `status` (the data reload is asynchronous); returns the last answer. */
export async function readyzUntil(admin: string, status: number): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${admin}/readyz`);
    const answer = { status: response.status, body: await response.text() };
    if (answer.status === status || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls /readyz until `wanted` holds for its answer (15 s at most); returns the last answer. */
export async function readyzWhen(admin: string, wanted: (answer: { status: number; body: string }) => boolean): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${admin}/readyz`);
    const answer = { status: response.status, body: await response.text() };
    if (wanted(answer) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

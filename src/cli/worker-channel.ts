/**
 * A small request/response channel between `vouch serve`'s supervisor and its workers, processes
 * or threads (supervisor-link.ts; structured clone): the supervisor asks every worker the same
 * question by kind and gets the answers of those that replied in time. Metrics and readiness
 * aggregate through it; the supervisor's reload goes through it too (kind "vouch.reload").
 *
 * With one worker there is no supervisor: the process serves by itself, and askWorkers answers
 * from its own handlers, so callers need not know how many processes there are.
 */
import { supervisorLink } from "./supervisor-link.ts";
import type { WorkerHandle } from "./thread-worker.ts";

/** Answers one kind of question in a worker; may be async; the value must survive structured clone. */
export type AskHandler = (payload: unknown) => unknown;

/** What askWorkers may be told besides the kind. */
export interface AskOptions {
  /** Sent to every handler (structured clone). */
  readonly payload?: unknown;
  /** A worker that has not answered by then is left out (default 2000 ms). */
  readonly timeoutMs?: number;
}

interface AskMessage {
  readonly vouch: "ask";
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
}

interface AnswerMessage {
  readonly vouch: "answer";
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

const DEFAULT_TIMEOUT_MS = 2000;
const handlers = new Map<string, AskHandler>();
let listening = false;
let supervised: (() => Iterable<WorkerHandle>) | undefined;
let nextId = 1;

/**
 * Worker side: answers the supervisor's questions of `kind` with `handler` (the last one registered
 * for a kind wins). A handler that throws or rejects gives no answer for this worker.
 */
export function onSupervisorAsk(kind: string, handler: AskHandler): void {
  handlers.set(kind, handler);
  const link = supervisorLink;
  if (listening || link === undefined) return;
  listening = true;
  link.onMessage((message: unknown) => {
    if (!isAsk(message)) return;
    void answer(message.kind, message.payload).then(
      (value) => reply({ vouch: "answer", id: message.id, ok: true, value }),
      (error: unknown) => reply({ vouch: "answer", id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

/**
 * Supervisor side: makes askWorkers ask the processes `workers()` lists at the time of each call
 * (the supervisor calls this once, before it starts any).
 */
export function superviseWorkers(workers: () => Iterable<WorkerHandle>): void {
  supervised = workers;
}

/**
 * Asks every worker; resolves, never rejects, with the answers in worker order. A worker that
 * died, is not connected, has no handler for `kind`, whose handler failed, or that did not answer
 * within the timeout is simply missing. In a process without supervisor: [its own answer], or []
 * under the same conditions.
 */
export async function askWorkers(kind: string, options: AskOptions = {}): Promise<unknown[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (supervised === undefined) {
    const result = await withTimeout(answer(kind, options.payload).then((value) => ({ value })), timeoutMs);
    return result === undefined ? [] : [result.value];
  }
  const questions = [...supervised()].map((child) => askOne(child, kind, options.payload, timeoutMs));
  const answers = await Promise.all(questions);
  return answers.filter((entry) => entry !== undefined).map((entry) => entry.value);
}

/**
 * Supervisor side: asks one worker; resolves with `{ value }`, or undefined under the conditions in
 * which askWorkers leaves a worker out. Never rejects.
 */
export function askWorker(child: WorkerHandle, kind: string, options: AskOptions = {}): Promise<{ value: unknown } | undefined> {
  return askOne(child, kind, options.payload, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

function askOne(child: WorkerHandle, kind: string, payload: unknown, timeoutMs: number): Promise<{ value: unknown } | undefined> {
  if (!child.connected || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(undefined);
  const id = nextId++;
  return new Promise((resolve) => {
    const finish = (result: { value: unknown } | undefined) => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(result);
    };
    const onMessage = (message: unknown) => {
      if (isAnswer(message) && message.id === id) finish(message.ok ? { value: message.value } : undefined);
    };
    const onExit = () => finish(undefined);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    child.on("message", onMessage);
    child.once("exit", onExit);
    const question: AskMessage = { vouch: "ask", id, kind, payload };
    try {
      child.send(question, (error) => {
        if (error !== null) finish(undefined);
      });
    } catch {
      // The channel closed between the check above and the send: the worker is going away.
      finish(undefined);
    }
  });
}

async function answer(kind: string, payload: unknown): Promise<unknown> {
  const handler = handlers.get(kind);
  if (handler === undefined) throw new Error(`no handler for "${kind}"`);
  return await handler(payload);
}

/** The value, or undefined when `promise` rejects or takes longer than `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

function reply(message: AnswerMessage): void {
  // The supervisor may be gone (a process worker then stops through the link's "gone").
  supervisorLink?.send(message);
}

function isAsk(message: unknown): message is AskMessage {
  return typeof message === "object" && message !== null && (message as { vouch?: unknown }).vouch === "ask";
}

function isAnswer(message: unknown): message is AnswerMessage {
  return typeof message === "object" && message !== null && (message as { vouch?: unknown }).vouch === "answer";
}

/**
 * A small request/response channel between `vouch serve`'s supervisor and its workers, processes
 * or threads (supervisor-link.ts; structured clone): the supervisor asks every worker the same
 * question by kind and gets the answers of those that replied in time. Metrics and readiness
 * aggregate through it; the supervisor's reload goes through it too (kind "vouch.reload"). A worker
 * can ask its siblings too, through the supervisor (askSiblings: a change to hold answers for).
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

/** A worker asks the supervisor to ask every other worker (askSiblings). */
interface SiblingsAskMessage {
  readonly vouch: "ask-siblings";
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
  readonly timeoutMs: number;
}

/** The supervisor's reply to a SiblingsAskMessage: how many workers it asked, and their answers. */
interface SiblingsAnsweredMessage {
  readonly vouch: "siblings-answered";
  readonly id: number;
  readonly asked: number;
  readonly answers: readonly unknown[];
}

/** What the other workers answered: how many were asked, and the answers of those that did in time. */
export interface SiblingAnswers {
  readonly asked: number;
  readonly answers: readonly unknown[];
}

const siblingAsks = new Map<number, (answers: SiblingAnswers) => void>();
let listeningForSiblings = false;

/**
 * Worker side: asks every other worker of this supervisor the question `kind` (through the
 * supervisor; each answers with its onSupervisorAsk handler), and resolves with their answers
 * once each answered or `timeoutMs` passed. Never rejects; without a supervisor there is no other
 * worker: `{ asked: 0, answers: [] }` at once.
 */
export function askSiblings(kind: string, payload: unknown, timeoutMs: number): Promise<SiblingAnswers> {
  const link = supervisorLink;
  if (link === undefined) return Promise.resolve({ asked: 0, answers: [] });
  if (!listeningForSiblings) {
    listeningForSiblings = true;
    link.onMessage((message: unknown) => {
      if (!isSiblingsAnswered(message)) return;
      siblingAsks.get(message.id)?.({ asked: message.asked, answers: message.answers });
    });
  }
  const id = nextId++;
  return new Promise((resolve) => {
    // The supervisor gives up on a worker after timeoutMs; this covers a supervisor that cannot answer at all.
    const timer = setTimeout(() => finish({ asked: 1, answers: [] }), timeoutMs + 1000);
    const finish = (answers: SiblingAnswers) => {
      clearTimeout(timer);
      siblingAsks.delete(id);
      resolve(answers);
    };
    siblingAsks.set(id, finish);
    const question: SiblingsAskMessage = { vouch: "ask-siblings", id, kind, payload, timeoutMs };
    link.send(question);
  });
}

/**
 * Supervisor side: passes `child`'s askSiblings questions on to every other worker `workers()`
 * lists, and answers `child` with what they said.
 */
export function relaySiblingAsks(child: WorkerHandle, workers: () => Iterable<WorkerHandle>): void {
  child.on("message", (message: unknown) => {
    if (!isSiblingsAsk(message)) return;
    const others = [...workers()].filter((other) => other !== child);
    void Promise.all(others.map((other) => askOne(other, message.kind, message.payload, message.timeoutMs))).then((answers) => {
      const reply: SiblingsAnsweredMessage = { vouch: "siblings-answered", id: message.id, asked: others.length, answers: answers.filter((entry) => entry !== undefined).map((entry) => entry.value) };
      if (!child.connected || child.exitCode !== null) return;
      try {
        child.send(reply, () => {});
      } catch {
        // The worker is going away.
      }
    });
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

function isSiblingsAsk(message: unknown): message is SiblingsAskMessage {
  return typeof message === "object" && message !== null && (message as { vouch?: unknown }).vouch === "ask-siblings";
}

function isSiblingsAnswered(message: unknown): message is SiblingsAnsweredMessage {
  return typeof message === "object" && message !== null && (message as { vouch?: unknown }).vouch === "siblings-answered";
}

function isAnswer(message: unknown): message is AnswerMessage {
  return typeof message === "object" && message !== null && (message as { vouch?: unknown }).vouch === "answer";
}

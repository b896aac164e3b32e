/**
 * Runs a question set against a question-answering target (targets.ts) and scores it (metrics.ts):
 * retrieval from `search(question, 10)`, answers from `ask(question)`.
 */
import type { EvalItem } from "./dataset.js";
import { isAnswerable } from "./dataset.js";
import { answerCorrect, isHit, prepare } from "./match.js";
import { RETRIEVAL_DEPTH, summarize, type EvalSummary, type ItemRecord } from "./metrics.js";
import { serviceTarget, settingsOf, type AskFn, type SearchFn } from "./targets.js";
import type { QaService } from "../service/index.js";

export type EvalMode = "full" | "retrieval" | "answers";

export interface RunEvalOptions {
  set: EvalItem[];
  /** The service to evaluate; or give `search` and `ask`. */
  service?: QaService;
  search?: SearchFn;
  ask?: AskFn;
  /** Shown in tables and reports. */
  label?: string;
  promptVersion?: string;
  /** Passages the answerer gets (AskRequest.k); default: the service's own default. */
  k?: number;
  /** "retrieval": search only (sweeps); "answers": ask only; default both. */
  mode?: EvalMode;
  onItem?: (record: ItemRecord, done: number, total: number) => void;
}

export interface EvalRun {
  label: string;
  promptVersion: string | null;
  mode: EvalMode;
  startedAt: string;
  seconds: number;
  /** Settings that matter for comparisons (retrieval, chunking, LLM), when known. */
  settings?: Record<string, unknown>;
  records: ItemRecord[];
  summary: EvalSummary;
}

export async function runEval(opts: RunEvalOptions): Promise<EvalRun> {
  const target = opts.service ? serviceTarget(opts.service) : undefined;
  const search = opts.search ?? target?.search;
  const askFn = opts.ask ?? target?.ask;
  const mode = opts.mode ?? "full";
  if (mode !== "answers" && !search) throw new Error("runEval: give a service or a search function");
  if (mode !== "retrieval" && !askFn) throw new Error("runEval: give a service or an ask function");
  const promptVersion = opts.promptVersion ?? opts.service?.config.prompt.version;

  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const records: ItemRecord[] = [];
  for (const item of opts.set) {
    const record = await evalItem(item, { search, ask: askFn, mode, promptVersion, k: opts.k });
    records.push(record);
    opts.onItem?.(record, records.length, opts.set.length);
  }
  return {
    label: opts.label ?? "ours",
    promptVersion: promptVersion ?? null,
    mode,
    startedAt,
    seconds: Math.round(performance.now() - t0) / 1000,
    ...(opts.service ? { settings: settingsOf(opts.service.config) } : {}),
    records,
    summary: summarize(records),
  };
}

async function evalItem(
  item: EvalItem,
  ctx: { search?: SearchFn; ask?: AskFn; mode: EvalMode; promptVersion?: string; k?: number },
): Promise<ItemRecord> {
  const answerable = isAnswerable(item);
  const record: ItemRecord = {
    id: item.id,
    question: item.question,
    kind: item.kind,
    doc: item.doc,
    page: item.page,
    answerable,
    hitRank: null,
    retrieved: [],
    searchMs: null,
    answer: null,
    grounded: null,
    abstained: null,
    correct: null,
    citesRightDoc: null,
    latencyMs: null,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
  };
  const errors: string[] = [];
  // Feedback items have no support passage: their retrieval is not judged.
  if (ctx.mode !== "answers" && ctx.search && item.kind !== "feedback") {
    try {
      const t = performance.now();
      const passages = (await ctx.search(item.question, RETRIEVAL_DEPTH)).slice(0, RETRIEVAL_DEPTH);
      record.searchMs = round1(performance.now() - t);
      record.retrieved = passages.map((p) => ({
        ...(p.id ? { id: p.id } : {}),
        docId: p.docId,
        page: p.page ?? null,
        hit: answerable && p.docId === item.doc && isHit(prepare(p.text), p.docId, item),
      }));
      const i = record.retrieved.findIndex((r) => r.hit);
      record.hitRank = i < 0 ? null : i + 1;
    } catch (err) {
      errors.push(`search: ${(err as Error).message}`);
    }
  }
  if (ctx.mode !== "retrieval" && ctx.ask) {
    try {
      const t = performance.now();
      const r = await ctx.ask(item.question, { promptVersion: ctx.promptVersion, k: ctx.k });
      record.latencyMs = round1(performance.now() - t);
      record.answer = r.answer;
      record.grounded = r.grounded;
      record.abstained = !r.grounded;
      record.correct = !answerable
        ? !r.grounded
        : item.kind === "feedback" && item.answers.length === 0
          ? r.grounded && (r.citedDocs ?? []).includes(item.doc!)
          : r.grounded && answerCorrect(r.answer, item);
      if (answerable && r.grounded) record.citesRightDoc = (r.citedDocs ?? []).includes(item.doc!);
      record.promptTokens = r.promptTokens ?? 0;
      record.completionTokens = r.completionTokens ?? 0;
      record.costUsd = r.costUsd ?? 0;
    } catch (err) {
      errors.push(`ask: ${(err as Error).message}`);
      record.correct = false;
    }
  }
  if (errors.length) record.error = errors.join("; ");
  return record;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

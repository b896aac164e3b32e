/**
 * Runs a question set against a question-answering target and scores it.
 *
 * The target is normally a QaService (the same code the HTTP API serves): retrieval metrics come
 * from `service.search(question, 10)`, answers from `service.ask({ question, promptVersion })`.
 * Any other system (the LangChain baseline) plugs in as a pair of `search`/`ask` functions.
 *
 * Metrics (see summarize()):
 *   recall@1/@5/@10  share of answerable items with a hit (match.ts) at rank <= 1/5/10
 *   MRR              mean of 1/rank of the first hit within the top 10 (0 when none)
 *   accuracy         share of answerable items answered (not declined) with an expected answer
 *   abstention       share of unanswerable items declined ("the documents do not cover this")
 *   false abstention share of answerable items declined
 *   latency          p50/p95 of the ask call (and of the search call), wall time in this process
 *   tokens, cost     totals reported by the answerer (0 for extractive answers)
 */
import type { AskResult } from "../answer/service.js";
import type { Config } from "../config/index.js";
import { loadConfig } from "../config/index.js";
import type { Embedder } from "../embed/types.js";
import { QaService } from "../service/index.js";
import { isAnswerable, type EvalItem } from "./dataset.js";
import { answerCorrect, isHit, prepare } from "./match.js";
import { GATE } from "./thresholds.js";

/** Retrieval depth for retrieval metrics: recall@10 and MRR@10. */
export const RETRIEVAL_DEPTH = 10;

export interface RetrievedPassage {
  id?: string;
  docId: string;
  page?: number | null;
  text: string;
  score?: number;
}

export interface EvalAnswer {
  answer: string;
  /** False when the answerer declined ("the documents do not cover this"). */
  grounded: boolean;
  promptTokens?: number;
  completionTokens?: number;
  costUsd?: number;
  mode?: string;
  /** Documents of the passages the answer cites. */
  citedDocs?: string[];
}

export type SearchFn = (question: string, k: number) => Promise<RetrievedPassage[]>;
export type AskFn = (question: string, opts: { promptVersion?: string; k?: number }) => Promise<EvalAnswer>;

export interface EvalTarget {
  search: SearchFn;
  ask: AskFn;
}

/** The parts of an answer (in-process AskResult or the same JSON over HTTP) that the evaluation scores. */
function toEvalAnswer(r: Pick<AskResult, "answer" | "grounded" | "usage" | "mode" | "citations">): EvalAnswer {
  return {
    answer: r.answer,
    grounded: r.grounded,
    promptTokens: r.usage.promptTokens,
    completionTokens: r.usage.completionTokens,
    costUsd: r.usage.costUsd,
    mode: r.mode,
    citedDocs: r.citations.filter((c) => c.cited).map((c) => c.docId),
  };
}

/** A running server as an evaluation target, through its HTTP API (POST /v1/search, POST /v1/ask). */
export function httpTarget(baseUrl: string): EvalTarget {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(new URL(path, baseUrl), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const json = (await res.json()) as any;
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${json?.error?.code ?? ""} ${json?.error?.message ?? ""}`.trim());
    return json;
  };
  return {
    search: async (question, k) => (await post("/v1/search", { query: question, k })).results,
    ask: async (question, { promptVersion, k }) =>
      toEvalAnswer(await post("/v1/ask", { question, ...(promptVersion ? { promptVersion } : {}), ...(k ? { k } : {}) })),
  };
}

/** A QaService as an evaluation target: exactly the calls the API's /v1/search and /v1/ask make. */
export function serviceTarget(service: QaService): EvalTarget {
  return {
    search: async (question, k) => (await service.search(question, k)).results,
    ask: async (question, { promptVersion, k }) =>
      toEvalAnswer(await service.ask({ question, ...(promptVersion ? { promptVersion } : {}), ...(k ? { k } : {}) })),
  };
}

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

export interface ItemRecord {
  id: string;
  question: string;
  kind: EvalItem["kind"];
  doc: string | null;
  page: number | null;
  answerable: boolean;
  /** 1-based rank of the first hit within the top 10; null when none (or not measured). */
  hitRank: number | null;
  retrieved: Array<{ id?: string; docId: string; page: number | null; hit: boolean }>;
  searchMs: number | null;
  answer: string | null;
  grounded: boolean | null;
  abstained: boolean | null;
  /** Answerable: answered and contains an expected answer. Unanswerable: declined. */
  correct: boolean | null;
  /** Answerable and answered: whether the answer cites a passage of the expected document. */
  citesRightDoc: boolean | null;
  /** Wall time of the ask call. */
  latencyMs: number | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  error?: string;
}

export interface GroupMetrics {
  n: number;
  answerable: number;
  unanswerable: number;
  recallAt1: number | null;
  recallAt5: number | null;
  recallAt10: number | null;
  mrr: number | null;
  accuracy: number | null;
  /** Share of answered answerable items whose answer cites the expected document. */
  citationAccuracy: number | null;
  abstention: number | null;
  falseAbstention: number | null;
}

export interface EvalSummary extends GroupMetrics {
  latency: { askP50: number | null; askP95: number | null; searchP50: number | null; searchP95: number | null };
  tokens: { prompt: number; completion: number; total: number };
  costUsd: number;
  errors: number;
  byKind: Record<string, GroupMetrics>;
  byDoc: Record<string, GroupMetrics>;
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
  if (ctx.mode !== "answers" && ctx.search) {
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
      record.correct = answerable ? r.grounded && answerCorrect(r.answer, item) : !r.grounded;
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

/** Share of `values` that are true; null when there are none. */
function share(values: boolean[]): number | null {
  return values.length === 0 ? null : values.filter(Boolean).length / values.length;
}

/** Nearest-rank percentile (p in 0..100) of the values; null when there are none. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Metrics of a group of records. Retrieval metrics need search results; answer metrics need answers. */
export function groupMetrics(records: ItemRecord[]): GroupMetrics {
  const answerable = records.filter((r) => r.answerable);
  const unanswerable = records.filter((r) => !r.answerable);
  const searched = answerable.filter((r) => r.searchMs !== null || r.retrieved.length > 0 || r.error?.includes("search"));
  const asked = (rs: ItemRecord[]) => rs.filter((r) => r.abstained !== null || r.error?.includes("ask"));
  const ranks = searched.map((r) => r.hitRank);
  const within = (k: number) => share(ranks.map((rank) => rank !== null && rank <= k));
  const answeredA = asked(answerable);
  const answeredU = asked(unanswerable);
  return {
    n: records.length,
    answerable: answerable.length,
    unanswerable: unanswerable.length,
    recallAt1: within(1),
    recallAt5: within(5),
    recallAt10: within(RETRIEVAL_DEPTH),
    mrr: ranks.length ? ranks.reduce<number>((s, rank) => s + (rank !== null && rank <= RETRIEVAL_DEPTH ? 1 / rank : 0), 0) / ranks.length : null,
    accuracy: share(answeredA.map((r) => r.correct === true)),
    citationAccuracy: share(answeredA.filter((r) => r.citesRightDoc !== null).map((r) => r.citesRightDoc === true)),
    abstention: share(answeredU.map((r) => r.abstained === true)),
    falseAbstention: share(answeredA.map((r) => r.abstained === true)),
  };
}

export function summarize(records: ItemRecord[]): EvalSummary {
  const by = (key: (r: ItemRecord) => string | null) => {
    const groups = new Map<string, ItemRecord[]>();
    for (const r of records) {
      const k = key(r);
      if (k === null) continue;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    return Object.fromEntries([...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, rs]) => [k, groupMetrics(rs)]));
  };
  const askMs = records.flatMap((r) => (r.latencyMs === null ? [] : [r.latencyMs]));
  const searchMs = records.flatMap((r) => (r.searchMs === null ? [] : [r.searchMs]));
  const prompt = records.reduce((s, r) => s + r.promptTokens, 0);
  const completion = records.reduce((s, r) => s + r.completionTokens, 0);
  return {
    ...groupMetrics(records),
    latency: { askP50: percentile(askMs, 50), askP95: percentile(askMs, 95), searchP50: percentile(searchMs, 50), searchP95: percentile(searchMs, 95) },
    tokens: { prompt, completion, total: prompt + completion },
    costUsd: Math.round(records.reduce((s, r) => s + r.costUsd, 0) * 1e8) / 1e8,
    errors: records.filter((r) => r.error).length,
    byKind: by((r) => r.kind),
    byDoc: by((r) => r.doc),
  };
}

/** The configuration values a comparison cares about. */
export function settingsOf(config: Config): Record<string, unknown> {
  return {
    indexDir: config.indexDir,
    embedder: config.embedder.kind,
    chunking: config.chunking,
    retrieval: config.retrieval,
    llm: { provider: config.llm.provider, model: config.llm.model },
    prompt: config.prompt.version,
  };
}

// ---------------------------------------------------------------------------------------------
// Services built for evaluation: loadConfig() over the environment plus overrides.

/** Environment overrides (KEY=VALUE as in .env) applied over process.env. */
export type EnvOverrides = Record<string, string | undefined>;

export interface EvalServiceOptions {
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Reuse one embedder across services (sweeps); the caller closes it, not the services. */
  embedder?: Embedder;
}

export class EvalSetupError extends Error {
  override name = "EvalSetupError";
}

/**
 * A started QaService over the configured index (loadConfig(env + overrides); the index watcher off).
 * Throws EvalSetupError when no index can be loaded, saying why (missing: run `npm run ingest`).
 */
export async function createEvalService(overrides: EnvOverrides = {}, opts: EvalServiceOptions = {}): Promise<QaService> {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), WATCH_INDEX: "false" };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const config = loadConfig(env);
  const service = new QaService(config, opts.embedder ? { embedder: opts.embedder } : {});
  await service.start();
  const status = service.live.status();
  if (!status.ready) {
    await service.close();
    const hint = status.code === "INDEX_MISSING" ? " (run: npm run ingest)" : "";
    throw new EvalSetupError(`cannot load the index in ${config.indexDir}: ${status.reason}${hint}`);
  }
  return service;
}

// ---------------------------------------------------------------------------------------------
// Sweeps: tune retrieval weights and the abstention threshold on the dev set.

export const SWEEP_DENSE_WEIGHTS = [0, 0.1, 0.2, 0.3, 0.5, 1.0] as const;
export const SWEEP_RRF_KS = [10, 30, 60] as const;
/** 0.30 .. 0.70 step 0.05 (computed from integers to avoid 0.35000000000000003). */
export const SWEEP_ABSTAIN_THRESHOLDS: readonly number[] = Array.from({ length: 9 }, (_, i) => (30 + 5 * i) / 100);

export interface RetrievalSweepRow {
  denseWeight: number;
  rrfK: number;
  recallAt1: number | null;
  recallAt5: number | null;
  recallAt10: number | null;
  mrr: number | null;
  searchP50: number | null;
}

export interface AbstentionSweepRow {
  threshold: number;
  abstention: number | null;
  falseAbstention: number | null;
  accuracy: number | null;
}

export interface SweepResult {
  retrieval: RetrievalSweepRow[];
  abstention: AbstentionSweepRow[];
  bestRetrieval: RetrievalSweepRow | null;
  bestAbstention: AbstentionSweepRow | null;
}

export interface SweepOptions {
  set: EvalItem[];
  overrides?: EnvOverrides;
  env?: NodeJS.ProcessEnv;
  embedder: Embedder;
  denseWeights?: readonly number[];
  rrfKs?: readonly number[];
  thresholds?: readonly number[];
  onRow?: (kind: "retrieval" | "abstention", row: RetrievalSweepRow | AbstentionSweepRow) => void;
}

export async function sweep(opts: SweepOptions): Promise<SweepResult> {
  const retrieval: RetrievalSweepRow[] = [];
  for (const denseWeight of opts.denseWeights ?? SWEEP_DENSE_WEIGHTS) {
    for (const rrfK of opts.rrfKs ?? SWEEP_RRF_KS) {
      const service = await createEvalService(
        { ...opts.overrides, RETRIEVAL_DENSE_WEIGHT: String(denseWeight), RETRIEVAL_RRF_K: String(rrfK) },
        { env: opts.env, embedder: opts.embedder },
      );
      try {
        const run = await runEval({ set: opts.set, service, mode: "retrieval" });
        const s = run.summary;
        const row = { denseWeight, rrfK, recallAt1: s.recallAt1, recallAt5: s.recallAt5, recallAt10: s.recallAt10, mrr: s.mrr, searchP50: s.latency.searchP50 };
        retrieval.push(row);
        opts.onRow?.("retrieval", row);
      } finally {
        await service.close();
      }
    }
  }
  const abstention: AbstentionSweepRow[] = [];
  for (const threshold of opts.thresholds ?? SWEEP_ABSTAIN_THRESHOLDS) {
    const service = await createEvalService({ ...opts.overrides, ABSTAIN_THRESHOLD: String(threshold) }, { env: opts.env, embedder: opts.embedder });
    try {
      const run = await runEval({ set: opts.set, service, mode: "answers" });
      const s = run.summary;
      const row = { threshold, abstention: s.abstention, falseAbstention: s.falseAbstention, accuracy: s.accuracy };
      abstention.push(row);
      opts.onRow?.("abstention", row);
    } finally {
      await service.close();
    }
  }
  return { retrieval, abstention, bestRetrieval: bestRetrieval(retrieval), bestAbstention: bestAbstention(abstention) };
}

/** The row whose key is lexicographically smallest; ties keep the earlier row. */
function minByKey<T>(rows: T[], key: (r: T) => number[]): T | null {
  let best: T | null = null;
  for (const r of rows) {
    if (!best) {
      best = r;
      continue;
    }
    const a = key(r);
    const b = key(best);
    const i = a.findIndex((v, j) => v !== b[j]);
    if (i >= 0 && a[i]! < b[i]!) best = r;
  }
  return best;
}

/** Highest recall@5, then MRR, then recall@1; ties keep the earlier (lower dense weight) setting. */
export function bestRetrieval(rows: RetrievalSweepRow[]): RetrievalSweepRow | null {
  return minByKey(rows, (r) => [-(r.recallAt5 ?? -1), -(r.mrr ?? -1), -(r.recallAt1 ?? -1)]);
}

/**
 * Prefer thresholds that meet both abstention gates of thresholds.ts (abstention on unanswerable,
 * false abstention on answerable); among those the largest abstention - falseAbstention. When none
 * meets both, the smallest total shortfall from the two gates (so 4 unanswerable questions cannot
 * buy a threshold that declines a third of the answerable ones). Ties: better accuracy, then the
 * lower threshold.
 */
export function bestAbstention(rows: AbstentionSweepRow[], gate = { abstention: GATE.abstention, falseAbstention: GATE.falseAbstention }): AbstentionSweepRow | null {
  const shortfall = (r: AbstentionSweepRow) =>
    Math.max(0, gate.abstention - (r.abstention ?? 0)) + Math.max(0, (r.falseAbstention ?? 1) - gate.falseAbstention);
  const margin = (r: AbstentionSweepRow) => (r.abstention ?? 0) - (r.falseAbstention ?? 1);
  // Lower is better; rounding keeps float noise (0.1 + 0.2) from deciding ties.
  const key = (r: AbstentionSweepRow) => [Math.round(shortfall(r) * 1e9), -Math.round(margin(r) * 1e9), -Math.round((r.accuracy ?? 0) * 1e9)];
  return minByKey(rows, key);
}

/**
 * What an evaluation measures, from per-question records:
 *   recall@1/@5/@10  share of answerable items with a hit (match.ts) at rank <= 1/5/10
 *   MRR              mean of 1/rank of the first hit within the top 10 (0 when none)
 *   accuracy         share of answerable items answered (not declined) with an expected answer
 *   abstention       share of unanswerable items declined ("the documents do not cover this")
 *   false abstention share of answerable items declined
 *   latency          p50/p95 of the ask call (and of the search call), wall time
 *   answer length    median and p90 characters of the answers given (citation markers removed)
 *   tokens, cost     totals reported by the answerer (0 for extractive answers)
 */
import type { EvalItem } from "./dataset.js";

/** Retrieval depth for retrieval metrics: recall@10 and MRR@10. */
export const RETRIEVAL_DEPTH = 10;

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
  /** Length in characters of the answers given (declines excluded, citation markers removed): median and p90. */
  answerChars: { p50: number | null; p90: number | null };
  tokens: { prompt: number; completion: number; total: number };
  costUsd: number;
  errors: number;
  byKind: Record<string, GroupMetrics>;
  byDoc: Record<string, GroupMetrics>;
}



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
  const answerChars = records.flatMap((r) => (r.answer && r.grounded ? [r.answer.replace(/\s*\[\d+(?:\s*[,;]\s*\d+)*\]/g, "").trim().length] : []));
  const searchMs = records.flatMap((r) => (r.searchMs === null ? [] : [r.searchMs]));
  const prompt = records.reduce((s, r) => s + r.promptTokens, 0);
  const completion = records.reduce((s, r) => s + r.completionTokens, 0);
  return {
    ...groupMetrics(records),
    latency: { askP50: percentile(askMs, 50), askP95: percentile(askMs, 95), searchP50: percentile(searchMs, 50), searchP95: percentile(searchMs, 95) },
    answerChars: { p50: percentile(answerChars, 50), p90: percentile(answerChars, 90) },
    tokens: { prompt, completion, total: prompt + completion },
    costUsd: Math.round(records.reduce((s, r) => s + r.costUsd, 0) * 1e8) / 1e8,
    errors: records.filter((r) => r.error).length,
    byKind: by((r) => r.kind),
    byDoc: by((r) => r.doc),
  };
}

/** The configuration values a comparison cares about. */

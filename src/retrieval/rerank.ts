/**
 * Reranking the fused candidates. The interface is pluggable (a cross-encoder or an LLM judge would
 * implement it); the default reads each candidate the way the reader will: a passage is moved up when
 * one of its windows of one or two sentences holds the question's terms together with an answer of the
 * asked-for kind (sentence-score.ts). The fused score stays in the sum, scaled to the best candidate.
 */
import type { PassageCache } from "./passages.js";
import type { QueryAnalysis } from "./query.js";
import { bestWindow, scoreWindows, type SentenceWeights, type WindowScore } from "./sentence-score.js";

export interface RerankCandidate {
  chunk: { id: string };
  score: number;
  /** The passage's best window, when a reranker read it. */
  window?: WindowScore;
}

export interface Reranker {
  rerank<T extends RerankCandidate>(q: QueryAnalysis, hits: T[]): T[];
}

export class AnswerReranker implements Reranker {
  constructor(
    private readonly passages: PassageCache,
    /** Weight of the best window's score against the fused score (scaled to 0..1). */
    private readonly weight: number,
    private readonly sentenceWeights: SentenceWeights,
  ) {}

  rerank<T extends RerankCandidate>(q: QueryAnalysis, hits: T[]): T[] {
    if (hits.length === 0) return hits;
    const top = hits[0]!.score || 1;
    return hits
      .map((h) => {
        const p = this.passages.get(h.chunk.id);
        const window = bestWindow(scoreWindows(q, p.analysis, p.headingIds, this.sentenceWeights)) ?? undefined;
        return { ...h, window, score: h.score / top + this.weight * (window?.score ?? 0) };
      })
      .sort((a, b) => b.score - a.score || (a.chunk.id < b.chunk.id ? -1 : 1));
  }
}

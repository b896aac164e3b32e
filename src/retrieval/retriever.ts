/**
 * Hybrid retrieval over one loaded index: BM25 candidates and HNSW (dense) candidates fused by weighted
 * reciprocal rank, passages of a document the question names boosted, the head of the list reranked by
 * reading it (rerank.ts), near-duplicates (overlapping chunks) collapsed, optionally restricted to some
 * documents. The question is analysed once (query.ts) and the analysis travels with the hits to the
 * reader and the abstention check.
 *
 * Defaults are chosen by cross-validation on the dev set (`npm run eval -- --cv 5`, README "Quality").
 */
import type { Embedder } from "../embed/types.js";
import type { LoadedIndex } from "../index/store.js";
import type { Chunk } from "../index/types.js";
import { DocumentTerms } from "./documents.js";
import { PassageCache, type CachedPassage } from "./passages.js";
import { analyzeQuery, type QueryAnalysis } from "./query.js";
import { AnswerReranker, type Reranker } from "./rerank.js";
import { DEFAULT_SENTENCE_WEIGHTS, type SentenceWeights, type WindowScore } from "./sentence-score.js";

export interface RetrievalParams {
  lexicalWeight: number;
  denseWeight: number;
  rrfK: number;
  /** Candidates taken from each side before fusion. */
  candidates: number;
  /** Added to a named document's passages, in units of a first-rank RRF contribution (0 turns it off). */
  namedDocBoost: number;
  /** Weight of the reranker (0 turns it off) and how many fused candidates it reads. */
  rerankWeight: number;
  rerankDepth: number;
  /** How sentence windows are scored (reranker and reader). */
  sentence?: SentenceWeights;
}

export interface SearchOptions {
  k: number;
  /** Only these document ids. */
  docs?: string[];
}

export interface SearchHit {
  chunk: Chunk;
  ordinal: number;
  /** Final score (higher is better): fused, boosted and reranked. */
  score: number;
  lexicalScore: number;
  /** Cosine similarity to the query, 0 when the chunk was not a dense candidate. */
  denseScore: number;
  /** The passage's best window of one or two sentences, when the reranker read it. */
  window?: WindowScore;
}

export interface SearchResult {
  query: QueryAnalysis;
  hits: SearchHit[];
}

const PASSAGES = new WeakMap<LoadedIndex, PassageCache>();

export class Retriever {
  private readonly reranker: Reranker;
  private readonly aliases: Map<string, string>;
  private documentTerms: DocumentTerms | undefined;
  readonly passages: PassageCache;
  readonly sentenceWeights: SentenceWeights;

  constructor(
    readonly index: LoadedIndex,
    private readonly embedder: Embedder,
    readonly params: RetrievalParams,
    reranker?: Reranker,
  ) {
    this.aliases = new Map(index.manifest.documents.map((d) => [d.id, (d.aliases ?? []).join(" ")]));
    this.sentenceWeights = params.sentence ?? DEFAULT_SENTENCE_WEIGHTS;
    // One cache per loaded index, shared by every retriever over it (evaluation sweeps build many).
    let passages = PASSAGES.get(index);
    if (!passages) {
      passages = new PassageCache((ord) => {
        const c = index.chunks[ord]!;
        return { text: c.text, section: c.section, heading: this.heading(c) };
      });
      PASSAGES.set(index, passages);
    }
    this.passages = passages;
    this.reranker = reranker ?? new AnswerReranker(this.passages, params.rerankWeight, this.sentenceWeights);
  }

  /** Which terms each document uses and which documents a question names (built on first use). */
  get documents(): DocumentTerms {
    return (this.documentTerms ??= new DocumentTerms(this.index));
  }

  /** The words a chunk is known by beyond its text: document title, aliases, section. */
  heading(chunk: Chunk): string {
    return `${chunk.title} ${this.aliases.get(chunk.docId) ?? ""} ${chunk.section ?? ""}`;
  }

  passage(ordinal: number): CachedPassage {
    return this.passages.get(ordinal);
  }

  /** The question's analysis against this index's vocabulary and document names. */
  analyze(question: string): QueryAnalysis {
    const { lexical } = this.index;
    return analyzeQuery(question, { idf: (t) => lexical.idf(t), has: (t) => lexical.has(t), named: (text) => this.documents.named(text) });
  }

  async search(query: string | QueryAnalysis, opts: SearchOptions): Promise<SearchResult> {
    const { index, params } = this;
    const q = typeof query === "string" ? this.analyze(query) : query;
    const docFilter = opts.docs?.length ? new Set(opts.docs) : undefined;
    const allow = docFilter ? (ord: number) => docFilter.has(index.chunks[ord]!.docId) : undefined;
    const n = Math.max(params.candidates, opts.k * 4);

    const fused = new Map<number, { score: number; lexical: number; dense: number }>();
    const add = (ord: number, rank: number, weight: number) => {
      const entry = fused.get(ord) ?? { score: 0, lexical: 0, dense: 0 };
      entry.score += weight / (params.rrfK + rank + 1);
      fused.set(ord, entry);
      return entry;
    };
    if (params.lexicalWeight > 0) {
      index.lexical.searchTerms(q.terms.map((t) => t.term), n, allow).forEach((hit, rank) => {
        add(hit.ordinal, rank, params.lexicalWeight).lexical = hit.score;
      });
    }
    if (params.denseWeight > 0 && index.chunks.length > 0) {
      const vector = await this.embedder.embedQuery(q.text);
      const { neighbors, distances } = index.hnsw.searchKnn(vector, Math.min(n, index.chunks.length), allow);
      neighbors.forEach((ord, rank) => {
        add(ord, rank, params.denseWeight).dense = 1 - distances[rank]!;
      });
    }

    // A question that names a document ("in GPT-3", "the RLHF blog post") prefers its passages.
    const named = new Set(q.named.map((d) => d.docId));
    const boost = params.namedDocBoost / (params.rrfK + 1);
    const ranked: SearchHit[] = [...fused]
      .map(([ordinal, s]) => {
        const chunk = index.chunks[ordinal]!;
        return { chunk, ordinal, score: s.score + (named.has(chunk.docId) ? boost : 0), lexicalScore: s.lexical, denseScore: s.dense };
      })
      .sort((a, b) => b.score - a.score || a.ordinal - b.ordinal);
    const depth = Math.max(params.rerankDepth, opts.k);
    const head = params.rerankWeight > 0 ? this.reranker.rerank(q, ranked.slice(0, depth)) : ranked.slice(0, depth);
    const hits = collapseNearDuplicates([...head, ...ranked.slice(depth)], opts.k, (ord) => this.passages.get(ord).words);
    return { query: q, hits };
  }
}

/**
 * Overlapping neighbours (chunk i and i+1 of the same document share their overlap) and repeated
 * passages would fill the top-k with the same text: keep the better-ranked one when two candidates
 * share most of their words. Stops once `k` are kept.
 */
function collapseNearDuplicates<T extends { chunk: Chunk; ordinal: number }>(ranked: T[], k: number, wordsOf: (ordinal: number) => ReadonlySet<string>): T[] {
  const kept: Array<{ item: T; words: ReadonlySet<string> }> = [];
  for (const item of ranked) {
    if (kept.length >= k) break;
    const words = wordsOf(item.ordinal);
    const dup = kept.some((x) => x.item.chunk.docId === item.chunk.docId && overlap(x.words, words) > 0.8);
    if (!dup) kept.push({ item, words });
  }
  return kept.map((x) => x.item);
}

function overlap(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  if (small.size === 0) return 0;
  let n = 0;
  for (const w of small) if (large.has(w)) n++;
  return n / small.size;
}

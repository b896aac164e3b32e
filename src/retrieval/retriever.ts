/**
 * Hybrid retrieval over one index generation (the store port): lexical (BM25) and vector (HNSW, or any
 * VectorStore) candidates, by chunk id, fused by weighted
 * reciprocal rank, passages of a document the question names boosted, the head of the list reranked by
 * reading it (rerank.ts), near-duplicates (overlapping chunks) collapsed, optionally restricted to some
 * documents. The question is analysed once (query.ts) and the analysis travels with the hits to the
 * reader and the abstention check.
 *
 * Defaults are chosen by cross-validation on the dev set (`npm run eval -- --cv 5`, README "Quality").
 */
import type { Embedder } from "../embed/types.js";
import { inSpan, type Span } from "../telemetry/index.js";
import type { Chunk, IndexSnapshot } from "../store/index.js";
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
  /** Final score (higher is better): fused, boosted and reranked. */
  score: number;
  lexicalScore: number;
  /** Cosine similarity to the query, 0 when the chunk was not a dense candidate. */
  denseScore: number;
  /** The passage's best window of one or two sentences, when the reranker read it. */
  window?: WindowScore;
}

/** A hit as a caller is shown it (search results, citations): where the passage is, its text, its score. */
export interface HitView {
  id: string;
  docId: string;
  title: string;
  page: number | null;
  section: string | null;
  text: string;
  /** The final score, to 4 decimals. */
  score: number;
}

/** The one mapping from a hit to what callers see of it. */
export function viewHit({ chunk: c, score }: Pick<SearchHit, "chunk" | "score">): HitView {
  return { id: c.id, docId: c.docId, title: c.title, page: c.page, section: c.section, text: c.text, score: Math.round(score * 1e4) / 1e4 };
}

export interface SearchResult {
  query: QueryAnalysis;
  hits: SearchHit[];
}

const PASSAGES = new WeakMap<IndexSnapshot, PassageCache>();

export class Retriever {
  private readonly reranker: Reranker;
  private readonly aliases: Map<string, string>;
  private documentTerms: DocumentTerms | undefined;
  readonly passages: PassageCache;
  readonly sentenceWeights: SentenceWeights;

  constructor(
    readonly index: IndexSnapshot,
    private readonly embedder: Embedder,
    readonly params: RetrievalParams,
    reranker?: Reranker,
  ) {
    this.aliases = new Map(index.manifest.documents.map((d) => [d.id, (d.aliases ?? []).join(" ")]));
    this.sentenceWeights = params.sentence ?? DEFAULT_SENTENCE_WEIGHTS;
    // One cache per loaded index, shared by every retriever over it (evaluation sweeps build many).
    let passages = PASSAGES.get(index);
    if (!passages) {
      passages = new PassageCache((id) => {
        const c = index.chunks.get(id)!;
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

  passage(id: string): CachedPassage {
    return this.passages.get(id);
  }

  /** The question's analysis against this index's vocabulary and document names. */
  analyze(question: string): QueryAnalysis {
    const { lexical } = this.index;
    return analyzeQuery(question, { idf: (t) => lexical.idf(t), has: (t) => lexical.has(t), named: (text) => this.documents.named(text) });
  }

  /** Hybrid search; traced as lexical, dense, fusion and rerank spans under one `retrieval.search`. */
  async search(query: string | QueryAnalysis, opts: SearchOptions): Promise<SearchResult> {
    return inSpan("retrieval.search", (span) => this.searchSteps(query, opts, span), { attributes: { "retrieval.k": opts.k, "retrieval.docs": opts.docs ?? [] } });
  }

  private async searchSteps(query: string | QueryAnalysis, opts: SearchOptions, span: Span | undefined): Promise<SearchResult> {
    const { index, params } = this;
    const q = typeof query === "string" ? this.analyze(query) : query;
    const filter = opts.docs?.length ? { docs: new Set(opts.docs) } : undefined;
    const n = Math.max(params.candidates, opts.k * 4);

    const [lexical, dense] = await Promise.all([
      params.lexicalWeight > 0
        ? inSpan("retrieval.lexical", async (s) => {
            const hits = await index.lexical.search(q.terms.map((t) => t.term), n, filter);
            s?.setAttributes({ "retrieval.terms": q.terms.length, "retrieval.candidates": hits.length });
            return hits;
          })
        : [],
      params.denseWeight > 0 && index.chunks.size > 0
        ? inSpan("retrieval.dense", async (s) => {
            const hits = await this.embedder.embedQuery(q.text).then((v) => index.vectors.search(v, Math.min(n, index.chunks.size), filter));
            s?.setAttributes({ "retrieval.embedder": this.embedder.id, "retrieval.candidates": hits.length });
            return hits;
          })
        : [],
    ]);
    const ranked = inSpan("retrieval.fusion", (s) => {
      const fused = new Map<string, { score: number; lexical: number; dense: number }>();
      const add = (id: string, rank: number, weight: number) => {
        const entry = fused.get(id) ?? { score: 0, lexical: 0, dense: 0 };
        entry.score += weight / (params.rrfK + rank + 1);
        fused.set(id, entry);
        return entry;
      };
      lexical.forEach((hit, rank) => (add(hit.id, rank, params.lexicalWeight).lexical = hit.score));
      dense.forEach((hit, rank) => (add(hit.id, rank, params.denseWeight).dense = hit.score));

      // A question that names a document ("in GPT-3", "the RLHF blog post") prefers its passages.
      const named = new Set(q.named.map((d) => d.docId));
      const boost = params.namedDocBoost / (params.rrfK + 1);
      const out: SearchHit[] = [];
      for (const [id, s] of fused) {
        const chunk = index.chunks.get(id);
        if (chunk) out.push({ chunk, score: s.score + (named.has(chunk.docId) ? boost : 0), lexicalScore: s.lexical, denseScore: s.dense });
      }
      out.sort((a, b) => b.score - a.score || indexOrder(a.chunk, b.chunk));
      s?.setAttributes({ "retrieval.fused": out.length, "retrieval.named_docs": [...named] });
      return out;
    });
    const depth = Math.max(params.rerankDepth, opts.k);
    const head =
      params.rerankWeight > 0
        ? inSpan("retrieval.rerank", () => this.reranker.rerank(q, ranked.slice(0, depth)), { attributes: { "retrieval.rerank.depth": Math.min(depth, ranked.length) } })
        : ranked.slice(0, depth);
    const hits = collapseNearDuplicates([...head, ...ranked.slice(depth)], opts.k, (id) => this.passages.get(id).words);
    span?.setAttribute("retrieval.hits", hits.length);
    return { query: q, hits };
  }
}

/** Ties broken by document, then position: the order chunks were indexed in. */
function indexOrder(a: Chunk, b: Chunk): number {
  return a.docId === b.docId ? a.position - b.position : a.docId < b.docId ? -1 : 1;
}

/**
 * Overlapping neighbours (chunk i and i+1 of the same document share their overlap) and repeated
 * passages would fill the top-k with the same text: keep the better-ranked one when two candidates
 * share most of their words. Stops once `k` are kept.
 */
function collapseNearDuplicates<T extends { chunk: Chunk }>(ranked: T[], k: number, wordsOf: (id: string) => ReadonlySet<string>): T[] {
  const kept: Array<{ item: T; words: ReadonlySet<string> }> = [];
  for (const item of ranked) {
    if (kept.length >= k) break;
    const words = wordsOf(item.chunk.id);
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

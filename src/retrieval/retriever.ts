/**
 * Hybrid retrieval: BM25 candidates and HNSW (dense) candidates fused by weighted reciprocal rank,
 * optionally restricted to some documents, near-duplicates (overlapping chunks) collapsed.
 *
 * Weights default to what scored best on the dev set (see README "Quality and performance" and
 * `npm run eval -- --sweep`): the bundled sentence encoder is a weak signal on these papers, so the
 * lexical side carries most of the weight.
 */
import type { Embedder } from "../embed/types.js";
import type { LoadedIndex } from "../index/store.js";
import type { Chunk } from "../index/types.js";
import { DocumentTerms } from "./documents.js";
import { ProximityReranker, type Reranker } from "./rerank.js";

export interface RetrievalParams {
  lexicalWeight: number;
  denseWeight: number;
  rrfK: number;
  /** Candidates taken from each side before fusion. */
  candidates: number;
  /** Added to a named document's passages, in units of a first-rank RRF contribution (0 turns it off). */
  namedDocBoost: number;
  /** Weight of the proximity reranker (0 turns it off) and how many fused candidates it sees. */
  rerankWeight: number;
  rerankDepth: number;
}

export interface SearchOptions {
  k: number;
  /** Only these document ids. */
  docs?: string[];
}

export interface SearchHit {
  chunk: Chunk;
  ordinal: number;
  /** Fused score (higher is better). */
  score: number;
  lexicalScore: number;
  /** Cosine similarity to the query, 0 when the chunk was not a dense candidate. */
  denseScore: number;
}

export interface SearchResult {
  hits: SearchHit[];
  /** The query's embedding, when the dense side computed it (reused to score answer windows). */
  queryVector?: number[];
}

export class Retriever {
  private readonly reranker: Reranker;
  private readonly aliases: Map<string, string>;
  private documentTerms: DocumentTerms | undefined;

  constructor(
    readonly index: LoadedIndex,
    private readonly embedder: Embedder,
    readonly params: RetrievalParams,
    reranker?: Reranker,
  ) {
    this.aliases = new Map(index.manifest.documents.map((d) => [d.id, (d.aliases ?? []).join(" ")]));
    this.reranker = reranker ?? new ProximityReranker((t) => index.lexical.idf(t), params.rerankWeight);
  }

  /** Which terms each document uses and which documents a question names (built on first use). */
  get documents(): DocumentTerms {
    return (this.documentTerms ??= new DocumentTerms(this.index));
  }

  /** Embeds passages or sentence windows with the index's embedder (worker threads for the bundled one). */
  embedTexts(texts: string[]): Promise<number[][]> {
    return this.embedder.embedDocuments(texts);
  }

  /** The words a chunk is known by beyond its text: document title, aliases, section. */
  heading(chunk: Chunk): string {
    return `${chunk.title} ${this.aliases.get(chunk.docId) ?? ""} ${chunk.section ?? ""}`;
  }

  async search(query: string, opts: SearchOptions): Promise<SearchResult> {
    const { index, params } = this;
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
      index.lexical.search(query, n, allow).forEach((hit, rank) => {
        add(hit.ordinal, rank, params.lexicalWeight).lexical = hit.score;
      });
    }
    let queryVector: number[] | undefined;
    if (params.denseWeight > 0 && index.chunks.length > 0) {
      queryVector = await this.embedder.embedQuery(query);
      const vector = queryVector;
      const { neighbors, distances } = index.hnsw.searchKnn(vector, Math.min(n, index.chunks.length), allow);
      neighbors.forEach((ord, rank) => {
        add(ord, rank, params.denseWeight).dense = 1 - distances[rank]!;
      });
    }

    // A question that names a document ("in GPT-3", "the RLHF blog post") prefers its passages.
    const named = new Set(this.documents.named(query).map((d) => d.docId));
    const boost = params.namedDocBoost / (params.rrfK + 1);
    const ranked = [...fused]
      .map(([ordinal, s]) => ({ chunk: index.chunks[ordinal]!, ordinal, score: s.score + (named.has(index.chunks[ordinal]!.docId) ? boost : 0), lexicalScore: s.lexical, denseScore: s.dense }))
      .sort((a, b) => b.score - a.score || a.ordinal - b.ordinal);
    const depth = Math.max(params.rerankDepth, opts.k);
    const reranked = [...(await this.reranker.rerank(query, ranked.slice(0, depth))), ...ranked.slice(depth)];
    const hits = collapseNearDuplicates(reranked).slice(0, opts.k);
    return { hits, queryVector };
  }
}

/**
 * Overlapping neighbours (chunk i and i+1 of the same document share their overlap) and repeated
 * passages would fill the top-k with the same text: keep the better-ranked one when two candidates
 * share most of their words.
 */
function collapseNearDuplicates<T extends { chunk: Chunk }>(ranked: T[]): T[] {
  const kept: Array<{ item: T; words: Set<string> }> = [];
  for (const item of ranked) {
    const words = new Set(item.chunk.text.toLowerCase().split(/\W+/).filter((w) => w.length > 2));
    const dup = kept.some((k) => k.item.chunk.docId === item.chunk.docId && overlap(k.words, words) > 0.8);
    if (!dup) kept.push({ item, words });
  }
  return kept.map((k) => k.item);
}

function overlap(a: Set<string>, b: Set<string>): number {
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  if (small.size === 0) return 0;
  let n = 0;
  for (const w of small) if (large.has(w)) n++;
  return n / small.size;
}

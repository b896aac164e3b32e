/**
 * Hybrid retrieval: BM25 candidates and HNSW (dense) candidates fused by weighted reciprocal rank,
 * optionally restricted to some documents, near-duplicates (overlapping chunks) collapsed.
 *
 * Weights default to what scored best on the dev set (see README "Quality and performance" and
 * `npm run eval -- --sweep`): the bundled sentence encoder is a weak signal on these papers, so the
 * lexical side carries most of the weight.
 */
import type { Embedder } from "../embed/types.js";
import { terms } from "../index/analyze.js";
import type { LoadedIndex } from "../index/store.js";
import type { Chunk } from "../index/types.js";

export interface RetrievalParams {
  lexicalWeight: number;
  denseWeight: number;
  rrfK: number;
  /** Candidates taken from each side before fusion. */
  candidates: number;
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
  /** Share of the query's term weight (IDF) found in the best hit: an evidence signal for abstention. */
  coverage: number;
}

export class Retriever {
  constructor(
    readonly index: LoadedIndex,
    private readonly embedder: Embedder,
    readonly params: RetrievalParams,
  ) {}

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
    if (params.denseWeight > 0 && index.chunks.length > 0) {
      const vector = await this.embedder.embedQuery(query);
      const { neighbors, distances } = index.hnsw.searchKnn(vector, Math.min(n, index.chunks.length), allow);
      neighbors.forEach((ord, rank) => {
        add(ord, rank, params.denseWeight).dense = 1 - distances[rank]!;
      });
    }

    const ranked = [...fused]
      .map(([ordinal, s]) => ({ chunk: index.chunks[ordinal]!, ordinal, score: s.score, lexicalScore: s.lexical, denseScore: s.dense }))
      .sort((a, b) => b.score - a.score || a.ordinal - b.ordinal);
    const hits = collapseNearDuplicates(ranked).slice(0, opts.k);
    return { hits, coverage: hits[0] ? termCoverage(index, query, hits[0].chunk) : 0 };
  }
}

/** IDF-weighted share of the query's terms that occur in the chunk (title and section included). */
export function termCoverage(index: Pick<LoadedIndex, "lexical">, query: string, chunk: Chunk): number {
  const qs = [...new Set(terms(query))];
  if (qs.length === 0) return 0;
  const have = new Set(terms(`${chunk.title} ${chunk.section ?? ""} ${chunk.text}`));
  let total = 0;
  let found = 0;
  for (const t of qs) {
    const w = index.lexical.idf(t);
    total += w;
    if (have.has(t)) found += w;
  }
  return total ? found / total : 0;
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

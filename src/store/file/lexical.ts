/**
 * BM25 lexical index over the chunks' indexed text.
 * Written here rather than taken from LangChain: its BM25Retriever re-scores every document on every
 * query and cannot be saved, filtered by document or loaded from disk; this one is ~100 lines, persisted
 * in lexical.json of each generation, and answers a query in well under a millisecond at this corpus
 * size. Postings are by chunk ordinal inside this file; FileLexicalStore speaks chunk ids to the port.
 */
import { terms } from "../../text/analyze.js";
import type { Chunk, DocumentFilter, LexicalStore, ScoredId } from "../types.js";

export interface LexicalData {
  k1: number;
  b: number;
  /** Document length (in terms) of each chunk, by chunk ordinal. */
  lengths: number[];
  /** term -> [ordinal, term frequency, ordinal, tf, ...] */
  postings: Record<string, number[]>;
}

export interface LexicalHit {
  ordinal: number;
  score: number;
}

export function buildLexical(texts: string[], k1 = 1.2, b = 0.75): LexicalData {
  const postings: Record<string, number[]> = Object.create(null);
  const lengths: number[] = [];
  texts.forEach((text, ordinal) => {
    const ts = terms(text);
    lengths.push(ts.length);
    const tf = new Map<string, number>();
    for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [t, n] of tf) (postings[t] ??= []).push(ordinal, n);
  });
  return { k1, b, lengths, postings };
}

export class LexicalIndex {
  private readonly avgLength: number;
  private readonly postings: Map<string, number[]>;
  private scratch: Float64Array | undefined;

  constructor(private readonly data: LexicalData) {
    const n = data.lengths.length;
    this.avgLength = n ? data.lengths.reduce((a, b) => a + b, 0) / n : 1;
    this.postings = new Map(Object.entries(data.postings));
  }

  get size(): number {
    return this.data.lengths.length;
  }

  /** Inverse document frequency (BM25+ style, never negative). */
  idf(term: string): number {
    const df = (this.postings.get(term)?.length ?? 0) / 2;
    return Math.log(1 + (this.size - df + 0.5) / (df + 0.5));
  }

  has(term: string): boolean {
    return this.postings.has(term);
  }

  /** Top `k` chunks for the query; `allow` restricts to some ordinals (document filter). */
  search(query: string, k: number, allow?: (ordinal: number) => boolean): LexicalHit[] {
    return this.searchTerms(terms(query), k, allow);
  }

  /** Top `k` chunks for already analysed query terms. */
  searchTerms(queryTerms: Iterable<string>, k: number, allow?: (ordinal: number) => boolean): LexicalHit[] {
    const { k1, b, lengths } = this.data;
    // Dense accumulators (one slot per chunk, reused): a Map per query cost more than the scoring itself.
    const scores = (this.scratch ??= new Float64Array(this.size));
    const touched: number[] = [];
    for (const term of new Set(queryTerms)) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = this.idf(term);
      for (let i = 0; i < list.length; i += 2) {
        const ord = list[i]!;
        if (allow && !allow(ord)) continue;
        const tf = list[i + 1]!;
        const norm = tf + k1 * (1 - b + (b * lengths[ord]!) / this.avgLength);
        if (scores[ord] === 0) touched.push(ord);
        scores[ord]! += (idf * tf * (k1 + 1)) / norm;
      }
    }
    touched.sort((x, y) => scores[y]! - scores[x]! || x - y);
    const out = touched.slice(0, k).map((ordinal) => ({ ordinal, score: scores[ordinal]! }));
    for (const ord of touched) scores[ord] = 0;
    return out;
  }

  toJSON(): LexicalData {
    return this.data;
  }
}

/** The LexicalStore port over a LexicalIndex: chunk ids out, a document filter in, per-document vocabularies. */
export class FileLexicalStore implements LexicalStore {
  private byDoc: Map<string, Set<string>> | undefined;

  constructor(
    readonly index: LexicalIndex,
    private readonly chunks: readonly Pick<Chunk, "id" | "docId">[],
  ) {}

  async search(queryTerms: readonly string[], k: number, filter?: DocumentFilter): Promise<ScoredId[]> {
    const docs = filter?.docs;
    const allow = docs ? (ord: number) => docs.has(this.chunks[ord]!.docId) : undefined;
    return this.index.searchTerms(queryTerms, k, allow).map((h) => ({ id: this.chunks[h.ordinal]!.id, score: h.score }));
  }

  idf(term: string): number {
    return this.index.idf(term);
  }

  has(term: string): boolean {
    return this.index.has(term);
  }

  /** Built on first use from the postings: the set of terms each document uses. */
  documentUses(docId: string, term: string): boolean {
    if (!this.byDoc) {
      const byDoc = new Map<string, Set<string>>();
      for (const [t, list] of Object.entries(this.index.toJSON().postings)) {
        for (let i = 0; i < list.length; i += 2) {
          const d = this.chunks[list[i]!]!.docId;
          let set = byDoc.get(d);
          if (!set) byDoc.set(d, (set = new Set()));
          set.add(t);
        }
      }
      this.byDoc = byDoc;
    }
    return this.byDoc.get(docId)?.has(term) ?? false;
  }
}

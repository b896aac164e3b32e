/**
 * Sentence windows: the run of at most 3 consecutive sentences (about 600 characters) of a passage that
 * holds the largest IDF-weighted share of a question's terms. Used by the proximity reranker (terms
 * that co-occur in a few sentences beat terms scattered over a chunk) and by the extractive answerer.
 */
import { terms } from "../index/analyze.js";

export const MAX_SENTENCES = 3;
export const MAX_CHARS = 600;

const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });

export function sentencesOf(text: string): string[] {
  return [...segmenter.segment(text.replace(/\s*\n\s*/g, " "))].map((s) => s.segment.trim()).filter((s) => s.length > 0);
}

/** The question's terms and their weights (IDF). */
export class QuestionTerms {
  readonly weights: Map<string, number>;
  readonly total: number;

  constructor(question: string, idf: (term: string) => number) {
    this.weights = new Map([...new Set(terms(question))].map((t) => [t, idf(t)]));
    this.total = [...this.weights.values()].reduce((a, b) => a + b, 0) || 1;
  }

  /** IDF-weighted share of the question's terms present in `have`. */
  share(have: Set<string>): number {
    let found = 0;
    for (const [t, w] of this.weights) if (have.has(t)) found += w;
    return found / this.total;
  }
}

export interface Window {
  sentences: string[];
  /** Share of the question in the window's own sentences. */
  own: number;
  /** Share of the question in the window plus the passage heading. */
  coverage: number;
  /** Share of the question anywhere in the passage plus its heading. */
  passageCoverage: number;
}

/** Every candidate window of a passage, each with its coverage (windows start at a sentence holding a question term). */
export function windowsOf(q: QuestionTerms, text: string, heading: string): Window[] {
  const head = new Set(terms(heading));
  const sentences = sentencesOf(text).map((s) => ({ text: s, terms: terms(s) }));
  const passageCoverage = q.share(new Set([...head, ...sentences.flatMap((s) => s.terms)]));
  const out: Window[] = [];
  for (let i = 0; i < sentences.length; i++) {
    if (!sentences[i]!.terms.some((t) => q.weights.has(t))) continue;
    const own = new Set<string>();
    let chars = 0;
    for (let j = i; j < Math.min(sentences.length, i + MAX_SENTENCES); j++) {
      const s = sentences[j]!;
      if (j > i && chars + s.text.length > MAX_CHARS) break;
      chars += s.text.length;
      s.terms.forEach((t) => own.add(t));
      out.push({
        sentences: sentences.slice(i, j + 1).map((x) => x.text),
        own: q.share(own),
        coverage: q.share(new Set([...head, ...own])),
        passageCoverage,
      });
    }
  }
  return out;
}

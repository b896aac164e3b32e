/**
 * The extractive answerer: no model, no network. It answers with the window of consecutive sentences
 * (at most 3 sentences, about 600 characters, see retrieval/windows.ts) of the retrieved passages that
 * best covers the question, and cites its passage.
 *
 * A window's score is its coverage of the question (window + passage heading: the reader sees the
 * document and section on the citation), plus a smaller credit for the rest of the passage, a bonus for
 * the passage's rank, and a bonus for numbers when the question asks for a quantity. Reading on from the
 * best-matching sentence often reaches the answer itself ("...a classifier. It is trained using
 * logistic regression").
 */
import type { LexicalIndex } from "../index/lexical.js";
import { MAX_CHARS, QuestionTerms, windowsOf } from "../retrieval/windows.js";
import type { Passage } from "./context.js";

export interface ExtractiveAnswer {
  text: string;
  /** Passage numbers cited. */
  cited: number[];
  /** Coverage of the question by the chosen window and its heading, 0..1 (evidence for abstention). */
  coverage: number;
}

const QUANTITY = /\b(how (many|much|big|large|long|often)|what (share|fraction|percentage|proportion|number|size)|roughly|cost)\b/i;

export function extractAnswer(question: string, passages: Passage[], lexical: Pick<LexicalIndex, "idf">, headingOf: (p: Passage) => string): ExtractiveAnswer {
  const q = new QuestionTerms(question, (t) => lexical.idf(t));
  const wantsNumber = QUANTITY.test(question);
  let best: { n: number; sentences: string[]; score: number; coverage: number } | undefined;
  for (const p of passages) {
    for (const w of windowsOf(q, p.text, headingOf(p))) {
      let score = w.coverage + 0.2 * w.passageCoverage + 0.08 / p.n - 0.03 * (w.sentences.length - 1);
      if (wantsNumber && w.sentences.some((s) => /\d/.test(s))) score += 0.08;
      if (!best || score > best.score) best = { n: p.n, sentences: w.sentences, score, coverage: w.coverage };
    }
  }
  if (!best) return { text: "", cited: [], coverage: 0 };
  return { text: `${trimTo(best.sentences.join(" "), MAX_CHARS)} [${best.n}]`, cited: [best.n], coverage: best.coverage };
}

function trimTo(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, s.lastIndexOf(" ", max - 1))} …`;
}

/**
 * The extractive answerer: no model, no network. It picks the few sentences of the retrieved
 * passages that best match the question (at most 3 sentences, about 600 characters) and cites them.
 *
 * Sentence score = IDF-weighted share of the question's terms in the sentence (with a smaller credit
 * for terms that only its passage has), plus a bonus for the passage's rank and for numbers when the
 * question asks for a quantity.
 */
import { terms } from "../index/analyze.js";
import type { LexicalIndex } from "../index/lexical.js";
import type { Passage } from "./context.js";

export const MAX_SENTENCES = 3;
export const MAX_CHARS = 600;

export interface ExtractiveAnswer {
  text: string;
  /** Passage numbers cited. */
  cited: number[];
  /** Score of the best sentence (0..~1.3): evidence strength for abstention. */
  bestScore: number;
}

interface Candidate {
  n: number;
  index: number;
  text: string;
  score: number;
}

const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });
const QUANTITY = /\b(how (many|much|big|large|long)|what (share|fraction|percentage|proportion|number)|roughly|cost)\b/i;

export function sentencesOf(text: string): string[] {
  return [...segmenter.segment(text.replace(/\s*\n\s*/g, " "))].map((s) => s.segment.trim()).filter((s) => s.length > 0);
}

export function extractAnswer(question: string, passages: Passage[], lexical: Pick<LexicalIndex, "idf">): ExtractiveAnswer {
  const qTerms = [...new Set(terms(question))];
  const weight = new Map(qTerms.map((t) => [t, lexical.idf(t)]));
  const total = [...weight.values()].reduce((a, b) => a + b, 0) || 1;
  const wantsNumber = QUANTITY.test(question);

  const candidates: Candidate[] = [];
  for (const p of passages) {
    const passageTerms = new Set(terms(`${p.hit.chunk.section ?? ""} ${p.text}`));
    const passageShare = qTerms.reduce((s, t) => s + (passageTerms.has(t) ? weight.get(t)! : 0), 0) / total;
    sentencesOf(p.text).forEach((text, index) => {
      if (text.length < 20) return;
      const own = new Set(terms(text));
      const share = qTerms.reduce((s, t) => s + (own.has(t) ? weight.get(t)! : 0), 0) / total;
      let score = share + 0.25 * passageShare + 0.1 / p.n;
      if (wantsNumber && /\d/.test(text)) score += 0.1;
      if (text.length > 400) score -= 0.1;
      candidates.push({ n: p.n, index, text, score });
    });
  }
  candidates.sort((a, b) => b.score - a.score);
  const best = candidates[0];
  if (!best) return { text: "", cited: [], bestScore: 0 };

  // The best sentence, then the next best ones that still add something, within the limits.
  const chosen: Candidate[] = [best];
  let chars = best.text.length;
  for (const c of candidates.slice(1)) {
    if (chosen.length >= MAX_SENTENCES) break;
    if (c.score < best.score * 0.75) break;
    if (chars + c.text.length > MAX_CHARS) continue;
    chosen.push(c);
    chars += c.text.length;
  }
  // Read in document order within a passage, passages in rank order.
  chosen.sort((a, b) => a.n - b.n || a.index - b.index);
  const text = chosen.map((c) => `${trimTo(c.text, MAX_CHARS)} [${c.n}]`).join(" ");
  return { text, cited: [...new Set(chosen.map((c) => c.n))], bestScore: best.score };
}

function trimTo(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, s.lastIndexOf(" ", max - 1))} …`;
}

/**
 * Is the evidence strong enough to answer? Two signals, calibrated on the dev set's answerable and
 * unanswerable questions (`npm run eval -- --sweep` prints the trade-off):
 *  - novelty: the share of the question's weight in words the corpus never uses ("RoPE", "Australia"):
 *    when it is large, the documents are about something else;
 *  - coverage: how much of the question the best answer window and its passage heading hold.
 */
import { terms } from "../index/analyze.js";
import type { LexicalIndex } from "../index/lexical.js";

export interface Evidence {
  coverage: number;
  novelty: number;
  grounded: boolean;
}

/** Above this share of unknown words, the question is about something the corpus does not cover. */
export const MAX_NOVELTY = 0.25;

export function judgeEvidence(question: string, coverage: number, lexical: Pick<LexicalIndex, "idf" | "has">, threshold: number): Evidence {
  const qs = [...new Set(terms(question, false))].filter((t) => !/^\d+$/.test(t));
  let total = 0;
  let unknown = 0;
  for (const t of qs) {
    const w = lexical.idf(t);
    total += w;
    if (!lexical.has(t)) unknown += w;
  }
  const novelty = total ? unknown / total : 1;
  return { coverage, novelty, grounded: novelty < MAX_NOVELTY && coverage >= threshold };
}

/**
 * Is the evidence strong enough to answer? Three checks, calibrated on the dev set's answerable and
 * unanswerable questions (README "Quality and performance"):
 *  - novelty: the share of the question's weight (IDF) in words the corpus never uses ("RoPE",
 *    "Australia"): when it is large, the documents are about something else;
 *  - named-document novelty: when the question names a document ("the LLMs in production post",
 *    "GPT-1"), the same share measured against the words that document uses;
 *  - coverage: how much of the question the best answer window and its passage heading hold.
 */
import { terms } from "../index/analyze.js";
import type { LexicalIndex } from "../index/lexical.js";
import type { DocumentTerms } from "../retrieval/documents.js";

export interface Evidence {
  coverage: number;
  /** Share of the question's weight in words the corpus never uses. */
  novelty: number;
  /** Lowest share of the question's weight missing from a document the question names (0 when none is named). */
  namedNovelty: number;
  grounded: boolean;
}

/** Above this share of unknown words, the question is about something the corpus does not cover (set between the dev set's answerable and off-topic questions). */
export const MAX_NOVELTY = 0.25;
/** Same for the document a question names (set between the dev set's answerable and unanswerable questions). */
export const MAX_NAMED_NOVELTY = 0.35;

export function judgeEvidence(
  question: string,
  coverage: number,
  corpus: { lexical: Pick<LexicalIndex, "idf" | "has">; documents: DocumentTerms },
  threshold: number,
): Evidence {
  const qs = [...new Set(terms(question, false))].filter((t) => !/^\d+$/.test(t));
  const missingShare = (ignore: string[], missing: (t: string) => boolean) => {
    let total = 0;
    let miss = 0;
    for (const t of qs) {
      if (ignore.includes(t)) continue;
      const w = corpus.lexical.idf(t);
      total += w;
      if (missing(t)) miss += w;
    }
    return total ? miss / total : 0;
  };
  const novelty = qs.length ? missingShare([], (t) => !corpus.lexical.has(t)) : 1;
  const named = corpus.documents.named(question);
  const namedNovelty = named.length ? Math.min(...named.map((d) => missingShare(d.nameTerms, (t) => !corpus.documents.uses(d.docId, t)))) : 0;
  const grounded = novelty < MAX_NOVELTY && namedNovelty < MAX_NAMED_NOVELTY && coverage >= threshold;
  return { coverage, novelty, namedNovelty, grounded };
}

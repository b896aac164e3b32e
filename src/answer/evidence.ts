/**
 * Is the evidence strong enough to answer? Three checks on the query analysis and the reader's result:
 *  - novelty: the share of the question's weight (IDF) in words the corpus never uses ("RoPE",
 *    "Australia"): when it is large, the documents are about something else;
 *  - named-document novelty: when the question names a document ("the LLMs in production post",
 *    "GPT-1"), the same share measured against the words that document uses;
 *  - coverage: how much of the question the best answer window, its neighbours and its passage
 *    heading hold (`threshold`, ABSTAIN_THRESHOLD).
 */
import type { DocumentTerms } from "../retrieval/documents.js";
import type { QueryAnalysis } from "../retrieval/query.js";

export interface Evidence {
  coverage: number;
  /** Share of the question's weight in words the corpus never uses. */
  novelty: number;
  /** Lowest share of the question's weight missing from a document the question names (0 when none is named). */
  namedNovelty: number;
  grounded: boolean;
}

export interface EvidenceLimits {
  /** Minimum coverage of the question by the best window with its context. */
  threshold: number;
  /** Above this share of words unknown to the corpus, the question is about something else. */
  maxNovelty: number;
  /** Same, for the document the question names. */
  maxNamedNovelty: number;
}

export const DEFAULT_EVIDENCE_LIMITS: Omit<EvidenceLimits, "threshold"> = { maxNovelty: 0.25, maxNamedNovelty: 0.35 };

export function judgeEvidence(q: QueryAnalysis, coverage: number, documents: Pick<DocumentTerms, "uses">, limits: EvidenceLimits): Evidence {
  // Numbers say nothing about the topic ("2018", "10k"); a question of numbers alone is judged on coverage.
  const content = q.terms.filter((t) => !/^\d+$/.test(t.term));
  const missingShare = (ignore: string[], missing: (t: string) => boolean) => {
    let total = 0;
    let miss = 0;
    for (const t of content) {
      if (ignore.includes(t.term)) continue;
      total += t.weight;
      if (missing(t.term)) miss += t.weight;
    }
    return total ? miss / total : 0;
  };
  const novelty = content.length ? missingShare([], (t) => !q.terms.find((x) => x.term === t)!.known) : 1;
  const namedNovelty = q.named.length ? Math.min(...q.named.map((d) => missingShare(d.nameTerms, (t) => !documents.uses(d.docId, t)))) : 0;
  const grounded = novelty < limits.maxNovelty && namedNovelty < limits.maxNamedNovelty && coverage >= limits.threshold;
  return { coverage, novelty, namedNovelty, grounded };
}

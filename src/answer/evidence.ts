/**
 * Is the evidence strong enough to answer? Three checks on the query analysis and the reader's result:
 *  - novelty: the share of the question's weight (IDF) in words the corpus never uses ("RoPE",
 *    "Australia"): when it is large, the documents are about something else;
 *  - named-document novelty: when the question names a document ("the LLMs in production post",
 *    "GPT-1"), the same share measured against the words that document uses;
 *  - coverage: how much of the question the best answer window, its neighbours and its passage
 *    heading hold (`threshold`, ABSTAIN_THRESHOLD);
 *  - the asked-for thing: a question that wants a number or a name ("how many GPUs", "which
 *    optimizer") is answered only when the chosen window holds one tied to what is asked
 *    (`minCandidate`, ABSTAIN_MIN_CANDIDATE, on the 0..1.5 scale of candidateStrength): talking around
 *    the topic is not stating the fact.
 */
import type { DocumentTerms } from "../retrieval/documents.js";
import type { QueryAnalysis } from "../retrieval/query.js";

export interface Evidence {
  coverage: number;
  /** Share of the question's weight in words the corpus never uses. */
  novelty: number;
  /** Lowest share of the question's weight missing from a document the question names (0 when none is named). */
  namedNovelty: number;
  /** Candidate strength of the chosen window. */
  candidate: number;
  grounded: boolean;
}

export interface EvidenceLimits {
  /** Minimum coverage of the question by the best window with its context. */
  threshold: number;
  /** Above this share of words unknown to the corpus, the question is about something else. */
  maxNovelty: number;
  /** Same, for the document the question names. */
  maxNamedNovelty: number;
  /** Quantity and name questions: the least candidate strength the chosen window must hold. */
  minCandidate: number;
}

export const DEFAULT_EVIDENCE_LIMITS: EvidenceLimits = { threshold: 0.3, maxNovelty: 0.25, maxNamedNovelty: 0.35, minCandidate: 0 };

export function judgeEvidence(
  q: QueryAnalysis,
  found: { coverage: number; candidate: number },
  documents: Pick<DocumentTerms, "uses">,
  limits: EvidenceLimits,
): Evidence {
  const { coverage } = found;
  // Numbers say nothing about the topic ("2018", "10k"), and joined compounds repeat their parts.
  const content = q.terms.filter((t) => !/^\d+$/.test(t.term) && !t.joined);
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
  const unknown = new Set(content.filter((t) => !t.known).map((t) => t.term));
  const novelty = content.length ? missingShare([], (t) => unknown.has(t)) : 1;
  const namedNovelty = q.named.length ? Math.min(...q.named.map((d) => missingShare(d.nameTerms, (t) => !documents.uses(d.docId, t)))) : 0;
  const wantsCandidate = q.kind === "quantity" || q.kind === "entity";
  const candidate = !wantsCandidate || found.candidate >= limits.minCandidate;
  const grounded = novelty < limits.maxNovelty && namedNovelty < limits.maxNamedNovelty && coverage >= limits.threshold && candidate;
  return { coverage, novelty, namedNovelty, candidate: found.candidate, grounded };
}

/**
 * Judging a retrieved passage and an answer against a question of the evaluation set.
 *
 * HIT RULE (isHit). A retrieved chunk is a hit for an answerable item when it comes from the item's
 * document AND, after folding both texts with fold() (Unicode NFKC, lower case, punctuation, symbols
 * and hyphens replaced by spaces, whitespace collapsed), one of these holds:
 *
 *   1. the whole support occurs in the chunk. The comparison ignores the spaces between words as
 *      well, so that extraction differences like "pre-training" / "pre- training" / "pretraining"
 *      (end-of-line hyphenation) or "67,000" / "67 000" do not matter;
 *   2. a contiguous run of the support's words covering at least 60% of them (RUN_SHARE) occurs in
 *      the chunk, compared the same way: the support was cut at a chunk edge (its head ends one chunk
 *      and its tail starts the next), or the extractor garbled a word or two (a margin stamp or a
 *      footnote marker in the middle of the sentence);
 *   3. at least 85% (BAG_SHARE) of the support's distinct words are words of the chunk (a chunk word
 *      also counts joined with its neighbour, for hyphenation): table rows, whose cells extractors
 *      emit in different column orders, so the words are there but not in sequence.
 *
 * Unanswerable items (doc null) have no hit. The thresholds are deliberately strict enough that a
 * passage that merely mentions the topic is not a hit: the support is 6-25 words, so rule 2 needs a
 * run of at least 4 consecutive words of the answering sentence.
 *
 * ANSWER RULE (answerCorrect), as ../shared/eval/README.md states it: the answer is right when it
 * contains any expected answer, case-insensitively, after Unicode NFKC and whitespace folding.
 */
import type { EvalItem } from "./dataset.js";

export const RUN_SHARE = 0.6;
export const BAG_SHARE = 0.85;

/** NFKC, lower case, punctuation/symbols/hyphens -> space, whitespace collapsed and trimmed. */
export function fold(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\u00ad/g, "") // soft hyphen: invisible, joins the word's halves
    .replace(/[\p{P}\p{S}]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** fold() without the spaces: the form substrings are compared in. */
const squash = (folded: string): string => folded.replace(/ /g, "");

/** Folded text prepared once for repeated matching (a chunk against many items). */
export interface PreparedText {
  folded: string;
  squashed: string;
  words: Set<string>;
}

export function prepare(text: string): PreparedText {
  const folded = fold(text);
  const list = folded ? folded.split(" ") : [];
  const words = new Set(list);
  // "lan- guage" extracted across a line break folds to "lan guage": let "language" match it.
  for (let i = 0; i + 1 < list.length; i++) words.add(list[i]! + list[i + 1]!);
  return { folded, squashed: squash(folded), words };
}

/** How the support was found in a chunk (for reports and tests); null when it was not. */
export type HitReason = "exact" | "run" | "bag";

export function matchSupport(chunk: string | PreparedText, support: string): HitReason | null {
  const c = typeof chunk === "string" ? prepare(chunk) : chunk;
  const folded = fold(support);
  if (!folded) return null;
  if (c.squashed.includes(squash(folded))) return "exact";

  const words = folded.split(" ");
  const n = words.length;
  const minRun = Math.ceil(RUN_SHARE * n);
  // Longest run starting at each word; a sub-run of a found run is found too, so extending is enough.
  let best = 0;
  for (let i = 0; i + minRun <= n; i++) {
    let run = "";
    let j = i;
    while (j < n && c.squashed.includes(run + words[j]!)) run += words[j++]!;
    best = Math.max(best, j - i);
    if (best >= minRun) return "run";
  }

  const distinct = [...new Set(words)];
  const present = distinct.filter((w) => c.words.has(w)).length;
  if (present / distinct.length >= BAG_SHARE) return "bag";
  return null;
}

/** True when a chunk from `chunkDocId` with this text answers the item (see the HIT RULE above). */
export function isHit(chunkText: string | PreparedText, chunkDocId: string, item: Pick<EvalItem, "doc" | "support">): boolean {
  if (item.doc === null || item.support === null || chunkDocId !== item.doc) return false;
  return matchSupport(chunkText, item.support) !== null;
}

/** NFKC, lower case, whitespace collapsed: the README's answer comparison. */
export function foldAnswer(s: string): string {
  return s.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
}

/** True when the answer contains any expected answer (README rule). Items without expected answers: false. */
export function answerCorrect(answer: string, item: Pick<EvalItem, "answers">): boolean {
  const a = foldAnswer(answer);
  return item.answers.some((expected) => {
    const e = foldAnswer(expected);
    return e.length > 0 && a.includes(e);
  });
}

/** 1-based rank of the first hit among the retrieved chunks (in order), or null when none is a hit. */
export function firstHitRank(retrieved: Array<{ docId: string; text: string }>, item: Pick<EvalItem, "doc" | "support">): number | null {
  const i = retrieved.findIndex((r) => isHit(r.text, r.docId, item));
  return i < 0 ? null : i + 1;
}

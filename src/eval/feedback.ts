/**
 * Live feedback as an evaluation set (`npm run eval -- --set feedback`): the rated answers in the
 * feedback store (DATA_DIR/feedback.jsonl, or the Postgres feedback table with INDEX_STORE=postgres)
 * become regression questions, and the ratings are summarised by prompt version beside the offline
 * figures.
 *
 *   down, with an expected answer        -> a question whose expected answer is the rater's
 *   down, expected "The documents do not cover this." -> an unanswerable question
 *   up, answered                         -> a question that must still be answered citing the same
 *                                           document (and containing the expected answer, if given)
 *   up, declined                         -> an unanswerable question (the decline was right)
 *   down, no expected answer             -> not a question: listed for a person to look at
 *
 * The latest rating of an answer counts; the standalone question (what was searched) is asked.
 */
import type { FeedbackRecord, FeedbackStore } from "../service/index.js";
import type { EvalItem } from "./dataset.js";

const ABSTAIN = /documents do not cover this|not covered/i;

export interface LiveFeedback {
  promptVersion: string;
  up: number;
  down: number;
  /** up / (up + down) */
  upShare: number;
}

export interface FeedbackSet {
  items: EvalItem[];
  /** Down-rated answers without an expected answer: nothing to score them against. */
  toReview: Array<Pick<FeedbackRecord, "answerId" | "question" | "answer" | "comment" | "promptVersion">>;
  live: LiveFeedback[];
  records: number;
}

export function feedbackSet(records: FeedbackRecord[]): FeedbackSet {
  const latest = new Map<string, FeedbackRecord>();
  for (const r of records) latest.set(r.answerId, r);
  const items: EvalItem[] = [];
  const toReview: FeedbackSet["toReview"] = [];
  for (const r of latest.values()) {
    const base = { id: `fb-${r.answerId.slice(0, 8)}`, question: r.standaloneQuestion, support: null, page: null };
    const expected = r.expected?.trim();
    if (r.rating === "down") {
      if (!expected) toReview.push({ answerId: r.answerId, question: r.question, answer: r.answer, comment: r.comment, promptVersion: r.promptVersion });
      else if (ABSTAIN.test(expected)) items.push({ ...base, doc: null, answers: [], kind: "unanswerable" });
      else items.push({ ...base, doc: null, answers: [expected], kind: "feedback" });
      continue;
    }
    if (!r.grounded) items.push({ ...base, doc: null, answers: [], kind: "unanswerable" });
    else {
      const doc = r.cited[0]?.docId ?? null;
      if (doc === null && !expected) continue; // an approved answer that cites nothing: nothing to hold it to
      items.push({ ...base, doc, answers: expected && !ABSTAIN.test(expected) ? [expected] : [], kind: "feedback" });
    }
  }
  return { items, toReview, live: byPromptVersion([...latest.values()]), records: records.length };
}

export function byPromptVersion(records: FeedbackRecord[]): LiveFeedback[] {
  const by = new Map<string, { up: number; down: number }>();
  for (const r of records) {
    const v = by.get(r.promptVersion) ?? { up: 0, down: 0 };
    v[r.rating]++;
    by.set(r.promptVersion, v);
  }
  return [...by]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([promptVersion, { up, down }]) => ({ promptVersion, up, down, upShare: up / (up + down) }));
}

export async function loadFeedbackSet(store: FeedbackStore): Promise<FeedbackSet> {
  return feedbackSet(await store.all());
}

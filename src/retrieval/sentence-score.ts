/**
 * How well a short run of a passage's sentences (a window of one or two) answers a question. Shared by
 * the reranker (a passage is as good as its best window) and the reader (which answers with it).
 *
 * Signals, each following from how questions and their answers are written:
 *  - own:       the share (IDF-weighted) of the question's terms in the window itself;
 *  - context:   the share in the window, its neighbours, the passage heading (title, aliases, section)
 *               and, for a table row, the table's header: a sentence often leaves its subject to the
 *               one before it or to the heading;
 *  - candidate: the window holds something of the kind the question asks for, other than what the
 *               question already says (a number for "how many", a name for "which", a cue of a reason
 *               for "why", a definition for "what is"); stronger next to the focus noun ("the *Adam*
 *               optimizer") or a question term;
 *  - shape:     headings, formulas and flattened tables are not answers when a sentence states the fact;
 *  - length:    a second sentence must earn its place (it often does: the sentence that restates the
 *               question is followed by the one that answers it).
 * A window that opens by pointing back ("This is the most popular ...") starts one unit earlier, so the
 * answer carries what "this" is.
 */
import type { AnalyzedPassage, AnalyzedSentence, SentenceShape } from "./passages.js";
import type { QueryAnalysis } from "./query.js";

export interface SentenceWeights {
  /** Weight of the context share against the window's own share. */
  context: number;
  /** Bonus for a candidate answer of the asked-for kind (times 0.5, 1 or 1.5, see candidateStrength). */
  candidate: number;
  /** Cost of a second sentence in a window. */
  length: number;
  /** Multiplier of a window's score by the shape of its sentences (1 = no penalty). */
  shape: Record<Exclude<SentenceShape, "sentence">, number>;
}

export const DEFAULT_SENTENCE_WEIGHTS: SentenceWeights = {
  context: 0.5,
  candidate: 0.3,
  length: 0.1,
  shape: { label: 0.3, formula: 0.5, table: 0.6, row: 0.9 },
};

export interface WindowScore {
  /** Index of the window's first and last sentence in the passage. */
  start: number;
  end: number;
  own: number;
  context: number;
  /** 0 (none), 0.5 (a weak cue), 1 (a candidate), 1.5 (a candidate next to the focus or a question term). */
  candidate: number;
  score: number;
}

const REASON_CUE =
  /\b(because|since|so that|in order to|due to|thus|therefore|hence|as a result|this (allows|enables|makes|means|helps)|which (allows|enables|makes|means|helps)|only (requires?|needs?)|easier|harder|more (consistent|reliable|efficient|accurate|robust|stable|diverse)|less (noisy|expensive)|better|cheaper|faster|higher[- ]quality|avoids?|prevents?|reduces?|improves?|leads? to|allows?|enables?|helps?|motivat\w+|to (reduce|avoid|improve|ensure|prevent|encourage|make))\b/i;
const DEFINITION_CUE = /\b(is|are|refers? to|means?|called|known as|defined as|denotes?|consists? of)\b/i;
const METHOD_CUE = /\b(by|using|via|through|we (use|add|train|apply|ask|compute|concatenate|inject|sample|fine-?tune|collect|filter|mix|insert|feed|convert|treat))\b/i;

const normNumber = (s: string) => s.toLowerCase().replace(/,/g, "");

/** 0/0.5/1/1.5: whether the sentence holds an answer of the asked-for kind (see the file comment). */
export function candidateStrength(q: QueryAnalysis, s: AnalyzedSentence): number {
  const tokens = s.tokens;
  const near = (at: number) => {
    for (let j = Math.max(0, at - 3); j <= Math.min(tokens.length - 1, at + 3); j++)
      if (j !== at && tokens[j]!.terms.some((t) => q.focus.has(t) || q.weights.has(t))) return true;
    return false;
  };
  // A table row is read with its header: its values stand next to the header's column names.
  const rowNear = s.shape === "row" && s.header !== undefined && [...q.weights.keys()].some((t) => s.header!.terms.has(t) || s.termSet.has(t));
  switch (q.kind) {
    case "quantity": {
      const questionNumbers = new Set([...q.numbers].map(normNumber));
      let best = 0;
      tokens.forEach((t, i) => {
        if (t.number && !questionNumbers.has(normNumber(t.text))) best = Math.max(best, rowNear || near(i) ? 1.5 : 1);
      });
      return best;
    }
    case "entity": {
      let best = 0;
      tokens.forEach((t, i) => {
        if (t.name && t.terms.length > 0 && !t.terms.every((x) => q.weights.has(x))) best = Math.max(best, near(i) ? 1.5 : 1);
      });
      return best;
    }
    case "reason":
      return REASON_CUE.test(s.text) ? 1 : 0;
    case "definition":
      return DEFINITION_CUE.test(s.text) ? 1 : 0;
    case "method":
      return METHOD_CUE.test(s.text) ? 0.5 : 0;
    default:
      return 0;
  }
}

function shareOf(q: QueryAnalysis, sets: ReadonlyArray<ReadonlySet<string>>): number {
  let found = 0;
  for (const t of q.terms) if (sets.some((set) => set.has(t.term))) found += t.weight;
  return found / q.totalWeight;
}

/** Every window of one or two sentences of the passage, scored against the question. */
export function scoreWindows(q: QueryAnalysis, passage: AnalyzedPassage, heading: ReadonlySet<string>, w: SentenceWeights = DEFAULT_SENTENCE_WEIGHTS): WindowScore[] {
  const ss = passage.sentences;
  const own = ss.map((s) => shareOf(q, [s.termSet]));
  const candidate = ss.map((s, i) => (own[i]! > 0 || s.shape === "row" ? candidateStrength(q, s) : 0));
  const factor = (s: AnalyzedSentence) => (s.shape === "sentence" ? 1 : w.shape[s.shape]);
  const out: WindowScore[] = [];
  const push = (start: number, end: number) => {
    const members = ss.slice(start, end + 1);
    const sets = members.map((s) => s.termSet);
    const ownShare = end === start ? own[start]! : shareOf(q, sets);
    if (ownShare === 0 && !members.some((s) => s.header)) return;
    const around = [...sets, heading];
    if (start > 0 && ss[start - 1]!.block === ss[start]!.block) around.push(ss[start - 1]!.termSet);
    if (end + 1 < ss.length && ss[end + 1]!.block === ss[end]!.block) around.push(ss[end + 1]!.termSet);
    for (const s of members) if (s.header) around.push(s.header.terms);
    const context = shareOf(q, around);
    const cand = Math.max(...candidate.slice(start, end + 1));
    const shape = members.reduce((f, s) => f * factor(s), 1) ** (1 / members.length);
    const score = (ownShare + w.context * context + w.candidate * cand) * shape - w.length * (end - start);
    out.push({ start, end, own: ownShare, context, candidate: cand, score });
  };
  for (let i = 0; i < ss.length; i++) {
    const s = ss[i]!;
    // An anaphoric opening needs the unit before it (a heading, or the sentence "this" refers to).
    if (s.anaphoric && i > 0) push(i - 1, i);
    else push(i, i);
    const next = ss[i + 1];
    if (next && next.block === s.block && next.shape === "sentence" && s.shape === "sentence") push(s.anaphoric && i > 0 ? i - 1 : i, i + 1);
  }
  return out;
}

/** The best-scoring window, or null when no window holds a question term. */
export function bestWindow(scores: WindowScore[]): WindowScore | null {
  let best: WindowScore | null = null;
  for (const s of scores) if (!best || s.score > best.score) best = s;
  return best;
}

/** The window as an answer reads: a table row with its columns, a heading with the sentence it introduces. */
export function windowText(passage: AnalyzedPassage, window: Pick<WindowScore, "start" | "end">): string {
  const members = passage.sentences.slice(window.start, window.end + 1);
  return members
    .map((s, i) => {
      if (s.shape === "row") return readRow(s);
      if (s.shape === "label" && i < members.length - 1) return `${s.text.replace(/[:.]?$/, "")}:`;
      return s.text;
    })
    .join(" ");
}

const VALUE = /^(?:[-–]|[$]?\d[\d.,]*[%x×]?)$/;

/** "Generation 45.6%" under "Use-case (%)" -> "Generation 45.6% (Use-case (%))"; aligned columns -> "label: col value, ...". */
export function readRow(s: AnalyzedSentence): string {
  const cells = s.text.split(" | ").map((c) => c.trim());
  if (cells.length >= 2) {
    const head = s.header?.text.split(" | ").map((c) => c.trim());
    return head && head.length === cells.length ? cells.map((c, i) => (i === 0 ? c : `${head[i]}: ${c}`)).join("; ") : cells.join("; ");
  }
  if (!s.header) return s.text;
  const words = s.text.split(" ");
  let v = words.length;
  while (v > 0 && VALUE.test(words[v - 1]!)) v--;
  const values = words.slice(v);
  const columns = s.header.text.split(" ");
  const named = columns.length === values.length + 1 ? columns.slice(1) : columns.length === values.length ? columns : null;
  if (named && v > 0 && values.length >= 2) return `${words.slice(0, v).join(" ")}: ${named.map((c, i) => `${c} ${values[i]}`).join(", ")}`;
  return `${s.text} (${s.header.text})`;
}

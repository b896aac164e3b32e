/**
 * How well a short run of a passage's sentences (a window of one to three) answers a question. Shared by
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
 *  - length:    every sentence after the first must earn its place (it often does: the sentence that
 *               restates the question is followed by the one that answers it); at most 3 sentences
 *               and 420 characters.
 * A window that opens by pointing back ("This is the most popular ...") starts one unit earlier, so the
 * answer carries what "this" is.
 */
import { termId, type AnalyzedPassage, type AnalyzedSentence, type SentenceShape } from "./passages.js";
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
  candidate: 0.6,
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

/** Explicit causal markers: the sentence gives a reason. */
const REASON_STRONG =
  /\b(because|since|so that|in order to|due to|as a result|the (intuition|reason|motivation|rationale) (is|was)|this is (because|why)|(which|this|that) (allows|enables|lets|makes|means|helps|avoids|prevents)|allows? (us|the model|it) to|only (requires?|needs?)|otherwise|so as to)\b/i;
/** Weaker evaluative cues: "easier", "more consistent", "higher quality", "we suspect". */
const REASON_WEAK =
  /\b(we (suspect|believe|hypothesi[sz]e|conjecture|speculate)|likely|presumably|counteract|thus|therefore|hence|easier|harder|more (consistent|reliable|efficient|accurate|robust|stable|diverse)|less (noisy|expensive)|better|cheaper|faster|higher[- ]quality|avoids?|prevents?|reduces?|improves?|leads? to|allows?|enables?|helps?|motivat\w+|to (reduce|avoid|improve|ensure|prevent|encourage|make)|crucially|important(ly)?)\b/i;
const DEFINITION_CUE = /\b(is|are|refers? to|means?|called|known as|defined as|denotes?|consists? of)\b/i;
const METHOD_CUE = /\b(by|using|via|through|with|we (use|add|train|apply|ask|compute|concatenate|inject|sample|fine-?tune|collect|filter|mix|insert|feed|convert|treat))\b/i;
/** Words that name what they introduce: "call this “composability gap”", "known as self-consistency". */
const NAMING = /^(call|calls|called|known|termed|dubbed|named|coined|refer|refers|referred)$/i;
/** Units a measured quantity is written with ("16 epochs", "2 seconds", "570GB", "45.6%"). */
const UNIT =
  /^(%|percent|x|×|times|seconds?|minutes?|hours?|days?|weeks?|months?|years?|ms|tokens?|words?|characters?|bytes?|[kmgtp]b|kwh|kw|flops?|petaflops?|steps?|epochs?|layers?|heads?|parameters?|params|examples?|samples?|prompts?|comparisons?|queries|labelers?|contractors?|gpus?|books?|pages?|documents?|articles?|shards?|languages?|billion|million|thousand|trillion|k|m|b|usd|dollars?|cents?)$/i;

const normNumber = (s: string) => s.toLowerCase().replace(/,/g, "");

/**
 * What window scoring needs from a question, computed once per analysis (the hot path reads it per
 * sentence): the question's terms as bit positions, so that a sentence's match is one 32-bit mask and a
 * window's share is an OR of masks. Questions with more than 31 distinct terms keep their 31 rarest.
 */
interface QuestionFacts {
  /** Bit position of each question term, by term id (-1: not a question term); ids past the end are not. */
  bit: Int8Array;
  /** Whether a term id is part of the focus noun. */
  focus: Uint8Array;
  termIndex: Map<string, number>;
  weights: Float64Array;
  total: number;
  numbers: Set<string>;
  /** The focus asks for a share ("what share", "what fraction"): a percentage is tied to it. */
  share: boolean;
}
const MAX_TERMS = 31;
const FACTS = new WeakMap<QueryAnalysis, QuestionFacts>();
function factsOf(q: QueryAnalysis): QuestionFacts {
  let f = FACTS.get(q);
  if (!f) {
    const kept = q.terms.length <= MAX_TERMS ? q.terms : [...q.terms].sort((a, b) => b.weight - a.weight).slice(0, MAX_TERMS);
    const weights = Float64Array.from(kept, (t) => t.weight);
    const ids = kept.map((t) => termId(t.term));
    const bit = new Int8Array(Math.max(0, ...ids) + 1).fill(-1);
    ids.forEach((id, i) => (bit[id] = i));
    const focusIds = [...q.focus].map(termId);
    const focus = new Uint8Array(Math.max(0, ...focusIds) + 1);
    for (const id of focusIds) focus[id] = 1;
    f = {
      bit,
      focus,
      termIndex: new Map(kept.map((t, i) => [t.term, i])),
      weights,
      total: weights.reduce((a, b) => a + b, 0) || 1,
      numbers: new Set([...q.numbers].map(normNumber)),
      share: [...q.focus].some((x) => /^(share|fraction|percentag|percent|proport)/.test(x)),
    };
    FACTS.set(q, f);
  }
  return f;
}

/** The question terms among these term ids, as a bit mask. */
function maskOf(f: QuestionFacts, ids: Int32Array): number {
  const bit = f.bit;
  let m = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < bit.length && bit[id]! >= 0) m |= 1 << bit[id]!;
  }
  return m;
}

function allInQuestion(f: QuestionFacts, ids: Int32Array): boolean {
  for (let i = 0; i < ids.length; i++) if (!(ids[i]! < f.bit.length && f.bit[ids[i]!]! >= 0)) return false;
  return true;
}

function hasFocus(f: QuestionFacts, ids: Int32Array): boolean {
  for (let i = 0; i < ids.length; i++) if (ids[i]! < f.focus.length && f.focus[ids[i]!] === 1) return true;
  return false;
}

/** Weighted share of the question held by a mask. */
function shareOfMask(f: QuestionFacts, mask: number): number {
  let found = 0;
  for (let m = mask, i = 0; m !== 0; m >>>= 1, i++) if (m & 1) found += f.weights[i]!;
  return found / f.total;
}

/** Whether a token within `span` of `at` (not `at` itself) has a non-zero entry. */
function anyWithin(flags: ArrayLike<number>, at: number, span: number): boolean {
  for (let j = Math.max(0, at - span); j <= Math.min(flags.length - 1, at + span); j++) if (j !== at && flags[j] !== 0) return true;
  return false;
}

/** Share of the question's weight matched within `span` tokens of `at`. */
function localShare(f: QuestionFacts, masks: Int32Array, at: number, span: number): number {
  let m = 0;
  for (let j = Math.max(0, at - span); j <= Math.min(masks.length - 1, at + span); j++) if (j !== at) m |= masks[j]!;
  return shareOfMask(f, m);
}

/**
 * 0..2.25: whether the sentence holds an answer of the asked-for kind that the question does not already
 * state. A number or name scores its tie to what is asked (1.5: next to the focus noun or with a unit,
 * "16 *epochs*", or a quoted or named term; 1: near a question term; 0.5: anywhere) times
 * (0.5 + the share of the question's terms within 6 tokens of it): the answer stands among the words
 * of the question ("We *train* our *SFT models* for *16 epochs*"). Cues of a reason, definition or method
 * score 1.5 (explicit "because"), 1 or 0.5.
 */
export function candidateStrength(q: QueryAnalysis, s: AnalyzedSentence): number {
  switch (q.kind) {
    case "reason":
      return REASON_STRONG.test(s.text) ? 1.5 : REASON_WEAK.test(s.text) ? 1 : 0;
    case "definition":
      return DEFINITION_CUE.test(s.text) ? 1 : 0;
    case "method":
      return METHOD_CUE.test(s.text) ? 0.5 : 0;
    case "quantity":
    case "entity":
      break;
    default:
      return 0;
  }
  const tokens = s.tokens;
  const f = factsOf(q);
  const masks = new Int32Array(tokens.length);
  const focus = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    masks[i] = maskOf(f, tokens[i]!.ids);
    if (hasFocus(f, tokens[i]!.ids)) focus[i] = 1;
  }
  let best = 0;
  if (q.kind === "quantity") {
    // A table row is read with its header: its values stand next to the header's column names.
    const row = s.shape === "row";
    const rowOfQuestion = row && (maskOf(f, s.termIds) | (s.header ? maskOf(f, s.header.ids) : 0)) !== 0;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!t.number || f.numbers.has(normNumber(t.text))) continue;
      const unit = UNIT.test(tokens[i + 1]?.text ?? "") || /\d(%|[kmgt]b|x)$/i.test(t.text);
      const tied = anyWithin(focus, i, 2) || (f.share ? /%$/.test(t.text) : q.focus.size === 0 && unit);
      // "two video clips" is a count of something, rarely the quantity asked for unless it is tied to it.
      const tie = tied ? 1.5 : t.numberWord ? 0.5 : rowOfQuestion || anyWithin(masks, i, 4) ? 1 : 0.5;
      best = Math.max(best, tie * (0.5 + (row ? 0.5 : localShare(f, masks, i, 6))));
    }
    return best;
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    // A name the question already says ("GPT-3" in a GPT-3 question) is not the answer to it.
    if (!(t.name || t.quoted) || t.ids.length === 0 || allInQuestion(f, t.ids)) continue;
    let named = t.quoted;
    for (let j = Math.max(0, i - 3); j < i && !named; j++) named = NAMING.test(tokens[j]!.text);
    const tie = named || anyWithin(focus, i, 2) ? 1.5 : anyWithin(masks, i, 4) ? 1 : 0.5;
    best = Math.max(best, tie * (0.5 + localShare(f, masks, i, 6)));
  }
  return best;
}

/** A window holds at most this many sentences and characters. */
export const MAX_SENTENCES = 3;
export const MAX_WINDOW_CHARS = 420;


/** Every window of one or two sentences of the passage, scored against the question. */
export function scoreWindows(q: QueryAnalysis, passage: AnalyzedPassage, heading: ReadonlySet<string> | Int32Array, w: SentenceWeights = DEFAULT_SENTENCE_WEIGHTS): WindowScore[] {
  const ss = passage.sentences;
  const f = factsOf(q);
  const mask = ss.map((s) => maskOf(f, s.termIds));
  const headerMask = ss.map((s) => (s.header ? maskOf(f, s.header.ids) : 0));
  const headingMask = maskOf(f, heading instanceof Int32Array ? heading : Int32Array.from(heading, termId));
  // A candidate counts in any sentence of a window (the answer often follows, with no question term of its
  // own, the sentence that restates the question); a window needs a question term somewhere, so only
  // sentences up to two after one with a question term (or one before an anaphoric one) can matter.
  const candidate = ss.map((s, k) => {
    const reachable = mask[k] !== 0 || (k > 0 && mask[k - 1] !== 0) || (k > 1 && mask[k - 2] !== 0) || (k + 1 < ss.length && ss[k + 1]!.anaphoric) || s.header !== undefined;
    return reachable ? candidateStrength(q, s) : 0;
  });
  const factor = ss.map((s) => (s.shape === "sentence" ? 1 : w.shape[s.shape]));
  const out: WindowScore[] = [];
  for (let i = 0; i < ss.length; i++) {
    const s = ss[i]!;
    // An anaphoric opening needs the unit before it (a heading, or the sentence "this" refers to).
    const start = s.anaphoric && i > 0 ? i - 1 : i;
    let chars = 0;
    for (let k = start; k <= i; k++) chars += ss[k]!.text.length;
    // The sentence that restates the question is often followed by the one that answers it.
    for (let end = i; end < Math.min(ss.length, i + MAX_SENTENCES); end++) {
      if (end > i) {
        const next = ss[end]!;
        chars += next.text.length;
        if (next.block !== s.block || next.shape !== "sentence" || s.shape !== "sentence" || chars > MAX_WINDOW_CHARS) break;
      }
      let own = 0;
      let around = headingMask;
      let hasHeader = false;
      let cand = 0;
      let shape = 1;
      for (let k = start; k <= end; k++) {
        own |= mask[k]!;
        around |= headerMask[k]!;
        if (ss[k]!.header) hasHeader = true;
        cand = Math.max(cand, candidate[k]!);
        shape *= factor[k]!;
      }
      if (own === 0 && !hasHeader) continue;
      around |= own;
      if (start > 0 && ss[start - 1]!.block === ss[start]!.block) around |= mask[start - 1]!;
      if (end + 1 < ss.length && ss[end + 1]!.block === ss[end]!.block) around |= mask[end + 1]!;
      const ownShare = shareOfMask(f, own);
      const context = shareOfMask(f, around);
      const n = end - start + 1;
      const score = (ownShare + w.context * context + w.candidate * cand) * (n === 1 ? shape : shape ** (1 / n)) - w.length * (end - start);
      out.push({ start, end, own: ownShare, context, candidate: cand, score });
    }
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

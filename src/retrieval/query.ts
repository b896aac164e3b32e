/**
 * Query analysis, done once per request and passed to retrieval, the reader and abstention:
 * the question's terms with their weights (IDF), its phrases and numbers, the documents it names, and
 * the kind of answer it asks for (a quantity, a name, a definition, a reason, a method, yes/no).
 *
 * The kind comes from the question's wording, the way a reader of English decides what would count as
 * an answer ("how many" wants a number, "which optimizer" wants a name, "why" wants a reason); the
 * focus is the noun the answer is an instance of ("which *optimizer*", "what kind of *classifier*").
 */
import { terms, words } from "../text/analyze.js";

export type AnswerKind = "quantity" | "entity" | "definition" | "reason" | "method" | "yesno" | "other";

export interface QueryTerm {
  term: string;
  /** IDF of the term in the corpus (unknown terms get the highest IDF). */
  weight: number;
  /** Whether the corpus uses the term at all. */
  known: boolean;
  /** A joined form of a compound ("gpt3" from "GPT-3"), kept because the corpus uses it. */
  joined: boolean;
}

/** What the analysis needs from the corpus: term statistics and the documents' names. */
export interface CorpusVocabulary {
  idf(term: string): number;
  has(term: string): boolean;
  /** Documents the text names (every term of a title or alias occurs in it). */
  named(text: string): Array<{ docId: string; nameTerms: string[] }>;
}

export interface QueryAnalysis {
  readonly text: string;
  /** Distinct index terms (stemmed, stop words out, compound parts included), in question order. */
  readonly terms: readonly QueryTerm[];
  readonly weights: ReadonlyMap<string, number>;
  readonly totalWeight: number;
  /** Adjacent content terms of the question ("common crawl", "learning rate"), as term pairs. */
  readonly phrases: ReadonlyArray<readonly [string, string]>;
  /** Numbers written in the question ("175", "10k"): never the answer to it. */
  readonly numbers: ReadonlySet<string>;
  readonly kind: AnswerKind;
  /** Terms of the noun the answer is an instance of ("optim" for "which optimizer"). */
  readonly focus: ReadonlySet<string>;
  /** Documents the question names ("GPT-3", "the RLHF blog post"). */
  readonly named: ReadonlyArray<{ docId: string; nameTerms: string[] }>;
}

/** Nouns whose instances are quantities: "what *share* ...", "which learning *rate* ...". */
const QUANTITY_NOUN =
  /^(times|share|fraction|percentage|percent|proportion|number|numbers|size|sizes|amount|accuracy|score|scores|cost|costs|price|rate|ratio|value|values|length|count|speed|coefficient|dimension|dimensionality|budget|perplexity|bleu|f1|epochs?|year|temperature|width|depth|latency|throughput|batch)$/i;
const AUX = /^(is|are|was|were|do|does|did|can|could|would|should|has|have|had|will|might|must|am|be)$/i;
/** Function words that never make up a focus noun phrase. */
const NOT_FOCUS = /^(the|a|an|of|to|in|on|for|and|or|it|they|this|that|these|those|kind|type|sort|form|variant|family|so)$/i;
const WH = /\b(why|how|what|which|who|whom|whose|when|where)\b/gi;

/**
 * The wh-word of the main clause: the first one that opens the question, follows a comma, dash or colon,
 * or follows a lone preposition ("On what fraction", "For how many epochs"); otherwise the first one.
 * ("If learned and fixed signals scored the same, why ..." asks why; "What data structure ... to measure
 * how much ..." asks what.)
 */
function mainWh(question: string): RegExpExecArray | null {
  const all = [...question.matchAll(WH)];
  const opening = all.filter((m) => {
    const before = question.slice(0, m.index).trim();
    return before === "" || /[,;:\-–—]$/.test(before) || /^(on|in|at|for|from|to|by|of|with|under|after|during)$/i.test(before);
  });
  // "When GPT-3 packs ..., what marks ...": an opening when/where clause is subordinate to the next one.
  const main = opening.length > 1 && /^(when|where)$/i.test(opening[0]![1]!) ? opening[1] : opening[0];
  return (main ?? all[0] ?? null) as RegExpExecArray | null;
}

export interface QuestionForm {
  kind: AnswerKind;
  /** Words of the noun phrase after "what"/"which" (the answer is an instance of it). */
  focus: string[];
}

/**
 * The kind of answer a question asks for, from its first wh-phrase ("When GPT-3 packs documents, what
 * marks ..." asks "what"): why -> reason; how many/much/long -> quantity; how + verb -> method;
 * who -> name; what/which + noun -> a quantity when the noun measures something ("what share"),
 * else a name of that noun ("which optimizer"); what is X -> definition; is/does/can ... -> yes/no.
 */
export function questionForm(question: string): QuestionForm {
  if (/\bwhy\b|\bwhat (is|was|are|were) the (reason|motivation|rationale|benefit|advantage)s?\b|\bfor what reason\b/i.test(question)) return { kind: "reason", focus: [] };
  if (YESNO.test(question)) return { kind: "yesno", focus: [] };
  const m = mainWh(question);
  if (!m) return { kind: "other", focus: [] };
  const wh = m[1]!.toLowerCase();
  const after = question.slice(m.index + m[0].length).trim().split(/\s+/).map((w) => w.replace(/[^\p{L}\p{N}_-]+$/u, ""));
  if (wh === "how") {
    if (/^(many|much)$/i.test(after[0] ?? "")) return { kind: "quantity", focus: nounPhrase(after, 1) };
    if (/^(big|large|long|often|fast|far|small|high|low|wide|deep|old|expensive|cheap)$/i.test(after[0] ?? "")) return { kind: "quantity", focus: [] };
    return { kind: "method", focus: [] };
  }
  if (wh === "who" || wh === "whom" || wh === "whose" || wh === "where") return { kind: "entity", focus: [] };
  if (wh === "when") return { kind: "quantity", focus: [] };
  // what / which: the noun phrase up to the verb.
  const kindOf = /^(kind|type|sort|form|variant|family)$/i.test(after[0] ?? "") && /^of$/i.test(after[1] ?? "");
  const phrase = nounPhrase(after, kindOf ? 2 : 0);
  if (phrase.length === 0) {
    // "what is X", "what does X add": the question names no noun for its answer.
    const rest = after.slice(1).join(" ");
    if (/^(the )?(name|term|word)\b/i.test(rest) || /\b(call|called|known as)\b/i.test(question)) return { kind: "entity", focus: [] };
    if (/\bcosts?\b/i.test(rest)) return { kind: "quantity", focus: [] };
    // "what is the share of ...", "what is GPT-2's vocabulary size": the noun measured comes first or last.
    const nouns = rest.replace(/[?.!]+$/, "").split(/\s+/).filter((w) => !NOT_FOCUS.test(w));
    const measured = [nouns[0], nouns[nouns.length - 1]].find((w) => w && QUANTITY_NOUN.test(w));
    // "GPT-2's vocabulary size": the measured noun with the nouns that qualify it.
    if (measured) return { kind: "quantity", focus: measured === nouns[0] ? [measured] : nouns.slice(-2) };
    if (AUX.test(after[0] ?? "") && /^(is|are|was|were)$/i.test(after[0]!) && terms(rest).length <= 3) return { kind: "definition", focus: [] };
    return { kind: "other", focus: [] };
  }
  if (phrase.some((w) => QUANTITY_NOUN.test(w))) return { kind: "quantity", focus: phrase };
  return { kind: "entity", focus: phrase };
}

const YESNO = /^\s*(is|are|does|do|did|can|could|was|were|has|have|had|will|would|should)\b/i;

/** The words from `start` up to the verb (at most 4): "how many *customer prompts* are ...", "which *RL algorithm* did ...". */
function nounPhrase(words: string[], start: number): string[] {
  const phrase: string[] = [];
  for (let i = start; i < words.length && phrase.length < 4; i++) {
    const w = words[i]!;
    if (!w || AUX.test(w)) break;
    if (NOT_FOCUS.test(w)) {
      if (phrase.length) break;
      continue;
    }
    phrase.push(w);
  }
  return phrase;
}

export const answerKind = (question: string): AnswerKind => questionForm(question).kind;

const NUMBER = /^\d[\d.,]*[kmb%]?$/i;

export function analyzeQuery(question: string, corpus: CorpusVocabulary): QueryAnalysis {
  const qTerms: QueryTerm[] = [];
  const weights = new Map<string, number>();
  // Words as written, plus the joined forms of compounds ("GPT-3" -> gpt3, "BooksCorpus" -> parts) only
  // where the corpus uses them: "reward-predictor" must not add an unknown "rewardpredictor" that no
  // passage can match (it would count as novel and dilute every share).
  const plain = new Set(terms(question, false));
  for (const t of terms(question)) {
    if (weights.has(t)) continue;
    const known = corpus.has(t);
    if (!plain.has(t) && !known) continue;
    const weight = corpus.idf(t);
    weights.set(t, weight);
    qTerms.push({ term: t, weight, known, joined: !plain.has(t) });
  }
  const totalWeight = qTerms.reduce((s, t) => s + t.weight, 0) || 1;
  const sequence = terms(question, false);
  const phrases: Array<[string, string]> = [];
  for (let i = 0; i + 1 < sequence.length; i++) if (sequence[i] !== sequence[i + 1]) phrases.push([sequence[i]!, sequence[i + 1]!]);
  const numbers = new Set(words(question).filter((w) => NUMBER.test(w)));
  const form = questionForm(question);
  return {
    text: question,
    terms: qTerms,
    weights,
    totalWeight,
    phrases,
    numbers,
    kind: form.kind,
    focus: new Set(terms(form.focus.join(" "), false)),
    named: corpus.named(question),
  };
}

/** IDF-weighted share of the question's terms that `has` holds (0..1). */
export function share(q: Pick<QueryAnalysis, "terms" | "totalWeight">, has: (term: string) => boolean): number {
  let found = 0;
  for (const t of q.terms) if (has(t.term)) found += t.weight;
  return found / q.totalWeight;
}

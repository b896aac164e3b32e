/**
 * Checked citations: faithfulness of an LLM answer without a second model. Each sentence of the answer
 * is checked against the passages it cites ([n]):
 *   - its numbers, by value ("4,000" = "4000", "4k" = "4 thousand", "175B" = "175 billion", "two" = 2),
 *     each with its unit when it has one ("4000 *steps*": the unit must stand near that number there);
 *   - its names: capitalised words after the first, acronyms, mixed-case and alphanumeric names
 *     ("Adam", "BLEU", "GPT-3", "WebText");
 *   - its content words: at least MIN_CONTENT_SHARE of their stems must occur in the cited passages
 *     (or their headings), which tolerates paraphrase but not a sentence about something else.
 * A sentence with no citation is unsupported unless it is the abstention sentence. A citation of a
 * passage that was not given does not count.
 *
 * Written here rather than taken from a library: the checks are a few rules over the project's own
 * text analysis (text/analyze.ts: folding, stop words, Porter stems; text/sentences.ts: the one
 * sentence splitter), and an NLI or LLM judge is what this avoids (a second model call per answer).
 */
import { fold, isStopWord, terms, words } from "../text/analyze.js";
import { splitSentences } from "../text/sentences.js";

/** Share of a sentence's content stems that must occur in the passages it cites. */
export const MIN_CONTENT_SHARE = 0.5;
/** How many words apart a number and its unit may stand in a passage. */
const UNIT_WINDOW = 4;

export interface UnsupportedSentence {
  sentence: string;
  /** Passage numbers the sentence cites (only passages that were given). */
  cited: number[];
  /** What was not found: "no citation", "number 4000 not in [2]", ... */
  reason: string;
}

export interface Verification {
  /** Sentences checked (the abstention sentence is not). */
  checked: number;
  supported: number;
  unsupported: UnsupportedSentence[];
}

/** What the checker reads of a passage: its number, text and heading (title, section: the model sees both). */
export interface EvidencePassage {
  n: number;
  text: string;
  heading?: string;
}

const MARKER = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;

/** The answer's sentences with the passages each cites; a run of markers after a full stop belongs to the sentence before. */
export function citedSentences(answer: string, given: ReadonlySet<number>): Array<{ sentence: string; cited: number[]; markers: number }> {
  const out: Array<{ sentence: string; cited: number[]; markers: number }> = [];
  for (const { text } of splitSentences(answer)) {
    const numbers = [...text.matchAll(MARKER)].flatMap((m) => m[1]!.split(/[,;]/).map((x) => Number(x.trim())));
    const bare = text.replace(MARKER, "").replace(/[\s.;,]+/g, "");
    if (bare === "" && out.length) {
      const last = out.at(-1)!;
      last.sentence = `${last.sentence} ${text}`;
      last.cited = [...new Set([...last.cited, ...numbers.filter((n) => given.has(n))])];
      last.markers += numbers.length;
      continue;
    }
    out.push({ sentence: text, cited: [...new Set(numbers.filter((n) => given.has(n)))], markers: numbers.length });
  }
  return out;
}

export function verifyAnswer(answer: string, passages: EvidencePassage[], isAbstention: (sentence: string) => boolean): Verification {
  const byNumber = new Map(passages.map((p) => [p.n, p]));
  const result: Verification = { checked: 0, supported: 0, unsupported: [] };
  for (const s of citedSentences(answer, new Set(byNumber.keys()))) {
    const plain = s.sentence.replace(MARKER, "").trim();
    if (isAbstention(plain)) continue;
    result.checked++;
    const reason = s.cited.length === 0 ? (s.markers ? "cites no passage that was given" : "no citation") : unsupportedBy(plain, s.cited.map((n) => byNumber.get(n)!));
    if (reason) result.unsupported.push({ sentence: s.sentence, cited: s.cited, reason });
    else result.supported++;
  }
  return result;
}

/** Why the passages do not support the sentence, or null when they do. */
export function unsupportedBy(sentence: string, cited: EvidencePassage[]): string | null {
  const where = `[${cited.map((p) => p.n).join(", ")}]`;
  const evidenceText = cited.map((p) => `${p.heading ?? ""}\n${p.text}`).join("\n");
  const evidence = quantities(evidenceText);
  for (const q of quantities(sentence)) {
    const same = evidence.filter((e) => sameValue(e.value, q.value));
    if (!same.length) return `number ${q.raw} not in ${where}`;
    if (q.unit && !same.some((e) => e.near.has(q.unit!))) return `number ${q.raw} ${q.unit} not with that unit in ${where}`;
  }
  const evidenceWords = new Set(words(evidenceText));
  const evidenceStems = new Set(terms(evidenceText));
  for (const name of names(sentence)) {
    const parts = words(name, false);
    // A hyphenated name is looked up whole ("GPT-3" as gpt3, which words() also makes of the passage's "GPT-3").
    const found = parts.length > 1 ? evidenceWords.has(parts.join("")) : evidenceWords.has(parts[0]!) || evidenceStems.has(terms(parts[0]!)[0] ?? parts[0]!);
    if (!found) return `name "${name}" not in ${where}`;
  }
  const content = [...new Set(terms(sentence, false).filter((t) => !/^\p{N}/u.test(t)))];
  if (content.length) {
    const found = content.filter((t) => evidenceStems.has(t)).length;
    if (found / content.length < MIN_CONTENT_SHARE) return `only ${found} of ${content.length} content words in ${where}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Numbers with their magnitude and unit.

interface Quantity {
  raw: string;
  value: number;
  /** The unit word right after the number (stemmed), when it is one. */
  unit?: string;
  /** Stems of the words within UNIT_WINDOW of the number (for the unit check on the evidence side). */
  near: Set<string>;
}

const NUMBER_WORDS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  fifteen: 15, twenty: 20, thirty: 30, forty: 40, fifty: 50, hundred: 100, thousand: 1000,
};
const MAGNITUDE: Record<string, number> = { k: 1e3, thousand: 1e3, m: 1e6, million: 1e6, b: 1e9, bn: 1e9, billion: 1e9, t: 1e12, trillion: 1e12 };
/** Words that are units or counted things when they follow a number ("16 epochs", "8 GPUs", "3.5 days"). */
const UNITS = new Set(
  ("percent % step epoch token word layer head dimension parameter param gpu tpu day hour minute second ms year month week " +
    "sample example comparison label labeler question prompt sentence document page dollar usd cent point bleu batch " +
    "pair image video clip game task language model times").split(" "),
);
const unitStem = (w: string) => (w === "%" ? "percent" : (terms(w)[0] ?? w));
const UNIT_STEMS = new Set([...UNITS].map(unitStem));

/** A number, optionally with thousands separators or decimals, an exponent ("10^-9", "1e-4"), a magnitude suffix or a %. */
const NUMBER = /(?<![\p{L}\p{N}.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)(?:\s?(?:\^|e)\s?(-?\d+))?(?:\s?(%|[kKmMbBtT](?:n)?)(?![\p{L}]))?/gu;

export function quantities(text: string): Quantity[] {
  const out: Quantity[] = [];
  const src = text.normalize("NFKC").replace(/[−–]/g, "-");
  for (const m of src.matchAll(NUMBER)) {
    // A year-like or citation-like bare number inside a marker ("[2]") is not a claim.
    if (src[m.index - 1] === "[" || /^\d+$/.test(m[0]) && src[m.index + m[0].length] === "]") continue;
    let value = Number(m[1]!.replace(/,/g, ""));
    if (m[2] !== undefined) value = m[0].includes("^") ? value ** Number(m[2]) : value * 10 ** Number(m[2]);
    const after = src.slice(m.index + m[0].length);
    const next = /^\s*([\p{L}%]+)/u.exec(after)?.[1]?.toLowerCase();
    const suffix = m[3]?.toLowerCase();
    let unit: string | undefined;
    if (suffix === "%") unit = "percent";
    else if (suffix) value *= MAGNITUDE[suffix] ?? 1;
    else if (next && MAGNITUDE[next] !== undefined && next.length > 1) value *= MAGNITUDE[next]!;
    const unitWord = /^\s*(?:(?:thousand|million|billion|trillion)\s+)?([\p{L}%]+)/u.exec(after)?.[1];
    if (!unit && unitWord && UNIT_STEMS.has(unitStem(unitWord.toLowerCase()))) unit = unitStem(unitWord.toLowerCase());
    out.push({ raw: m[0].trim(), value, unit, near: nearStems(src, m.index, m.index + m[0].length, suffix === "%") });
  }
  for (const m of src.matchAll(/\b([a-z]+)\b/gi)) {
    const v = NUMBER_WORDS[m[1]!.toLowerCase()];
    if (v === undefined || /^(one)$/i.test(m[1]!)) continue; // "one" is mostly a pronoun ("the one they prefer")
    const after = src.slice(m.index + m[0].length);
    const unitWord = /^\s*([\p{L}%]+)/u.exec(after)?.[1]?.toLowerCase();
    const unit = unitWord && UNIT_STEMS.has(unitStem(unitWord)) ? unitStem(unitWord) : undefined;
    out.push({ raw: m[0], value: v, unit, near: nearStems(src, m.index, m.index + m[0].length, false) });
  }
  return out;
}

function nearStems(text: string, start: number, end: number, percent: boolean): Set<string> {
  const before = text.slice(Math.max(0, start - 60), start).split(/\s+/).slice(-UNIT_WINDOW).join(" ");
  const after = text.slice(end, end + 80).split(/\s+/).slice(0, UNIT_WINDOW + 1).join(" ");
  const stems = new Set([...terms(`${before} ${after}`, false), ...words(`${before} ${after}`, false).map(unitStem)]);
  if (percent || /^\s*(%|per ?cent)/i.test(text.slice(end))) stems.add("percent");
  return stems;
}

const sameValue = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));

// ---------------------------------------------------------------------------------------------
// Names.

/** Capitalised words after the first word, acronyms, mixed-case and alphanumeric names; hyphenated names whole. */
export function names(sentence: string): string[] {
  const out: string[] = [];
  const tokens = [...sentence.normalize("NFKC").matchAll(/[\p{L}\p{N}]+(?:[-'][\p{L}\p{N}]+)*/gu)];
  tokens.forEach((m, i) => {
    const w = m[0];
    const hasUpper = /\p{Lu}/u.test(w);
    if (!hasUpper) return;
    const acronymOrMixed = /\p{Lu}.*\p{Lu}/u.test(w) || /\p{N}/u.test(w) || /^\p{Ll}+\p{Lu}/u.test(w);
    const first = i === 0 || /[.!?:]\s*$/.test(sentence.slice(0, m.index));
    if (first && !acronymOrMixed) return;
    if (!acronymOrMixed && isStopWord(fold(w))) return;
    if (/^\d/.test(w) && !/\p{L}/u.test(w)) return;
    out.push(w);
  });
  return [...new Set(out)];
}

/**
 * Text analysis shared by the lexical index, the query side and the extractive answerer:
 * Unicode NFKC, lower case, words and numbers as tokens, English stop words dropped, Porter stems.
 */
import { stemmer } from "stemmer";

/**
 * The function words a line of running text can end on and a title does not: articles, the commonest
 * prepositions, conjunctions and auxiliaries, determiners ("A promising source of ... text is" is a
 * wrapped sentence, not a heading). Part of the stop list below; the heading detector (ingest/clean.ts)
 * uses this subset and not the whole list, which also holds words a title may well end on ("2.2 Data
 * Used", "... at Most", "Which One"). Measured: on this corpus both give the same chunks, byte for byte.
 */
export const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  "a an the of to in on for and or with by is are was were be been as at from that this which we our it its their these those than then but not".split(" "),
);

// A small, conventional English stop list (question words included: they carry no topic).
const STOP = new Set([
  ...FUNCTION_WORDS,
  ...(
    "a about above after again against all am an and any are as at be because been before being below between both but by " +
    "can could did do does doing down during each few for from further had has have having he her here hers herself him " +
    "himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other " +
    "our ours ourselves out over own same she should so some such than that the their theirs them themselves then there " +
    "these they this those through to too under until up very was we were what when where which while who whom why will " +
    "with would you your yours yourself yourselves per via also use used using s t e g et al one many much"
  ).split(" "),
]);

const TOKEN = /[\p{L}\p{N}]+(?:[.,][\p{N}]+)*%?/gu;

export function fold(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(/[’‘`]/g, "'");
}

const COMPOUND = /[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)+/gu;
/** Words written in camel case ("BooksCorpus", "WebText", "RealToxicityPrompts"). */
const CAMEL = /\b[A-Z]?[a-z]+(?:[A-Z][a-z]+)+\b/g;

/**
 * Raw word tokens (folded, numbers with their decimal/thousands separators normalised). Like Lucene's
 * word-delimiter filter, a hyphenated compound also yields its parts joined ("GPT-3" -> gpt, 3, gpt3)
 * and a camel-case word its parts ("BooksCorpus" -> bookscorpus, books, corpus).
 */
export function words(text: string, compounds = true): string[] {
  const folded = fold(text);
  const out: string[] = [];
  if (compounds) for (const m of text.normalize("NFKC").matchAll(CAMEL)) for (const part of m[0].split(/(?=[A-Z])/)) out.push(part.toLowerCase());
  for (const m of folded.matchAll(TOKEN)) {
    let w = m[0];
    if (/^\p{N}/u.test(w)) w = w.replace(/,(?=\d{3}\b)/g, "");
    out.push(w);
  }
  if (compounds) for (const m of folded.matchAll(COMPOUND)) out.push(m[0].replace(/-/g, ""));
  return out;
}

/** Porter stems by word: the vocabulary is small and the stemmer is the costly step of analysis. */
const stems = new Map<string, string>();
const STEM_CACHE_LIMIT = 500_000;

function stem(word: string): string {
  let s = stems.get(word);
  if (s === undefined) {
    if (stems.size >= STEM_CACHE_LIMIT) stems.clear();
    stems.set(word, (s = stemmer(word)));
  }
  return s;
}

/** Index terms: words minus stop words, stemmed. */
export function terms(text: string, compounds = true): string[] {
  const out: string[] = [];
  for (const w of words(text, compounds)) {
    if (STOP.has(w)) continue;
    out.push(/^\p{N}/u.test(w) ? w : stem(w));
  }
  return out;
}

export function isStopWord(word: string): boolean {
  return STOP.has(word);
}

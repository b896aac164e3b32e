/**
 * Passage analysis: a chunk's text as blocks (lines the loader kept apart: headings, paragraphs, table
 * rows) and sentences, each sentence with its index terms and its tokens marked as numbers or names.
 * Done once per chunk and cached (see PassageCache), so a query only looks terms up.
 *
 * Sentences are also classified by what they are: a heading or label (a short line without sentence
 * punctuation), a formula (mostly symbols), a table dump (mostly numbers, or cells joined by " | ").
 * The reader never answers with those when a real sentence states the fact.
 */
import { isStopWord, terms } from "../text/analyze.js";
import { splitSentences } from "../text/sentences.js";

export interface Token {
  text: string;
  /** Index terms of the token (a compound yields several). */
  terms: string[];
  /** The same terms as integer ids (termId), what scoring compares. */
  ids: Int32Array;
  /** A quantity: digits ("570GB", "3.64E+03", "31,144", "1%") or a number word. */
  number: boolean;
  /** A number written in words ("two", "thousand"): a quantity only with a unit or the thing counted. */
  numberWord: boolean;
  /** A name: an acronym, a camel-case or capitalised word not starting the sentence ("Adam", "PPO", "BooksCorpus"). */
  name: boolean;
  /** Inside quotation marks: a term being named ("an “alignment tax”", "call this “composability gap”"). */
  quoted: boolean;
}

export type SentenceShape = "sentence" | "label" | "formula" | "table" | "row";

export interface AnalyzedSentence {
  text: string;
  /** Block (line) of the passage the sentence is in. */
  block: number;
  tokens: Token[];
  termSet: ReadonlySet<string>;
  /** The distinct terms as integer ids (termId). */
  termIds: Int32Array;
  shape: SentenceShape;
  /** For a table row: the table's header line (and caption) it is read with; terms of both. */
  header?: { text: string; terms: ReadonlySet<string>; ids: Int32Array };
  /** The sentence opens by pointing back ("This is ...", "It ...", "These ..."): it needs the unit before it. */
  anaphoric: boolean;
}

export interface AnalyzedPassage {
  sentences: AnalyzedSentence[];
}

const NUMBER_WORDS = new Set(
  "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands million millions billion billions trillion trillions dozen dozens half twice thrice double triple".split(" "),
);
const TOKEN = /[\p{L}\p{N}$][\p{L}\p{N}$'’.,%/+\-]*/gu;
/**
 * Bracketed citations "[20]", "[28, 32, 1]" and author-year ones "(Schulman et al., 2017; Mnih, 2016)"
 * carry no answer; "(TRPO, Schulman et al., 2015)" keeps its "TRPO".
 */
const AUTHOR_YEAR = String.raw`[A-Z][\p{L}'’-]+(?: et al\.?| (?:and|&) [A-Z][\p{L}'’-]+)?,? (?:19|20)\d\d[a-z]?`;
const CITATION = new RegExp(String.raw`\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]|\((?:${AUTHOR_YEAR})(?:; ?${AUTHOR_YEAR})*\)`, "gu");
const TERMINAL = /[.!?:;)"'”’\]]$/;
const MATH = /[=+^_{}\[\]<>∑∏√∈≤≥≈×·∀∃∂∇λμσθφψωαβγδε∞|\\]/g;

/**
 * Terms as small integers, one dictionary per process: scoring compares ids through arrays instead of
 * strings through maps (the hot path of every query).
 */
const TERM_IDS = new Map<string, number>();
export function termId(term: string): number {
  let id = TERM_IDS.get(term);
  if (id === undefined) TERM_IDS.set(term, (id = TERM_IDS.size));
  return id;
}
const idsOf = (ts: Iterable<string>): Int32Array => Int32Array.from(ts, termId);

interface TokenInfo {
  terms: string[];
  ids: Int32Array;
  number: boolean;
  numberWord: boolean;
  /** An acronym or camel-case word: a name wherever it stands. */
  alwaysName: boolean;
  capitalised: boolean;
}

/** What a token is, cached across passages: the vocabulary is small and classifying it is the costly part. */
const tokenInfo = new Map<string, TokenInfo>();
function infoOf(text: string): TokenInfo {
  let info = tokenInfo.get(text);
  if (!info) {
    if (tokenInfo.size > 500_000) tokenInfo.clear();
    const numberWord = NUMBER_WORDS.has(text.toLowerCase());
    const number = /^[$]?\d/.test(text) || numberWord;
    const acronym = /^(?=.*\p{Lu}.*\p{Lu})[\p{Lu}\p{N}/&-]{2,}$/u.test(text) || /^\p{Lu}+\d+\p{Lu}*$/u.test(text);
    const camel = /\p{Ll}\p{Lu}/u.test(text);
    const ts = terms(text);
    info = { terms: ts, ids: idsOf(ts), number, numberWord, alwaysName: !number && (acronym || camel), capitalised: !number && /^\p{Lu}/u.test(text) };
    tokenInfo.set(text, info);
  }
  return info;
}

/** Spans in quotation marks (typographic or straight double quotes), at most 60 characters. */
const QUOTED = /“([^”]{1,60})”|"([^"]{1,60})"/g;

function tokenize(sentence: string): Token[] {
  const out: Token[] = [];
  const text0 = sentence.replace(CITATION, " ");
  const quotes = [...text0.matchAll(QUOTED)].map((m) => [m.index, m.index + m[0].length] as const);
  for (const m of text0.matchAll(TOKEN)) {
    const text = m[0].replace(/[.,'’/+\-]+$/, "");
    if (!text) continue;
    const info = infoOf(text);
    const quoted = quotes.some(([a, b]) => m.index > a && m.index < b);
    out.push({ text, terms: info.terms, ids: info.ids, number: info.number, numberWord: info.numberWord, name: info.alwaysName || (info.capitalised && out.length > 0), quoted });
  }
  return out;
}

function shapeOf(text: string, tokens: Token[], standalone: boolean): SentenceShape {
  const cells = text.split(" | ").length - 1;
  const numbers = tokens.filter((t) => t.number).length;
  if (cells >= 2 || (tokens.length >= 8 && numbers / tokens.length >= 0.3)) return "table";
  const math = (text.match(MATH) ?? []).length;
  // A sentence that sets values ("We used Adam with β1 = 0.9 and β2 = 0.98") keeps its function words; a formula has none.
  const functionWords = tokens.filter((t) => isStopWord(t.text.toLowerCase())).length;
  if (/\$[^$]+\$|\\frac|\\sum|\\mathcal/.test(text) || (math >= 3 && math / text.length > 0.04 && functionWords < 3)) return "formula";
  if (standalone && !TERMINAL.test(text) && tokens.length <= 12 && text.length <= 100) return "label";
  return "sentence";
}

const ANAPHOR = /^(this|these|those|it|its|they|such|that|here|there|the latter|the former)\b/i;

/** A table row on a line of its own: a label and values ("Generation 45.6%", "CAFE [58] 78.7 77.9 88.5 83.3") or markdown cells. */
function isRowLine(line: string, tokens: Token[]): boolean {
  if (line.split(" | ").length >= 2) return true;
  if (TERMINAL.test(line) && !/\d%?\)?$/.test(line)) return false;
  const values = (line.match(/(?:^|\s)(?:[-–]|[$]?\d[\d.,]*[%x×]?)(?=\s|$)/g) ?? []).length;
  return values >= 1 && tokens.length <= 30 && values / Math.max(1, tokens.length) >= 0.15;
}

/** Splits and analyses one passage text; `section` (the chunk's section title) is stripped where a loader glued it to a sentence. */
export function analyzePassage(text: string, section: string | null = null): AnalyzedPassage {
  const lines = text.split("\n");
  // Only a line with a digit or cells can be a table row; only those need their tokens up front.
  const lineTokens = lines.map((l) => (/\d| \| /.test(l) ? tokenize(l) : null));
  const rows = lines.map((l, i) => lineTokens[i] !== null && isRowLine(l.trim(), lineTokens[i]!));
  // A row is read with its table's header: the nearest line above the run of rows (and a caption above that).
  const headerOf = (i: number): AnalyzedSentence["header"] => {
    let j = i - 1;
    while (j >= 0 && rows[j]) j--;
    // A markdown table's first row is its header: cells without numbers.
    const first = lines[j + 1]!;
    if (j + 1 < i && first.includes(" | ") && !/\d/.test(first)) j = j + 1;
    if (j < 0 || lines[j]!.split(" ").length > 20) return undefined;
    const head = lines[j]!.trim().slice(0, 200);
    const caption = j > 0 ? (/(?:^|\s)((?:Table|Tab\.) ?\d+[:.].*)$/.exec(lines[j - 1]!)?.[1] ?? "").slice(0, 160) : "";
    const headTerms = new Set(terms(`${caption} ${head}`));
    return { text: head, terms: headTerms, ids: idsOf(headTerms) };
  };

  const sentences: AnalyzedSentence[] = [];
  lines.forEach((line, block) => {
    if (rows[block] && (rows[block - 1] || rows[block + 1] || line.includes(" | "))) {
      const row = line.trim().replace(/\s+/g, " ");
      sentences.push({ ...analyzed(row, block, true), shape: "row", header: headerOf(block) });
      return;
    }
    const parts = splitSentences(line);
    for (const [i, part] of parts.entries()) {
      let s = part.text;
      // "3.1.2 Atari The second set of tasks ..." : a heading glued to the first sentence of its section.
      if (i === 0 && section && s.length > section.length + 20 && s.startsWith(`${section} `)) {
        sentences.push(analyzed(section, block, true));
        s = s.slice(section.length + 1);
      }
      sentences.push(analyzed(s, block, parts.length === 1));
    }
  });
  return { sentences };

  function analyzed(s: string, block: number, standalone: boolean): AnalyzedSentence {
    const tokens = tokenize(s);
    const termSet = new Set(tokens.flatMap((t) => t.terms));
    return { text: s, block, tokens, termSet, termIds: idsOf(termSet), shape: shapeOf(s, tokens, standalone), anaphoric: ANAPHOR.test(s) };
  }
}

export interface CachedPassage {
  analysis: AnalyzedPassage;
  /** The passage's distinct words (longer than 2 letters, lower case), for near-duplicate checks. */
  words: ReadonlySet<string>;
  /** Terms of the words the passage is known by beyond its text: document title, aliases, section. */
  heading: ReadonlySet<string>;
  headingIds: Int32Array;
}

/** Analysed passages by chunk id, computed on first use (a generation's chunks never change). */
export class PassageCache {
  private readonly cache = new Map<string, CachedPassage>();

  constructor(private readonly source: (id: string) => { text: string; section: string | null; heading: string }) {}

  get(id: string): CachedPassage {
    let p = this.cache.get(id);
    if (!p) {
      const c = this.source(id);
      const words = new Set(c.text.toLowerCase().split(/\W+/).filter((w) => w.length > 2));
      const heading = new Set(terms(c.heading));
      this.cache.set(id, (p = { analysis: analyzePassage(c.text, c.section), words, heading, headingIds: idsOf(heading) }));
    }
    return p;
  }
}

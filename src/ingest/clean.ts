/**
 * Pure text clean-up for PDF page texts as pdf-parse (pdf.js) extracts them: one string per page,
 * one text line per "\n", no blank lines, running headers and margin stamps included.
 *
 * The pipeline (`cleanPages`) is, in order:
 *  1. character fixes: ligatures, TeX spacing accents, odd spaces, soft hyphens (`fixLigatures`, `fixCharacters`);
 *  2. page furniture: arXiv margin stamps, bare page numbers, known boilerplate, and lines that repeat
 *     on many pages — running headers and footers (`removePageArtifacts`, `removeRepeatedLines`);
 *  3. line-end hyphenation, within a page and across a page break (`dehyphenate`);
 *  4. whitespace: soft-wrapped lines joined into paragraphs, paragraphs separated by "\n\n", table rows and
 *     other short lines kept on their own line, heading candidates kept as their own paragraph (`normalizeWhitespace`).
 *
 * Every rule is a heuristic tuned on the real corpus (see the numbers in the comments); none needs the
 * PDF's layout, only its text.
 */
import { FUNCTION_WORDS } from "../text/analyze.js";

// ---------------------------------------------------------------------------------------------------
// 1. Characters

const LIGATURES = /[\uFB00-\uFB06]/g;

/**
 * Replaces the Latin ligature code points (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ, U+FB00–U+FB06) by their letters.
 * NFKC is applied to those characters only: NFKC over the whole text would also rewrite superscripts,
 * math letters and symbols (x² → x2, ℓ → l), which changes meaning in papers.
 */
export function fixLigatures(text: string): string {
  return text.replace(LIGATURES, (c) => c.normalize("NFKC"));
}

/** TeX "spacing" accents that pdf.js emits before the letter they belong to, e.g. "cot´e" for "coté". */
const SPACING_ACCENTS: Record<string, string> = {
  "\u00B4": "\u0301", // ´ acute
  "\u00A8": "\u0308", // ¨ diaeresis
  "\u02C6": "\u0302", // ˆ circumflex
  "\u02DC": "\u0303", // ˜ tilde
  "\u02C7": "\u030C", // ˇ caron
};

/**
 * Character-level fixes that are always safe: ligatures, TeX spacing accents followed by a letter
 * (composed with NFC), no-break and other Unicode spaces to plain spaces, soft hyphens and zero-width
 * characters removed, CR/LF normalised.
 */
export function fixCharacters(text: string): string {
  let t = fixLigatures(text);
  t = t.replace(/\r\n?/g, "\n");
  t = t.replace(/[\u00AD\u200B-\u200D\u2060\uFEFF]/g, "");
  t = t.replace(/[\u00A0\u2000-\u200A\u202F\u205F\u3000]/g, " ");
  t = t.replace(/([\u00B4\u00A8\u02C6\u02DC\u02C7])\s?([A-Za-z])/g, (_m, accent: string, letter: string) => letter + (SPACING_ACCENTS[accent] ?? ""));
  return t.normalize("NFC");
}

// ---------------------------------------------------------------------------------------------------
// 2. Page furniture

/** arXiv's vertical margin stamp, e.g. "arXiv:1706.03741v4 [stat.ML] 17 Feb 2023". */
export const ARXIV_STAMP = /arXiv:\d{4}\.\d{4,5}v\d+ +\[[a-zA-Z.-]+\] +\d{1,2} +[A-Z][a-z]{2} +\d{4}/g;

/** A line that is only a page number ("7", "- 7 -", "Page 7", "7 of 68"). */
const PAGE_NUMBER_LINE = /^\s*(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:of|\/)\s*\d{1,4})?\s*$/i;

/**
 * Known publisher boilerplate that occurs once (so the repetition rule cannot catch it). Each pattern is
 * matched against the page text with its line breaks, and removed.
 * - Google's attribution notice added at the top of page 1 of arXiv v7 of "Attention Is All You Need".
 */
const BOILERPLATE: RegExp[] = [/Provided proper attribution is provided, Google hereby grants permission to\s+reproduce the tables and figures in this paper solely for use in journalistic or\s+scholarly works\.\s*/g];

/** Removes arXiv stamps (anywhere in a line), bare page-number lines and known boilerplate from one page. */
export function removePageArtifacts(page: string): string {
  let t = page;
  for (const re of BOILERPLATE) t = t.replace(re, "");
  return t
    .split("\n")
    .map((line) => line.replace(ARXIV_STAMP, "").trimEnd())
    .filter((line) => line.trim() !== "" && !PAGE_NUMBER_LINE.test(line))
    .join("\n");
}

/** A line's identity for the repetition count: trimmed, spaces collapsed, every digit run → "#". */
function lineKey(line: string): string {
  return line.trim().replace(/\s+/g, " ").replace(/\d+/g, "#");
}

export interface RepeatedLineOptions {
  /** Share of pages a line must occur on to count as a running header/footer. Default 0.3. */
  minShare?: number;
  /** And on at least this many pages. Default 3. */
  minPages?: number;
}

/**
 * Running headers, footers and margin notes: a line that occurs on ≥ 30% of the pages and on at least
 * 3 pages (after normalising digits, so "Page 3"/"Page 4" count as one line) is removed from every page.
 * Lines of fewer than 2 non-space characters ("#", "-") are not counted: they are table cells, not furniture.
 * Measured: GPT-2's running title (24 of 24 pages) goes; nothing else in the five corpus PDFs reaches 30%.
 */
export function removeRepeatedLines(pages: string[], opts: RepeatedLineOptions = {}): string[] {
  const minShare = opts.minShare ?? 0.3;
  const minPages = opts.minPages ?? 3;
  const threshold = Math.max(minPages, Math.ceil(pages.length * minShare));
  if (pages.length < threshold) return pages.slice();
  const pageCount = new Map<string, number>();
  for (const page of pages) {
    const keys = new Set(page.split("\n").map(lineKey).filter((k) => k.replace(/\s/g, "").length >= 2));
    for (const k of keys) pageCount.set(k, (pageCount.get(k) ?? 0) + 1);
  }
  const repeated = new Set([...pageCount].filter(([, n]) => n >= threshold).map(([k]) => k));
  if (repeated.size === 0) return pages.slice();
  return pages.map((page) =>
    page
      .split("\n")
      .filter((line) => !repeated.has(lineKey(line)))
      .join("\n"),
  );
}

// ---------------------------------------------------------------------------------------------------
// 3. Hyphenation

/** A hyphenated compound written inside a line, e.g. "self-attention", "state-of-the-art". */
const COMPOUND = /[A-Za-z]+(?:-[A-Za-z]+)+/g;

/**
 * Collects the hyphen pairs ("self-attention", and "state-of", "of-the", "the-art" from "state-of-the-art")
 * that a document writes with a hyphen *inside* a line — where the hyphen cannot be a line-break artefact.
 * A compound cut by a line break ("self-atten-" at a line end) is not counted.
 */
export function collectHyphenated(texts: string[]): Set<string> {
  const pairs = new Set<string>();
  for (const text of texts) {
    for (const line of text.split("\n")) {
      for (const m of line.matchAll(COMPOUND)) {
        const end = (m.index ?? 0) + m[0].length;
        if (line[end] === "-" && line.slice(end + 1).trim() === "") continue; // cut at the line end
        const parts = m[0].toLowerCase().split("-");
        for (let i = 0; i + 1 < parts.length; i++) pairs.add(`${parts[i]}-${parts[i + 1]}`);
      }
    }
  }
  return pairs;
}

/** A line ending in a word fragment plus hyphen ("trans-"); not "--", not a lone dash. */
const LINE_END_HYPHEN = /([A-Za-z]+)-$/;

/**
 * Decides how a word broken over a line end is re-joined.
 * Rule (measurable, documented):
 *  - continuation starts with a lowercase letter → drop the hyphen ("trans-" + "former" → "transformer"),
 *    EXCEPT when the left part is ≥ 2 letters and the document writes "left-right" with a hyphen inside a
 *    line somewhere (`known`) → keep it ("self-" + "attention" → "self-attention");
 *  - continuation starts with a capital ("English-" + "German") → keep the hyphen.
 * In both cases the two parts are joined without a space. A next line that does not start with a letter
 * (a footnote "1https://…", a formula) is not a continuation and is left alone. Measured on the corpus:
 * GPT-2 has 154 such breaks; 8 keep their hyphen (task-specific, fine-tuning, self-attention, …).
 */
function joinBroken(left: string, continuation: string, known: ReadonlySet<string>): "drop" | "keep" {
  if (!/^[a-z]/.test(continuation)) return "keep";
  const right = /^[a-z]+/.exec(continuation)?.[0] ?? "";
  if (left.length >= 2 && known.has(`${left}-${right}`.toLowerCase())) return "keep";
  return "drop";
}

/**
 * Re-joins words hyphenated across line ends in one page text (lines separated by "\n"). The continuation
 * word is moved up to the end of the previous line, so line structure is otherwise kept.
 * `known` is the set from `collectHyphenated` over the whole document (defaults to this text alone).
 */
export function dehyphenate(text: string, known?: ReadonlySet<string>): string {
  const compounds = known ?? collectHyphenated([text]);
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    const m = LINE_END_HYPHEN.exec(line);
    if (!m || line.endsWith("--")) continue;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === "") j++;
    if (j >= lines.length) break;
    const next = lines[j]!.trimStart();
    const token = /^\S+/.exec(next)?.[0];
    if (!token || !/^[A-Za-z]/.test(token)) continue; // "over-" + "1https://…" (a footnote) is not a continuation
    const mode = joinBroken(m[1]!, token, compounds);
    lines[i] = (mode === "drop" ? line.slice(0, -1) : line) + token;
    const rest = next.slice(token.length).trimStart();
    if (rest === "") {
      lines.splice(j, 1);
      i--; // the joined line may end in a hyphen again ("state-of-the-" + "art-")
    } else lines[j] = rest;
  }
  return lines.join("\n");
}

/** A footnote line at the bottom of a page: a marker (number or symbol) glued to its text. */
const FOOTNOTE_LINE = /^(?:\d{1,2}|[*∗†‡§¶]+) ?[A-Za-z]/;

/**
 * The same rule across a page break: when page N's last line ends in "frag-" and page N+1's first line
 * starts with a letter, the continuation word moves to page N (so the word is whole, on the page where it starts).
 */
function dehyphenateAcrossPages(pages: string[], known: ReadonlySet<string>): string[] {
  const out = pages.slice();
  for (let p = 0; p + 1 < out.length; p++) {
    const lines = out[p]!.split("\n");
    // The broken line may be followed by up to 3 footnote lines ("1https://…", "∗Equal contribution").
    let k = lines.length - 1;
    while (k > 0 && lines.length - 1 - k < 3 && FOOTNOTE_LINE.test(lines[k]!) && !LINE_END_HYPHEN.test(lines[k]!.trimEnd())) k--;
    const last = lines[k]!.trimEnd();
    const m = LINE_END_HYPHEN.exec(last);
    if (!m || last.endsWith("--")) continue;
    const nextLines = out[p + 1]!.split("\n");
    const first = nextLines[0]!.trimStart();
    const token = /^\S+/.exec(first)?.[0];
    if (!token || !/^[a-z]/.test(token)) continue;
    lines[k] = (joinBroken(m[1]!, token, known) === "drop" ? last.slice(0, -1) : last) + token;
    const rest = first.slice(token.length).trimStart();
    if (rest === "") nextLines.shift();
    else nextLines[0] = rest;
    out[p] = lines.join("\n");
    out[p + 1] = nextLines.join("\n");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Headings (used by normalizeWhitespace to keep them on their own, and by the PDF loader for sections)

export interface HeadingLine {
  /** "3.2.1", "A", "B.1"; null for an unnumbered heading ("Abstract"). */
  number: string | null;
  /** The heading as it should be shown: "3.2.1 Scaled Dot-Product Attention". */
  text: string;
}

const KNOWN_HEADINGS =
  /^(abstract|introduction|related work|background|conclusions?|discussion|discussion and conclusions?|references|bibliography|acknowledge?ments?|appendix|appendices|broader impacts?|limitations)$/i;


/**
 * Whether one text line looks like a section heading, and how it reads. Heuristics, tuned to keep false
 * positives low: a known heading word alone on the line ("Abstract", "References"), or a section number
 * ("3", "3.2.1", "2.1.", "A", "B.2") followed by a short title that starts with a capital, has ≤ 10 words and
 * ≤ 70 characters, no sentence punctuation (". ", trailing ".", ",", ";"), no bare numbers or math symbols,
 * and does not end in a function word ("A promising source of … text is" is a wrapped sentence).
 * Single-letter numbers (appendix "A Additional details") need a title of ≤ 6 words and ≤ 50 characters.
 * The PDF loader adds a numbering-sequence check on top of this.
 */
export function parseHeading(line: string): HeadingLine | null {
  const t = line.trim().replace(/\s+/g, " ");
  if (t.length < 3 || t.length > 80) return null;
  if (KNOWN_HEADINGS.test(t)) return { number: null, text: t };
  const m = /^((?:\d{1,2}|[A-Z])(?:\.\d{1,2}){0,3})\.?\s+(\S.*)$/.exec(t);
  if (!m) return null;
  const number = m[1]!;
  const title = m[2]!;
  if (!/^[A-Z]/.test(title)) return null;
  if (/^\d/.test(number) && Number(number.split(".")[0]) > 30) return null;
  const words = title.split(" ");
  const letterNumber = /^[A-Z]$/.test(number);
  if (words.length > (letterNumber ? 6 : 10) || title.length > (letterNumber ? 50 : 70)) return null;
  if (/[.,;]$/.test(title) || /[.!?] /.test(title)) return null;
  if (/[=<>+*∑∏√∈|{}\[\]@$\\^_~]|https?:/.test(title)) return null;
  if (words.some((w) => /^[-+±]?\d[\d.,]*%?$/.test(w))) return null;
  if (!words.some((w) => /[A-Za-z]{2,}/.test(w))) return null;
  const last = words[words.length - 1]!.toLowerCase().replace(/[^a-z]/g, "");
  if (FUNCTION_WORDS.has(last) && !title.endsWith("?")) return null; // "5.2 Who are we aligning to?" is a heading
  return { number, text: `${number} ${title}` };
}

// ---------------------------------------------------------------------------------------------------
// 4. Whitespace and paragraphs

/** A table row or similar: tab-separated cells (pdf-parse's cell separator), or mostly numbers. */
function isTableLike(line: string): boolean {
  if (line.includes("\t")) return true;
  const tokens = line.trim().split(/\s+/);
  if (tokens.length < 2) return false;
  const numeric = tokens.filter((w) => /^[-+±(]?[\d.,]*\d[\d.,]*[%x×)]?$|^[-–—]$/.test(w)).length;
  return numeric >= 2 && numeric / tokens.length >= 0.4;
}

const SENTENCE_END = /[.!?:;]["'”’)\]]*$/;
const BULLET_START = /^(?:[•▪◦●·∗*]|[-–—] |\(?[a-z0-9]\) )/;

/** Width of a full text line on this page: the 80th percentile of the lengths of lines ≥ 20 chars. */
function typicalWidth(lines: string[]): number {
  const lengths = lines
    .map((l) => l.length)
    .filter((n) => n >= 20)
    .sort((a, b) => a - b);
  if (lengths.length === 0) return 80;
  return lengths[Math.min(lengths.length - 1, Math.floor(lengths.length * 0.8))]!;
}

/**
 * Turns one page's lines into paragraphs: collapses runs of spaces and tabs, joins soft-wrapped lines
 * with a space, separates paragraphs with "\n\n" and keeps a plain "\n" after lines that must not be
 * glued to the next (table rows, list items, and short lines such as author names or figure labels unless
 * the next line starts in lowercase, i.e. continues a sentence).
 * A paragraph ends after a line that ends a sentence and is clearly shorter than a full line, and around
 * heading candidates. Blank lines in the input are paragraph breaks.
 */
export function normalizeWhitespace(text: string): string {
  const raw = text.replace(/\r\n?/g, "\n").split("\n");
  const lines = raw.map((l) => l.replace(/[ \t]+/g, " ").trim());
  const table = raw.map(isTableLike);
  const width = typicalWidth(lines);
  let out = "";
  let prev = -1;
  let blankSincePrev = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") {
      blankSincePrev = true;
      continue;
    }
    if (prev >= 0) {
      const a = lines[prev]!;
      let sep = " ";
      if (blankSincePrev || parseHeading(a) || parseHeading(line)) sep = "\n\n";
      else if (SENTENCE_END.test(a) && a.length < 0.8 * width) sep = "\n\n";
      else if (table[prev] || table[i] || BULLET_START.test(line)) sep = "\n";
      else if (a.length < 0.5 * width && !/^[a-z]/.test(line)) sep = "\n"; // author names, labels; a lowercase start continues
      out += sep;
    }
    out += line;
    prev = i;
    blankSincePrev = false;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------

/**
 * Cleans the page texts of one PDF (index = page - 1). Returns the same number of pages; a page whose
 * text is all furniture becomes "".
 */
export function cleanPages(pages: string[]): string[] {
  let p = pages.map((t) => removePageArtifacts(fixCharacters(t)));
  p = removeRepeatedLines(p);
  const known = collectHyphenated(p);
  p = p.map((t) => dehyphenate(t, known));
  p = dehyphenateAcrossPages(p, known);
  return p.map(normalizeWhitespace);
}

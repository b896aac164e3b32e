/**
 * Chunking: a loaded document's segments -> retrievable chunks that keep page numbers and sections.
 */
import type { Chunk } from "../store/index.js";
import { splitSentences } from "../text/sentences.js";
import type { LoadedDocument } from "./types.js";

export interface ChunkMeta {
  docId: string;
  title: string;
}

export interface ChunkSizeOptions {
  /** Maximum chunk length in characters (the stored text, without the title/section prefix). */
  size: number;
  /** Trailing sentences of the previous chunk, at most this many characters, repeated at the start of the next. */
  overlap: number;
}

export type ChunkDraft = Omit<Chunk, "hash">;

/**
 * Version of the loading, cleaning, chunking and term-analysis rules (index/analyze.ts). Bump it when
 * they change what is indexed: an index built by another version is re-chunked and re-indexed on the
 * next ingest instead of reused (unchanged chunk texts keep their vectors).
 */
export const CHUNKER_VERSION = 3;

/**
 * The text that is embedded and indexed for a chunk: optionally prefixed with "title (aliases) — section".
 * Aliases are the names people use for a document ("GPT-3", "InstructGPT"), which its title may lack.
 */
export function indexedText(chunk: Pick<Chunk, "title" | "section" | "text">, prefix: boolean, aliases: string[] = []): string {
  if (!prefix) return chunk.text;
  const title = aliases.length ? `${chunk.title} (${aliases.join(", ")})` : chunk.title;
  const head = chunk.section ? `${title} — ${chunk.section}` : title;
  return `${head}\n${chunk.text}`;
}

/** A piece of text that is never cut by the packer: a sentence (or a piece of an over-long one). */
interface Unit {
  text: string;
  page: number | null;
  pageEnd: number | null;
  /** Page changes inside `text` (only for sentences that continue over a page break). */
  pageBreaks: Array<{ offset: number; page: number | null }>;
  /** Whether a line/paragraph break precedes this unit in the source (joined with "\n" instead of " "). */
  breakBefore: boolean;
  /** Index of the section group the unit comes from. */
  group: number;
}

/** Sentence-final punctuation, possibly followed by closing quotes/brackets. */
const ENDS_SENTENCE = /[.!?:;]["'”’)\]]*$/;

function textLength(units: Unit[]): number {
  return units.reduce((n, u, i) => n + u.text.length + (i > 0 ? 1 : 0), 0);
}

function joinUnits(units: Unit[]): string {
  return units.map((u, i) => (i === 0 ? u.text : (u.breakBefore ? "\n" : " ") + u.text)).join("");
}

function pageAt(unit: Unit, offset: number): number | null {
  let page = unit.page;
  for (const b of unit.pageBreaks) if (b.offset <= offset) page = b.page;
  return page;
}

/**
 * Cuts a unit longer than `size` (a table flattened into one "sentence", a formula dump, a run-on list)
 * with LangChain's RecursiveCharacterTextSplitter at that size; each piece is located in the unit's text
 * to give it the right page.
 */
async function splitLongUnit(unit: Unit, size: number, overlap: number): Promise<Unit[]> {
  // Imported here: only an over-long unit needs it, and it pulls in @langchain/core (~0.6 s to load).
  const { RecursiveCharacterTextSplitter } = await import("@langchain/textsplitters");
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize: size, chunkOverlap: Math.min(overlap, Math.floor(size / 2)) });
  const pieces: string[] = [];
  for (const raw of await splitter.splitText(unit.text)) {
    const piece = raw.trim();
    if (!piece) continue;
    // The splitter's last resort is character-level, so pieces fit; keep a hard cut as a guarantee.
    for (let i = 0; i < piece.length; i += size) pieces.push(piece.slice(i, i + size).trim());
  }
  let cursor = 0;
  return pieces
    .filter((p) => p !== "")
    .map((text, i) => {
      const found = unit.text.indexOf(text, Math.max(0, cursor - overlap - 1));
      const start = found >= 0 ? found : cursor;
      cursor = start + text.length;
      return {
        text,
        page: pageAt(unit, start),
        pageEnd: pageAt(unit, Math.max(start, cursor - 1)),
        pageBreaks: [],
        breakBefore: i === 0 ? unit.breakBefore : false,
        group: unit.group,
      };
    });
}

/**
 * Why not just LangChain's RecursiveCharacterTextSplitter over the whole text?
 *  - `splitText` returns bare strings, no character offsets, so it cannot say which page a piece came
 *    from — and citations need page numbers. The offsets could only be recovered by searching each piece
 *    in the text again, which is ambiguous wherever text repeats (overlaps, repeated table rows: 1 of its
 *    154 pieces of the cleaned GPT-2 text occurs twice). Here every sentence carries its page, so page and
 *    pageEnd are exact.
 *  - It cuts at "\n\n", "\n", " ", "" by size only, so pieces start and end mid-sentence: measured on the
 *    cleaned GPT-2 text at 900/150, 58 of its 154 pieces end without sentence punctuation (ours: 11 of
 *    130, the ends of tables and captions); its overlap is a character window, so the repeated context is
 *    usually a sentence fragment. Here chunks are whole sentences and the overlap is whole sentences.
 *  - It knows nothing of sections; here a chunk never spans two sections.
 * It is still used for the one case it fits: a single "sentence" longer than the chunk size.
 *
 * Algorithm: segments -> groups of consecutive segments with the same section -> sentences
 * (Intl.Segmenter), a sentence cut by a page break is re-joined (it keeps both pages) -> greedy packing of
 * whole sentences up to `size` characters and at most two pages; the next chunk starts with the trailing sentences of the
 * previous one that total ≤ `overlap` characters (same section only). A section shorter than size/4 is
 * not chunked alone but put in front of the next section's first chunk, which then carries the short
 * section's name.
 */
export async function chunkDocument(doc: LoadedDocument, meta: ChunkMeta, opts: ChunkSizeOptions): Promise<ChunkDraft[]> {
  const { size, overlap } = opts;
  if (!Number.isFinite(size) || size < 20) throw new RangeError(`chunk size must be ≥ 20 characters, got ${size}`);
  if (!Number.isFinite(overlap) || overlap < 0 || overlap >= size) throw new RangeError(`chunk overlap must be in [0, size), got ${overlap}`);

  // 1. Section groups and their sentence units.
  const sections: Array<string | null> = [];
  const groups: Unit[][] = [];
  for (const segment of doc.segments) {
    if (!segment.text.trim()) continue;
    let g = groups.length - 1;
    const startsGroup = g < 0 || sections[g] !== segment.section;
    if (startsGroup) {
      sections.push(segment.section);
      groups.push([]);
      g++;
    }
    const units = groups[g]!;
    splitSentences(segment.text).forEach((s, i) => {
      const prev = units[units.length - 1];
      const nextPage = prev?.page != null && segment.page != null && segment.page === prev.pageEnd! + 1 && segment.page <= prev.page + 1;
      if (i === 0 && prev && !startsGroup && nextPage && !ENDS_SENTENCE.test(prev.text)) {
        // The sentence continues from the previous page: one unit spanning both pages.
        prev.pageBreaks.push({ offset: prev.text.length + 1, page: segment.page });
        prev.text += ` ${s.text}`;
        prev.pageEnd = segment.page;
        return;
      }
      units.push({
        text: s.text,
        page: segment.page,
        pageEnd: segment.page,
        pageBreaks: [],
        // a new section starts a new paragraph; a new page usually continues the paragraph
        breakBefore: i === 0 ? startsGroup : s.breakBefore,
        group: g,
      });
    });
  }

  // 2. Over-long sentences -> pieces.
  for (let g = 0; g < groups.length; g++) {
    const out: Unit[] = [];
    for (const unit of groups[g]!) {
      if (unit.text.length <= size) out.push(unit);
      else out.push(...(await splitLongUnit(unit, size, overlap)));
    }
    groups[g] = out;
  }

  // 3. Packing.
  const chunks: ChunkDraft[] = [];
  const emit = (units: Unit[]) => {
    const first = units[0]!;
    const last = units[units.length - 1]!;
    const position = chunks.length;
    chunks.push({
      id: `${meta.docId}:${position}`,
      docId: meta.docId,
      title: meta.title,
      page: first.page,
      pageEnd: last.pageEnd,
      section: sections[first.group] ?? null,
      position,
      text: joinUnits(units),
    });
  };

  let pending: Unit[] = []; // a tiny section waiting to be put in front of the next one
  for (let g = 0; g < groups.length; g++) {
    const units = [...pending, ...groups[g]!];
    pending = [];
    if (units.length === 0) continue;
    if (textLength(units) < size / 4 && g < groups.length - 1) {
      pending = units;
      continue;
    }
    let current: Unit[] = [];
    for (const unit of units) {
      if (current.length > 0 && (textLength(current) + 1 + unit.text.length > size || spansMoreThanTwoPages(current[0]!, unit))) {
        emit(current);
        current = overlapTail(current, unit, size, overlap);
      }
      current.push(unit);
    }
    emit(current); // never only overlap: the last unit was pushed after the last emit
  }
  return chunks;
}

/** A chunk covers at most two pages (Chunk.pageEnd is "the last page when the chunk spans two pages"). */
function spansMoreThanTwoPages(first: Unit, next: Unit): boolean {
  return first.page !== null && next.pageEnd !== null && next.pageEnd > first.page + 1;
}

/**
 * The trailing units of a chunk to repeat at the start of the next: whole sentences, total ≤ overlap
 * characters, from the same section as the next unit, never the whole chunk, and leaving room for the next unit.
 */
function overlapTail(chunk: Unit[], next: Unit, size: number, overlap: number): Unit[] {
  const tail: Unit[] = [];
  let length = 0;
  for (let i = chunk.length - 1; i >= 1; i--) {
    const unit = chunk[i]!;
    if (unit.group !== next.group || spansMoreThanTwoPages(unit, next)) break;
    const added = length + unit.text.length + (tail.length > 0 ? 1 : 0);
    if (added > overlap || added + 1 + next.text.length > size) break;
    tail.unshift(unit);
    length = added;
  }
  return tail;
}

/**
 * PDF loading with pdf-parse v2 (pdf.js): text per page, cleaned (clean.ts), split into segments by
 * page and by detected section heading.
 */
import { PDFParse } from "pdf-parse";
import { cleanPages, parseHeading, type HeadingLine } from "./clean.js";
import { unreadable, type LoadedDocument, type Segment } from "./types.js";

const MAGIC = Buffer.from("%PDF-", "latin1");

/** What a non-PDF starts with, for the error message: printable text quoted, otherwise hex bytes. */
function describeStart(data: Buffer): string {
  const head = data.subarray(0, 16);
  const text = head.toString("latin1");
  if (/^[\x20-\x7E\t\r\n]+$/.test(text)) return JSON.stringify(text.replace(/\s+/g, " ").trim().slice(0, 16));
  return `bytes ${[...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`;
}

/** Throws DOCUMENT_UNREADABLE unless the bytes start like a PDF (a UTF-8 BOM or leading whitespace is tolerated). */
function checkMagic(data: Buffer, file: string): void {
  if (data.length === 0) throw unreadable(file, "empty file");
  let start = 0;
  if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) start = 3;
  while (start < data.length && start < 64 && (data[start] === 0x20 || data[start] === 0x0a || data[start] === 0x0d || data[start] === 0x09)) start++;
  if (!data.subarray(start, start + MAGIC.length).equals(MAGIC)) {
    throw unreadable(file, `not a PDF (starts with ${describeStart(data)})`);
  }
  // A PDF ends with %%EOF (possibly followed by a line break or a few junk bytes). pdf.js would try to
  // recover a cut-off file and silently return only the pages it found, so a missing marker is an error.
  const tail = data.subarray(Math.max(0, data.length - 2048)).toString("latin1");
  if (!tail.includes("%%EOF")) throw unreadable(file, "damaged PDF: truncated (no %%EOF marker at the end)");
}

function reasonFor(err: unknown): string {
  const e = err as { name?: string; message?: string };
  const name = e?.name ?? "";
  const message = (e?.message ?? String(err)).replace(/\s+/g, " ").trim();
  if (name === "PasswordException" || /password/i.test(message)) return "encrypted PDF (password required)";
  return `damaged PDF: ${message || name || "unknown error"}`;
}

/**
 * Section numbering state: accepts a numbered heading only if it can follow the previous one
 * (next sibling at some level, possibly skipping one number, or first child, or the first child of a
 * next sibling when the parent heading was missed), so numbered list items ("1. Alfred") and table rows
 * deep in a section do not open sections. Appendix letters (A, B.1) are accepted only after the
 * references/appendix started, or after another letter heading.
 */
class SectionTracker {
  private last: Array<number | string> | null = null;
  private backMatter = false;

  accept(h: HeadingLine): boolean {
    if (h.number === null) {
      if (/^(references|bibliography|appendix|appendices)$/i.test(h.text)) this.backMatter = true;
      return true;
    }
    const parts: Array<number | string> = h.number.split(".").map((p, i) => (i === 0 && /^[A-Z]$/.test(p) ? p : Number(p)));
    const top = parts[0]!;
    if (typeof top === "string") {
      const lastTop = this.last?.[0];
      const letterOk = typeof lastTop === "string" ? this.follows(parts) : this.backMatter && top === "A" && parts.slice(1).every((p) => p === 1);
      if (!letterOk) return false;
    } else {
      if (this.last !== null && typeof this.last[0] === "string") return false; // numbers do not come back after appendix letters
      if (this.last === null) {
        if (!(top <= 2 && parts.slice(1).every((p) => p === 1))) return false;
      } else if (!this.follows(parts)) return false;
    }
    this.last = parts;
    return true;
  }

  private follows(c: Array<number | string>): boolean {
    const p = this.last;
    if (p === null) return true;
    const next = (x: number | string, step: number) => (typeof x === "number" ? x + step : String.fromCharCode(x.charCodeAt(0) + step));
    // first child: 3.2 -> 3.2.1
    if (c.length === p.length + 1 && p.every((x, i) => x === c[i]) && c[p.length] === 1) return true;
    for (let level = 0; level < p.length; level++) {
      if (!c.slice(0, level).every((x, i) => x === p[i])) break;
      const here = c[level];
      if (here === undefined) break;
      if (here !== next(p[level]!, 1) && here !== next(p[level]!, 2)) continue;
      // sibling at this level (3.2.1 -> 3.2.2, 3.3, 4), or the first child(ren) of that sibling (2.3 -> 3.1)
      if (c.slice(level + 1).every((x) => x === 1)) return true;
    }
    return false;
  }
}

/** Loads a PDF: one or more segments per page, with the page number and the current section. */
export async function loadPdf(data: Buffer, file: string): Promise<LoadedDocument> {
  checkMagic(data, file);
  // pdf.js takes ownership of (transfers) typed arrays: give it a copy, never the caller's buffer.
  const parser = new PDFParse({ data: new Uint8Array(data), verbosity: 0 });
  let pageTexts: string[];
  let total: number;
  try {
    const result = await parser.getText();
    total = result.total;
    pageTexts = Array.from({ length: total }, () => "");
    for (const page of result.pages) if (page.num >= 1 && page.num <= total) pageTexts[page.num - 1] = page.text;
  } catch (err) {
    throw unreadable(file, reasonFor(err), err);
  } finally {
    await parser.destroy().catch(() => {});
  }
  if (total === 0) throw unreadable(file, "damaged PDF: no pages");

  const cleaned = cleanPages(pageTexts);
  const tracker = new SectionTracker();
  const segments: Segment[] = [];
  let section: string | null = null;
  // The heading line is kept as the first line of its section's first segment, so chunk text reads like
  // the page (and lexical search sees it); a heading with no text before the next one ("6 Results" right
  // above "6.1 Machine Translation") is left out.
  let headingToShow: string | null = null;
  cleaned.forEach((text, index) => {
    const page = index + 1;
    let buffer: string[] = [];
    const flush = () => {
      const t = buffer.join("\n\n").trim();
      if (t) {
        segments.push({ text: headingToShow ? `${headingToShow}\n\n${t}` : t, page, section });
        headingToShow = null;
      }
      buffer = [];
    };
    for (const paragraph of text.split("\n\n")) {
      const heading = paragraph.includes("\n") ? null : parseHeading(paragraph);
      if (heading && tracker.accept(heading)) {
        flush();
        section = heading.text;
        headingToShow = heading.text;
        continue;
      }
      buffer.push(paragraph);
    }
    flush();
  });
  return { pages: total, segments };
}

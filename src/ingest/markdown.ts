/**
 * Markdown loading (also used for .txt): headings become sections, markup is reduced to the text a
 * reader sees. Written for what the corpus holds: a "marker" PDF conversion (markdown tables,
 * `![](_page_N_Figure_M.jpeg)` figures, `<span id="page-…"></span>` anchors, `<sup>`) and web clips
 * (links, images, setext headings, leaked CSS before HTML tables, `* * *` separators, emphasis).
 */
import { decodeHTMLStrict as decodeEntities } from "entities";
import { htmlToText } from "./html.js";
import type { LoadedDocument, Segment } from "./types.js";

/** Leaked stylesheet rules at the start of a line: `table { border-collapse: collapse; } th, td { … }`. */
const CSS_RULES = /^\s*(?:[.#]?[A-Za-z][\w-]*(?:(?:\s*[,>+~]\s*|\s+)[.#]?[A-Za-z][\w-]*)*\s*\{[^{}:]*:[^{}]*\}\s*)+/;

const HTML_TAG_NAMES =
  "a|abbr|b|big|blockquote|br|center|cite|code|del|div|em|font|hr|i|img|ins|kbd|mark|p|pre|q|s|small|span|strike|strong|sub|sup|table|tbody|td|tfoot|th|thead|tr|tt|u|ul|ol|li|h[1-6]|figure|figcaption|section|article|math|mi|mo|mn|msup|msub|mrow";
const HTML_TAG = new RegExp(`</?(?:${HTML_TAG_NAMES})\\b[^>]*>`, "gi");

const ESCAPABLE = /\\([\\`*_{}\[\]()#+\-.!|<>~$])/g;

/**
 * Inline markdown -> text: images removed (alt text too), links -> their text, autolinks -> the address,
 * HTML tags dropped, code spans and emphasis markers (**, __, *, _, ~~) removed, escapes resolved,
 * entities decoded.
 */
export function cleanInline(input: string): string {
  // Escaped characters must not count as markup: park them in private-use code points.
  let s = input.replace(ESCAPABLE, (_m, c: string) => String.fromCharCode(0xe000 + c.charCodeAt(0)));
  s = s.replace(/<br\s*\/?>/gi, " ");
  s = s.replace(/<span\b[^>]*>\s*<\/span>/gi, "");
  s = s.replace(HTML_TAG, "");
  s = s.replace(/!\[[^\]]*\]\((?:[^()\s]|\([^()]*\))*(?:\s+"[^"]*")?\)/g, "");
  s = s.replace(/!\[[^\]]*\]\[[^\]]*\]/g, "");
  // links, innermost first ([![img](a)](b) was reduced to [](b) above)
  for (let i = 0; i < 3; i++) {
    s = s.replace(/\[([^\[\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+"[^"]*")?\)/g, "$1");
    s = s.replace(/\[([^\[\]]+)\]\[[^\]]*\]/g, "$1");
  }
  s = s.replace(/<((?:https?|mailto|ftp):[^>\s]+)>/gi, "$1");
  s = s.replace(/(`+)(.+?)\1/g, "$2");
  s = s.replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, "$2");
  s = s.replace(/(^|[^\w*])\*(?=[^\s*])([^*\n]*?[^\s*])?\*(?![\w*])/g, (_m, pre: string, body?: string) => pre + (body ?? ""));
  s = s.replace(/(^|[^\w])_(?=[^\s_])([^_\n]*?[^\s_])?_(?!\w)/g, (_m, pre: string, body?: string) => pre + (body ?? ""));
  s = s.replace(/~~(?=\S)(.+?)(?<=\S)~~/g, "$1");
  s = s.replace(/\*\*/g, ""); // unbalanced bold markers left by the clipper
  s = decodeEntities(s).replace(HTML_TAG, ""); // again: marker writes some tags escaped ("&lt;sup>2</sup>")
  s = s.replace(/[\uE000-\uE07F]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xe000));
  return s.replace(/[ \t\u00A0]+/g, " ").trim();
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(?:=+|-+)[ \t]*$/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$/;
const LINK_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*\S+/;
const BULLET = /^\s*[*+-]\s+(?:\[[ xX]\]\s+)?/;
const ORDERED = /^\s*(\d{1,3})[.)]\s+/;

/** "| a | b |" -> "a | b" (empty cells dropped, each cell cleaned). */
function tableRow(line: string): string {
  const body = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  return body
    .split(/(?<!\\)\|/)
    .map((cell) => cleanInline(cell))
    .filter((cell) => cell !== "")
    .join(" | ");
}

/** HTML tables embedded in markdown become markdown table rows, one line per <tr>. */
function htmlTablesToRows(text: string): string {
  return text.replace(/<table\b[\s\S]*?<\/table\s*>/gi, (table) => {
    const rows = [...table.matchAll(/<tr\b[^>]*>([\s\S]*?)<\/tr\s*>/gi)].map((m) => {
      const cells = [...m[1]!.matchAll(/<t[dh]\b[^>]*>([\s\S]*?)<\/t[dh]\s*>/gi)].map((c) => htmlToText(c[1]!).replace(/\s+/g, " ").replace(/\|/g, "\\|"));
      return `| ${cells.join(" | ")} |`;
    });
    return `\n\n${rows.join("\n")}\n\n`;
  });
}

export function loadMarkdown(text: string): LoadedDocument {
  let t = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  t = t.replace(/<!--[\s\S]*?-->/g, "");
  t = t.replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, "");
  t = t.split("\n").map((line) => line.replace(CSS_RULES, "")).join("\n");
  t = htmlTablesToRows(t);
  const lines = t.split("\n");

  const segments: Segment[] = [];
  let section: string | null = null;
  const paragraphs: string[] = [];
  let paragraph: string[] = []; // lines of the current paragraph
  let softLast = false; // whether the last line of `paragraph` may be continued by a soft-wrapped line

  const endParagraph = () => {
    const p = paragraph.join("\n").trim();
    if (p) paragraphs.push(p);
    paragraph = [];
    softLast = false;
  };
  // The heading line is kept as the first line of its section's text (a heading with no text under it
  // adds nothing): chunk text then reads like the source, and lexical search sees the heading words.
  const endSection = () => {
    endParagraph();
    const body = paragraphs.join("\n\n").trim();
    if (body) segments.push({ text: section && headingLine ? `${section}\n\n${body}` : body, page: null, section });
    paragraphs.length = 0;
  };
  const addLine = (line: string, soft: boolean) => {
    if (!line) return;
    if (soft && softLast && paragraph.length > 0) paragraph[paragraph.length - 1] += ` ${line}`;
    else paragraph.push(line);
    softLast = soft;
  };

  let headingLine = false; // whether `section` came from a heading line of this document
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (fence !== null) {
      if (line.trim().startsWith(fence)) {
        fence = null;
        endParagraph();
      } else addLine(line.replace(/\s+$/, ""), false);
      continue;
    }
    const fenceOpen = FENCE.exec(line);
    if (fenceOpen) {
      endParagraph();
      fence = fenceOpen[1]!;
      continue;
    }
    if (line.trim() === "") {
      endParagraph();
      continue;
    }
    const atx = ATX_HEADING.exec(line);
    if (atx) {
      endSection();
      const title = cleanInline(atx[2] ?? "");
      if (title) [section, headingLine] = [title, true];
      continue;
    }
    const next = lines[i + 1];
    if (next !== undefined && SETEXT_UNDERLINE.test(next) && paragraph.length === 0 && !/^\s*(?:[|>]|[*+-]\s|\d+[.)]\s)/.test(line)) {
      endSection();
      const title = cleanInline(line);
      if (title) [section, headingLine] = [title, true];
      i++;
      continue;
    }
    if (THEMATIC_BREAK.test(line)) {
      endParagraph();
      continue;
    }
    if (LINK_DEFINITION.test(line)) continue;
    const trimmed = line.trim();
    if (trimmed.startsWith("|")) {
      if (TABLE_SEPARATOR.test(trimmed)) continue;
      addLine(tableRow(trimmed), false);
      continue;
    }
    let body = line.replace(/^\s*(?:>\s?)+/, "");
    let soft = true;
    if (BULLET.test(body)) {
      body = body.replace(BULLET, "");
      soft = false;
    } else if (ORDERED.test(body)) {
      body = body.replace(ORDERED, "$1. ");
      soft = false;
    }
    body = body.replace(/^[.…]{2,}\s*/, ""); // table-of-contents leaders in the web clips
    const cleaned = cleanInline(body);
    if (!cleaned) {
      // an image-only line: acts as a paragraph break
      endParagraph();
      continue;
    }
    // a list item starts its own line, and the lines that continue it are soft-wrapped onto it
    if (!soft) {
      paragraph.push(cleaned);
      softLast = true;
    } else addLine(cleaned, true);
    if (/(?: {2,}|\\)$/.test(line)) softLast = false; // markdown hard line break
  }
  endSection();
  return { pages: null, segments };
}

/**
 * Minimal HTML loading without a DOM library: script/style removed, h1–h6 start sections, block tags
 * become line breaks, table cells are joined with " | ", other tags are dropped and entities decoded.
 */
import type { LoadedDocument, Segment } from "./types.js";

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  copy: "©",
  reg: "®",
  trade: "™",
  times: "×",
  middot: "·",
  bull: "•",
  deg: "°",
  shy: "",
};

/** Decodes the basic named entities and all numeric ones (&#39; &#x2014;); unknown names are left as they are. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return whole;
      return String.fromCodePoint(code);
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

const BLOCK_TAGS =
  "p|div|br|hr|li|ul|ol|dl|dt|dd|tr|table|thead|tbody|tfoot|section|article|header|footer|nav|aside|main|blockquote|pre|figure|figcaption|h[1-6]|caption|form|fieldset|details|summary|address";

/** HTML fragment -> plain text: cells " | ", rows and blocks on their own line, tags dropped, entities decoded. */
export function htmlToText(html: string): string {
  let t = html;
  t = t.replace(/<(script|style|noscript|template|svg|head)\b[\s\S]*?<\/\1\s*>/gi, " ");
  t = t.replace(/<!--[\s\S]*?-->/g, " ");
  t = t.replace(/<\/t[dh]\s*>\s*<t[dh]\b[^>]*>/gi, " | ");
  t = t.replace(/<br\s*\/?>/gi, "\n");
  t = t.replace(new RegExp(`</?(?:${BLOCK_TAGS})\\b[^>]*>`, "gi"), "\n\n");
  t = t.replace(/<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^>]*)?\/?>/g, "");
  t = decodeEntities(t);
  return t
    .split("\n")
    .map((line) => line.replace(/[ \t\u00A0]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Loads an HTML page: text before the first heading has section null; each h1–h6 opens a section. */
export function loadHtml(text: string): LoadedDocument {
  const body = text.replace(/<(script|style|noscript|template|svg|head)\b[\s\S]*?<\/\1\s*>/gi, " ").replace(/<!--[\s\S]*?-->/g, " ");
  const segments: Segment[] = [];
  const heading = /<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi;
  let section: string | null = null;
  let last = 0;
  const push = (html: string) => {
    const t = htmlToText(html);
    if (t) segments.push({ text: t, page: null, section });
  };
  for (const m of body.matchAll(heading)) {
    push(body.slice(last, m.index));
    const title = htmlToText(m[2]!).replace(/\s+/g, " ").trim();
    section = title || section;
    last = (m.index ?? 0) + m[0].length;
  }
  push(body.slice(last));
  return { pages: null, segments };
}

/**
 * HTML loading: a web page -> the text a reader of its content sees, in sections.
 *
 * Parsed with htmlparser2 (DOM from domhandler, queries from domutils). Why that parser: it is the
 * one under cheerio, maintained for over a decade by the same author, forgiving of real-world
 * markup, fast, with no native code; it decodes every HTML5 entity (through `entities`); together
 * the three packages and their two dependencies take about 1.2 MB. parse5 is stricter to the spec
 * but larger and has no query helpers; node-html-parser is looser on malformed markup.
 *
 * Rules:
 *   - never text: script, style, template, svg and other embedded content, forms and their
 *     controls, site chrome (nav, header, footer, aside, and their ARIA roles), hidden elements;
 *   - a page's content is its <article> (the one with the most text when there are several), else
 *     its <main>, else its <body>: menus, footers and "subscribe" boxes outside it are left out;
 *   - h1–h6 start sections (the heading is the first line of its section's text, as in markdown);
 *   - paragraphs and other blocks are separated by a blank line; a list is one paragraph with a
 *     line per item (ordered ones numbered); <br> starts a line;
 *   - a table is one line per row, its cells joined by " | "; <pre> code keeps its lines and indentation.
 */
import { findAll, textContent } from "domutils";
import { isTag, isText, type AnyNode, type Element } from "domhandler";
import { parseDocument } from "htmlparser2";
import type { LoadedDocument, Segment } from "./types.js";

/** Elements whose content is never part of the text. */
const DROPPED = new Set([
  "head", "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed", "video", "audio",
  "nav", "header", "footer", "aside",
  "form", "button", "input", "select", "textarea", "dialog",
]);
/** ARIA roles of site chrome (the same as nav, header, footer, aside), search boxes and footnote back-links ("↩"). */
const DROPPED_ROLES = new Set(["navigation", "banner", "contentinfo", "complementary", "search", "doc-backlink"]);

/** Elements that end the current paragraph (inside a list item: the current line). */
const BLOCKS = new Set([
  "html", "body", "main", "article", "section", "div", "p", "blockquote", "figure", "figcaption", "address",
  "details", "summary", "fieldset", "legend", "center", "hr", "dl", "caption",
]);
const LISTS = new Set(["ul", "ol", "menu"]);
/** Elements that start a new line within the current paragraph. */
const LINES = new Set(["li", "dt", "dd", "br"]);

const HEADING = /^h[1-6]$/;

/** Whether an element is site chrome, hidden or not text (the loader skips it; the rendered page leaves it out). */
export function isDropped(el: Element): boolean {
  return DROPPED.has(el.name) || DROPPED_ROLES.has(el.attribs.role ?? "") || "hidden" in el.attribs || el.attribs["aria-hidden"] === "true";
}

function insideDropped(el: Element): boolean {
  for (let p = el.parent; p; p = p.parent) if (isTag(p) && isDropped(p)) return true;
  return false;
}

/** The nodes that hold the page's content: its main <article>, else <main>, else <body>, else everything. */
export function contentRoot(nodes: AnyNode[]): AnyNode[] {
  const pick = (name: string) => findAll((el) => el.name === name && !insideDropped(el), nodes);
  const articles = pick("article");
  if (articles.length > 0) {
    const longest = articles.reduce((best, a) => (textContent(a).trim().length > textContent(best).trim().length ? a : best));
    return [longest];
  }
  const main = pick("main")[0] ?? pick("body")[0];
  return main ? [main] : nodes;
}

/** Text of an element on one line (headings, table cells), dropped elements left out. */
function inlineText(nodes: AnyNode[]): string {
  const parts: string[] = [];
  const walk = (list: AnyNode[]) => {
    for (const n of list) {
      if (isText(n)) parts.push(n.data);
      else if (isTag(n) && !isDropped(n)) {
        const spaced = BLOCKS.has(n.name) || LISTS.has(n.name) || LINES.has(n.name) || n.name === "td" || n.name === "th";
        if (spaced) parts.push(" ");
        walk(n.children);
        if (spaced) parts.push(" ");
      }
    }
  };
  walk(nodes);
  return parts.join("").replace(/\s+/g, " ").trim();
}

/** Collects lines into paragraphs and paragraphs into sections. */
class TextBuilder {
  readonly segments: Segment[] = [];
  private section: string | null = null;
  private paragraphs: string[] = [];
  private lines: string[] = [];
  private line = "";
  /** How many lists we are in: a list, and a block in a list item, is lines of one paragraph. */
  private listDepth = 0;
  /** Whether the current line holds only a list item's number, which the item's first block continues. */
  private markerOnly = false;

  /** Without sections (an HTML fragment), a heading is a paragraph of its own. */
  constructor(private readonly withSections: boolean) {}

  /** A block element starts or ends: a new paragraph, or, inside a list, a new line. */
  block(): void {
    if (this.listDepth === 0) this.endParagraph();
    else if (!this.markerOnly) this.endLine();
  }

  /** Starts a list item's line with its number ("1. "). */
  marker(text: string): void {
    this.endLine();
    this.line = text;
    this.markerOnly = true;
  }

  enterList(): void {
    this.block();
    this.listDepth++;
  }

  leaveList(): void {
    this.listDepth--;
    this.block();
  }

  inline(text: string): void {
    this.line += text;
    if (this.markerOnly && text.trim()) this.markerOnly = false;
  }

  endLine(): void {
    const l = this.line.replace(/\s+/g, " ").trim();
    if (l) this.lines.push(l);
    this.line = "";
    this.markerOnly = false;
  }

  endParagraph(): void {
    this.endLine();
    if (this.lines.length) this.paragraphs.push(this.lines.join("\n"));
    this.lines = [];
  }

  /** A paragraph taken as it is (code): trailing spaces and surrounding blank lines removed. */
  verbatim(text: string): void {
    this.endParagraph();
    const t = text.split("\n").map((l) => l.replace(/\s+$/, "")).join("\n").replace(/^\n+|\n+$/g, "");
    if (t.trim()) this.paragraphs.push(t);
  }

  /** One line of the current paragraph, already formatted (a table row). */
  addLine(text: string): void {
    this.endLine();
    if (text) this.lines.push(text);
  }

  heading(title: string): void {
    if (!title) return;
    if (!this.withSections) {
      this.endParagraph();
      this.paragraphs.push(title);
      return;
    }
    this.endSection();
    this.section = title;
  }

  endSection(): void {
    this.endParagraph();
    const body = this.paragraphs.join("\n\n").trim();
    // A heading with no text under it adds nothing.
    if (body) this.segments.push({ text: this.section ? `${this.section}\n\n${body}` : body, page: null, section: this.section });
    this.paragraphs = [];
  }
}

function render(nodes: AnyNode[], out: TextBuilder): void {
  for (const node of nodes) {
    if (isText(node)) out.inline(node.data);
    if (!isTag(node) || isDropped(node)) continue; // comments, doctype, CDATA, chrome
    const name = node.name;
    if (HEADING.test(name)) out.heading(inlineText(node.children));
    else if (name === "pre") out.verbatim(textContent(node));
    else if (name === "table") renderTable(node, out);
    else if (LISTS.has(name)) renderList(node, out);
    else if (BLOCKS.has(name)) {
      out.block();
      render(node.children, out);
      out.block();
    } else if (LINES.has(name)) {
      out.endLine();
      render(node.children, out);
      out.endLine();
    } else render(node.children, out); // inline: a, span, em, strong, code, sup, ...
  }
}

/** One line per item; items of an ordered list numbered "1. ", "2. ", ... (from its `start`). */
function renderList(list: Element, out: TextBuilder): void {
  out.enterList();
  let n = Number.parseInt(list.attribs.start ?? "1", 10) || 1;
  for (const child of list.children) {
    if (isTag(child) && child.name === "li" && !isDropped(child)) {
      out.endLine();
      if (list.name === "ol") out.marker(`${n++}. `);
      render(child.children, out);
      out.endLine();
    } else render([child], out);
  }
  out.leaveList();
}

function renderTable(table: Element, out: TextBuilder): void {
  out.endParagraph();
  const caption = table.children.find((c): c is Element => isTag(c) && c.name === "caption");
  if (caption) out.addLine(inlineText(caption.children));
  // Rows of this table, not of tables nested in its cells (those are read as the cell's text).
  const rows = findAll((el) => el.name === "tr" && nearestTable(el) === table, table.children);
  for (const row of rows) {
    const cells = row.children.filter((c): c is Element => isTag(c) && (c.name === "td" || c.name === "th") && !isDropped(c));
    out.addLine(cells.map((c) => inlineText(c.children)).filter(Boolean).join(" | "));
  }
  out.endParagraph();
}

function nearestTable(el: Element): Element | undefined {
  for (let p = el.parent; p; p = p.parent) if (isTag(p) && p.name === "table") return p;
  return undefined;
}

/** Loads an HTML page: its content (see the module comment), text before the first heading in section null. */
export function loadHtml(html: string): LoadedDocument {
  const doc = parseDocument(html);
  const out = new TextBuilder(true);
  render(contentRoot(doc.children), out);
  out.endSection();
  return { pages: null, segments: out.segments };
}

/** An HTML fragment (e.g. a table cell in markdown) as plain text: blocks separated by blank lines, entities decoded. */
export function htmlToText(html: string): string {
  const out = new TextBuilder(false);
  render(parseDocument(html).children, out);
  out.endSection();
  return out.segments.map((s) => s.text).join("\n\n");
}

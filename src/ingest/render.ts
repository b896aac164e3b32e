/**
 * The readable page of a markdown or HTML document: what a citation of it opens. The document is
 * rendered (markdown by marked, HTML as its content: the same <article>/<main> the loader reads),
 * sanitised by sanitize-html to a small set of text elements (no scripts, styles, event handlers,
 * forms, frames, images or ids of its own; links only to http(s), mailto and in-page anchors), and
 * each heading gets the id citations link to: sectionAnchor() of its text, the same function that
 * builds the citation's fragment from the section the loader recorded.
 */
import render from "dom-serializer";
import { isTag, type Element } from "domhandler";
import { findAll, removeElement, textContent } from "domutils";
import { parseDocument } from "htmlparser2";
import { Marked } from "marked";
import sanitizeHtml from "sanitize-html";
import { sectionAnchor } from "../text/anchors.js";
import { contentRoot, isDropped } from "./html.js";

export interface RenderInput {
  title: string;
  format: "markdown" | "html";
  text: string;
  /** The original's URL, linked from the page (omitted unless http(s)). */
  sourceUrl?: string;
  /** Where the indexed file itself is (the raw download link). */
  rawUrl?: string;
}

export interface RenderedPage {
  html: string;
  /** The heading anchors in page order (a citation's fragment is one of them). */
  anchors: string[];
}

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code", "kbd", "samp",
    "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
    "a", "em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark", "abbr", "cite", "q",
    "figure", "figcaption", "span", "div", "section", "article", "details", "summary",
  ],
  allowedAttributes: { a: ["href", "title", "rel"], th: ["colspan", "rowspan", "scope"], td: ["colspan", "rowspan"], abbr: ["title"], ol: ["start"] },
  allowedSchemes: ["http", "https", "mailto"],
  allowedSchemesAppliedToAttributes: ["href"],
  allowProtocolRelative: false,
  // Their text is dropped too, not only the tags: site chrome and embedded content are not the document.
  nonTextTags: ["script", "style", "textarea", "option", "noscript", "template", "nav", "header", "footer", "aside", "form", "button", "select", "svg", "iframe", "object"],
};

/**
 * Links: in-page anchors stay; the rest open the web, not this server: a relative link (a site's own
 * "/blog/") is resolved against the original's URL, or loses its href when there is none.
 */
function sanitizeOptions(sourceUrl: string | undefined): sanitizeHtml.IOptions {
  const base = sourceUrl && /^https?:\/\//i.test(sourceUrl) ? sourceUrl : undefined;
  return {
    ...SANITIZE,
    transformTags: {
      a: (tagName, attribs) => {
        const href = attribs.href?.trim();
        if (!href || href.startsWith("#")) return { tagName, attribs };
        let resolved: string | undefined;
        try {
          resolved = base ? new URL(href, base).href : new URL(href).href;
        } catch {
          resolved = undefined;
        }
        const { href: _drop, ...rest } = attribs;
        return { tagName, attribs: resolved ? { ...rest, href: resolved, rel: "noopener noreferrer nofollow" } : rest };
      },
    },
  };
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The document's body as sanitised HTML with an id on each heading; the ids in order. */
export function renderBody(input: Pick<RenderInput, "format" | "text" | "sourceUrl">): RenderedPage {
  let html: string;
  if (input.format === "markdown") html = new Marked({ gfm: true, async: false }).parse(input.text.replace(/^\uFEFF/, "")) as string;
  else {
    // What the loader indexes: the content root without the elements it skips (chrome, hidden, forms).
    const root = contentRoot(parseDocument(input.text).children);
    for (const el of findAll(isDropped, root)) removeElement(el);
    html = render(root);
  }
  const clean = sanitizeHtml(html, sanitizeOptions(input.sourceUrl));
  const dom = parseDocument(clean);
  const seen = new Map<string, number>();
  const anchors: string[] = [];
  for (const h of findAll((el: Element) => /^h[1-6]$/.test(el.name), dom.children)) {
    const base = sectionAnchor(textContent(h).replace(/\s+/g, " ").trim());
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const id = n === 1 ? base : `${base}-${n}`;
    h.attribs.id = id;
    anchors.push(id);
  }
  // Links inside the document that pointed at its own old ids lead nowhere now: keep their text only.
  for (const a of findAll((el: Element) => el.name === "a" && (el.attribs.href ?? "").startsWith("#") && !anchors.includes(el.attribs.href!.slice(1)), dom.children))
    if (isTag(a)) delete a.attribs.href;
  return { html: render(dom.children, { encodeEntities: "utf8" }), anchors };
}

/** A whole page: the document under a header naming it, with links to the original and the file. */
export function renderDocumentPage(input: RenderInput): RenderedPage {
  const body = renderBody(input);
  const links = [
    input.sourceUrl && /^https?:\/\//i.test(input.sourceUrl) ? `<a href="${escape(input.sourceUrl)}" rel="noopener noreferrer">Original</a>` : "",
    input.rawUrl ? `<a href="${escape(input.rawUrl)}">${input.format === "markdown" ? "Markdown" : "HTML"} file</a>` : "",
    `<a href="/">Ask a question</a>`,
  ].filter(Boolean);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(input.title)}</title>
<link rel="stylesheet" href="/document.css">
</head>
<body>
<header class="doc-header"><p class="doc-kind">Indexed copy</p><h1 class="doc-title">${escape(input.title)}</h1><nav class="doc-links">${links.join(" · ")}</nav></header>
<main class="doc-body">
${body.html}
</main>
</body>
</html>
`;
  return { html, anchors: body.anchors };
}

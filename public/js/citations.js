// Source cards: one per retrieved passage (title, page, section, score, snippet; a link that opens the
// indexed copy at the passage, a PDF in the browser's viewer at its page, and one to the original),
// cited ones first, and moving focus to card n when an [n] marker in the answer is followed.
import { h } from "./dom.js";

const SNIPPET_CHARS = 300;

/** The element id of citation card n of a turn (unique across the conversation). */
export const citationId = (turnId, n) => `t${turnId}-cite-${n}`;

/**
 * Fills a turn's source list.
 * @param {HTMLElement} list the <ol> @param {HTMLElement} count the "2 cited · 5 retrieved" label
 */
export function renderCitations(list, count, citations, turnId) {
  const sorted = [...citations].sort((a, b) => Number(b.cited) - Number(a.cited) || a.n - b.n);
  const cited = sorted.filter((c) => c.cited).length;
  count.textContent = citations.length ? `${cited} cited · ${citations.length} retrieved` : "";
  list.replaceChildren(...sorted.map((c) => card(c, turnId)));
  if (citations.length === 0) list.append(h("li", "empty", "No passages were retrieved."));
}

/** Scrolls to card n of the list, focuses and highlights it. */
export function focusCitation(list, n) {
  const card = /** @type {HTMLElement | null} */ (list.querySelector(`.citation[data-n="${CSS.escape(String(n))}"]`));
  if (!card) return;
  const sources = card.closest("details");
  if (sources && !sources.open) sources.open = true;
  for (const c of list.querySelectorAll(".citation.flash")) c.classList.remove("flash");
  const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  card.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "center" });
  card.focus({ preventScroll: true });
  void card.offsetWidth; // restart the animation
  card.classList.add("flash");
}

/** A passage's page as shown: "p. 3", or "no page" for documents without pages. */
export const pageLabel = (c) => (typeof c.page === "number" ? `p. ${c.page}` : "no page");

export const isWebUrl = (url) => typeof url === "string" && /^https?:\/\//i.test(url);

function card(c, turnId) {
  const li = h("li", `citation ${c.cited ? "cited" : "uncited"}`);
  li.id = citationId(turnId, c.n);
  li.dataset.n = String(c.n);
  li.dataset.docId = c.docId ?? "";
  li.tabIndex = -1;

  const head = h("div", "citation-head");
  const badge = h("span", "citation-n", c.n);
  badge.setAttribute("aria-label", `source ${c.n}`);
  head.append(badge, h("h4", "citation-title", c.title || c.docId || "Untitled document"), h("span", "citation-tag", c.cited ? "cited" : "not cited"));

  const meta = h("p", "citation-meta");
  meta.append(h("span", "citation-page", pageLabel(c)));
  if (c.section) meta.append(h("span", "citation-section", c.section));
  if (typeof c.score === "number") meta.append(h("span", "citation-score", `score ${c.score.toFixed(3)}`));

  li.append(head, meta, h("p", "citation-snippet", shorten(snippetText(c))));
  const links = h("p", "citation-links");
  if (isWebUrl(c.url)) links.append(link("citation-link", typeof c.page === "number" ? `Open at page ${c.page}` : c.section ? "Open at the section" : "Open the document", c.url));
  if (isWebUrl(c.sourceUrl) && c.sourceUrl !== c.url) links.append(link("citation-source", "Original", c.sourceUrl));
  if (links.childElementCount) li.append(links);
  return li;
}

/** A link that opens in a new tab (the PDF viewer, the document page, the original). */
function link(className, label, href) {
  const a = h("a", className, label);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  const arrow = h("span", "external-arrow", "↗");
  arrow.setAttribute("aria-hidden", "true");
  a.append(arrow, h("span", "visually-hidden", " (opens in a new tab)"));
  return a;
}

/** A chunk's text on one line, without the section heading it starts with (the card shows the section). */
function snippetText(c) {
  let text = String(c.text ?? "");
  const section = String(c.section ?? "").trim();
  if (section && text.startsWith(section) && /^\s*\n/.test(text.slice(section.length))) text = text.slice(section.length);
  return text.replace(/\s+/g, " ").trim();
}

function shorten(text) {
  if (text.length <= SNIPPET_CHARS) return text;
  const space = text.lastIndexOf(" ", SNIPPET_CHARS);
  return `${text.slice(0, space > 200 ? space : SNIPPET_CHARS)} …`;
}

// The document scope picker: the documents from GET /v1/documents as checkboxes, the picker's summary,
// the "Scope: …" line under the form, and the scope a question is sent with (`docs`).
import { fetchDocuments } from "./api.js";
import { h, messageOf, note } from "./dom.js";

const TITLES_SHOWN = 3;

/**
 * @param {{details: HTMLElement, summary: HTMLElement, list: HTMLElement, note: HTMLElement,
 *          all: HTMLElement, none: HTMLElement, scope: HTMLElement}} el
 */
export function createScopePicker(el) {
  const boxes = () => /** @type {HTMLInputElement[]} */ ([...el.list.querySelectorAll('input[type="checkbox"]')]);

  /** @returns {import("./state.js").Scope} The selection; `docs` is undefined for "all documents" (no filter). */
  function selected() {
    const all = boxes();
    const on = all.filter((b) => b.checked);
    const titles = on.map((b) => b.dataset.title ?? b.value);
    if (all.length === 0 || on.length === all.length) return { titles, total: all.length };
    return { docs: on.map((b) => b.value), titles, total: all.length };
  }

  function update() {
    const all = boxes();
    const { docs, titles } = selected();
    const on = docs ? docs.length : all.length;
    el.summary.textContent = !docs ? `Documents: all (${all.length})` : on === 0 ? "Documents: none selected" : `Documents: ${on} of ${all.length}`;
    el.details.classList.toggle("filtered", docs !== undefined);
    el.scope.dataset.state = !docs ? "all" : on === 0 ? "none" : "some";
    el.scope.textContent = `Scope: ${describeScope({ docs, titles, total: all.length })}`;
  }

  function setAll(checked) {
    for (const b of boxes()) b.checked = checked;
    update();
  }

  async function load() {
    try {
      const documents = await fetchDocuments();
      el.note.remove();
      if (documents.length === 0) {
        el.list.append(note("No documents are indexed yet."));
        return;
      }
      for (const d of documents) el.list.append(option(d));
    } catch (err) {
      el.note.textContent = `Could not load the document list (${messageOf(err)}); questions search every document.`;
    }
    update();
  }

  el.all.addEventListener("click", () => setAll(true));
  el.none.addEventListener("click", () => setAll(false));
  el.list.addEventListener("change", update);
  update();
  return { load, selected };
}

/** "all documents (9)", "Attention Is All You Need", "3 documents: A; B; C", "4 documents: A; B; C and 1 more". */
export function describeScope({ docs, titles, total }) {
  if (!docs) return total ? `all documents (${total})` : "all documents";
  if (docs.length === 0) return "no document selected";
  if (docs.length === 1) return titles[0] ?? docs[0];
  const shown = titles.slice(0, TITLES_SHOWN).join("; ");
  const more = titles.length - TITLES_SHOWN;
  return `${docs.length} documents: ${shown}${more > 0 ? ` and ${more} more` : ""}`;
}

function option(d) {
  const label = h("label", "doc-option");
  const box = h("input");
  box.type = "checkbox";
  box.name = "docs";
  box.value = d.id;
  box.checked = true;
  box.dataset.title = d.title || d.id;
  const text = h("span", "doc-text");
  const meta = [d.year, d.kind, d.pages ? `${d.pages} pages` : null, `${d.chunks} chunks`].filter(Boolean).join(" · ");
  text.append(h("span", "doc-title", d.title || d.id), h("span", "doc-meta", meta));
  label.append(box, text);
  return label;
}

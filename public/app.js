// LLMOps QA web page: asks POST /v1/ask with stream:true and renders the Server-Sent Events.
// Plain ES module, no build step. Server text is only ever set through textContent (never innerHTML).

const SNIPPET_CHARS = 300;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const el = {
  form: /** @type {HTMLFormElement} */ ($("ask-form")),
  question: /** @type {HTMLTextAreaElement} */ ($("question")),
  ask: /** @type {HTMLButtonElement} */ ($("ask")),
  askLabel: /** @type {HTMLElement} */ (document.querySelector("#ask .ask-label")),
  status: $("status"),
  error: $("error"),
  warning: $("warning"),
  result: $("result"),
  answer: $("answer"),
  usage: $("usage"),
  citations: $("citations"),
  citationsCount: $("citations-count"),
  docFilter: $("doc-filter"),
  docSummary: $("doc-filter-summary"),
  docList: $("doc-list"),
  docNote: $("doc-list-note"),
  docAll: $("doc-all"),
  docNone: $("doc-none"),
  prompt: /** @type {HTMLSelectElement} */ ($("prompt-version")),
};

let running = false;
/** @type {AbortController | null} */
let controller = null;

// ---------------------------------------------------------------- setup

el.form.addEventListener("submit", (e) => {
  e.preventDefault();
  void submit();
});

el.question.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    if (!running) el.form.requestSubmit();
  }
});

el.docAll.addEventListener("click", () => setAllDocs(true));
el.docNone.addEventListener("click", () => setAllDocs(false));
el.docList.addEventListener("change", updateDocSummary);

void loadDocuments();
void loadPrompts();

// ---------------------------------------------------------------- documents and prompts

async function loadDocuments() {
  try {
    const res = await fetch("/v1/documents", { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const { documents = [] } = await res.json();
    el.docNote.remove();
    if (documents.length === 0) {
      el.docList.append(note("No documents are indexed yet."));
      return;
    }
    for (const d of documents) {
      const label = document.createElement("label");
      label.className = "doc-option";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "docs";
      box.value = d.id;
      box.checked = true;
      const text = document.createElement("span");
      text.className = "doc-text";
      const title = document.createElement("span");
      title.className = "doc-title";
      title.textContent = d.title;
      const meta = document.createElement("span");
      meta.className = "doc-meta";
      meta.textContent = [d.year, d.kind, d.pages ? `${d.pages} pages` : null, `${d.chunks} chunks`].filter(Boolean).join(" · ");
      text.append(title, meta);
      label.append(box, text);
      el.docList.append(label);
    }
    updateDocSummary();
  } catch (err) {
    el.docNote.textContent = `Could not load the document list (${messageOf(err)}); questions search every document.`;
  }
}

async function loadPrompts() {
  try {
    const res = await fetch("/v1/prompts", { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const { default: def, versions = [] } = await res.json();
    el.prompt.replaceChildren();
    const all = versions.includes(def) || !def ? versions : [def, ...versions];
    for (const v of all) {
      const opt = document.createElement("option");
      opt.value = v;
      opt.textContent = v === def ? `${v} (default)` : v;
      opt.selected = v === def;
      el.prompt.append(opt);
    }
  } catch {
    // Keep the "Default" option: the server then uses its configured prompt version.
  }
}

function docBoxes() {
  return /** @type {HTMLInputElement[]} */ ([...el.docList.querySelectorAll('input[type="checkbox"]')]);
}

function setAllDocs(checked) {
  for (const b of docBoxes()) b.checked = checked;
  updateDocSummary();
}

function updateDocSummary() {
  const boxes = docBoxes();
  const on = boxes.filter((b) => b.checked).length;
  el.docSummary.textContent =
    on === boxes.length ? `Documents: all (${boxes.length})` : on === 0 ? "Documents: none selected" : `Documents: ${on} of ${boxes.length}`;
  el.docFilter.classList.toggle("filtered", on !== boxes.length);
}

/** The selected document ids, or undefined for "all documents" (no filter). */
function selectedDocs() {
  const boxes = docBoxes();
  const on = boxes.filter((b) => b.checked).map((b) => b.value);
  return boxes.length === 0 || on.length === boxes.length ? undefined : on;
}

// ---------------------------------------------------------------- asking

async function submit() {
  if (running) return;
  const question = el.question.value.trim();
  if (!question) {
    showError({ code: "EMPTY_QUESTION", message: "Type a question first." });
    el.question.focus();
    return;
  }
  const docs = selectedDocs();
  if (docs && docs.length === 0) {
    showError({ code: "NO_DOCUMENTS", message: "Select at least one document, or choose “Select all”." });
    return;
  }

  const body = { question, stream: true };
  if (docs) body.docs = docs;
  if (el.prompt.value) body.promptVersion = el.prompt.value;

  startLoading();
  const state = { text: "", citations: /** @type {any[] | null} */ (null), finished: false };
  controller = new AbortController();
  try {
    const res = await fetch("/v1/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!res.ok) {
      showError(await httpError(res));
      return;
    }
    if (!res.body || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      // A server that answered with JSON instead of a stream: render it as the final result.
      const data = await res.json();
      state.finished = true;
      renderFinal(data);
      return;
    }
    setStatus("Searching the documents…");
    for await (const ev of readSse(res.body)) {
      if (ev.event === "citations") {
        state.citations = ev.data.citations ?? [];
        renderCitations(state.citations);
        setStatus("Writing the answer…");
      } else if (ev.event === "token") {
        state.text += ev.data.delta ?? "";
        renderAnswer(state.text, true);
      } else if (ev.event === "done") {
        state.finished = true;
        renderFinal(ev.data);
      } else if (ev.event === "error") {
        state.finished = true;
        showError(ev.data.error ?? { code: "INTERNAL", message: "the server reported an error" });
      }
    }
    if (!state.finished) showError({ code: "STREAM_ENDED", message: "The connection closed before the answer was complete. Try again." });
  } catch (err) {
    if (/** @type {Error} */ (err).name !== "AbortError") showError({ code: "NETWORK", message: `Could not reach the server: ${messageOf(err)}` });
  } finally {
    controller = null;
    stopLoading();
  }
}

/** Parses a text/event-stream body into {event, data} objects (data parsed as JSON). */
async function* readSse(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += value;
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + (buffer[cut] === "\r" ? 4 : 2));
        const ev = parseBlock(block);
        if (ev) yield ev;
      }
      if (done) break;
    }
    const last = parseBlock(buffer);
    if (last) yield last;
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i === -1 ? line : line.slice(0, i);
    const value = i === -1 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  try {
    return { event, data: JSON.parse(data.join("\n")) };
  } catch {
    return { event, data: {} };
  }
}

async function httpError(res) {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || "request failed";
  try {
    const body = await res.json();
    if (body?.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  if (res.status === 429) message += " (rate limited — wait a moment and try again)";
  return { code, message, status: res.status };
}

// ---------------------------------------------------------------- rendering

function startLoading() {
  running = true;
  el.ask.disabled = true;
  el.ask.classList.add("loading");
  el.askLabel.textContent = "Asking…";
  el.form.setAttribute("aria-busy", "true");
  hide(el.error);
  hide(el.warning);
  el.result.hidden = false;
  el.result.classList.add("is-loading");
  el.result.classList.remove("is-done");
  el.answer.classList.remove("not-covered", "streaming");
  el.answer.setAttribute("aria-busy", "true");
  el.answer.replaceChildren(skeleton());
  el.usage.replaceChildren();
  el.citations.replaceChildren();
  el.citationsCount.textContent = "";
  setStatus("Sending the question…");
}

function stopLoading() {
  running = false;
  el.ask.disabled = false;
  el.ask.classList.remove("loading");
  el.askLabel.textContent = "Ask";
  el.form.removeAttribute("aria-busy");
  el.answer.removeAttribute("aria-busy");
  el.answer.classList.remove("streaming");
  el.result.classList.remove("is-loading");
}

function setStatus(text, kind = "") {
  el.status.textContent = text;
  el.status.dataset.state = kind;
}

function skeleton() {
  const s = document.createElement("div");
  s.className = "skeleton";
  s.setAttribute("aria-hidden", "true");
  for (let i = 0; i < 3; i++) s.append(document.createElement("span"));
  return s;
}

/** Answer text with [n] / [n, m] markers turned into links to citation card n. */
function renderAnswer(text, streaming) {
  el.answer.classList.toggle("streaming", streaming);
  const frag = document.createDocumentFragment();
  for (const para of text.split(/\n{2,}/)) {
    if (!para.trim()) continue;
    const p = document.createElement("p");
    appendWithMarkers(p, para);
    frag.append(p);
  }
  el.answer.replaceChildren(frag);
}

function appendWithMarkers(parent, text) {
  const re = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    const sup = document.createElement("span");
    sup.className = "cite-group";
    sup.append(hiddenText("["));
    m[1].split(/\s*[,;]\s*/).forEach((n, i) => {
      if (i > 0) sup.append(hiddenText(", "));
      const a = document.createElement("a");
      a.href = `#cite-${n}`;
      a.className = "cite-ref";
      a.dataset.n = n;
      a.textContent = n;
      a.setAttribute("aria-label", `source ${n}`);
      a.addEventListener("click", (e) => {
        e.preventDefault();
        focusCitation(n);
      });
      sup.append(a);
    });
    sup.append(hiddenText("]"));
    parent.append(sup);
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function focusCitation(n) {
  const card = /** @type {HTMLElement | null} */ (el.citations.querySelector(`.citation[data-n="${CSS.escape(String(n))}"]`));
  if (!card) return;
  for (const c of el.citations.querySelectorAll(".citation.flash")) c.classList.remove("flash");
  const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  card.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "center" });
  card.focus({ preventScroll: true });
  void card.offsetWidth; // restart the animation
  card.classList.add("flash");
}

function renderCitations(citations) {
  const sorted = [...citations].sort((a, b) => Number(b.cited) - Number(a.cited) || a.n - b.n);
  const cited = sorted.filter((c) => c.cited).length;
  el.citationsCount.textContent = citations.length ? `${cited} cited · ${citations.length} retrieved` : "";
  el.citations.replaceChildren(...sorted.map(citationCard));
  if (citations.length === 0) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "No passages were retrieved.";
    el.citations.append(li);
  }
}

function citationCard(c) {
  const li = document.createElement("li");
  li.className = `citation ${c.cited ? "cited" : "uncited"}`;
  li.id = `cite-${c.n}`;
  li.dataset.n = String(c.n);
  li.dataset.docId = c.docId ?? "";
  li.tabIndex = -1;

  const head = document.createElement("div");
  head.className = "citation-head";
  const badge = document.createElement("span");
  badge.className = "citation-n";
  badge.textContent = String(c.n);
  badge.setAttribute("aria-label", `source ${c.n}`);
  const title = document.createElement("h3");
  title.className = "citation-title";
  title.textContent = c.title || c.docId || "Untitled document";
  const tag = document.createElement("span");
  tag.className = "citation-tag";
  tag.textContent = c.cited ? "cited" : "not cited";
  head.append(badge, title, tag);

  const meta = document.createElement("p");
  meta.className = "citation-meta";
  const page = document.createElement("span");
  page.className = "citation-page";
  page.textContent = typeof c.page === "number" ? `p. ${c.page}` : "no page";
  meta.append(page);
  if (c.section) {
    const section = document.createElement("span");
    section.className = "citation-section";
    section.textContent = c.section;
    meta.append(section);
  }
  if (typeof c.score === "number") {
    const score = document.createElement("span");
    score.className = "citation-score";
    score.textContent = `score ${c.score.toFixed(3)}`;
    meta.append(score);
  }

  const snippet = document.createElement("p");
  snippet.className = "citation-snippet";
  const text = snippetText(c);
  snippet.textContent = text.length > SNIPPET_CHARS ? `${text.slice(0, text.lastIndexOf(" ", SNIPPET_CHARS) > 200 ? text.lastIndexOf(" ", SNIPPET_CHARS) : SNIPPET_CHARS)} …` : text;

  li.append(head, meta, snippet);
  if (c.url && /^https?:\/\//i.test(c.url)) {
    const a = document.createElement("a");
    a.className = "citation-link";
    a.href = c.url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = typeof c.page === "number" ? `Open the original at page ${c.page}` : "Open the original";
    const arrow = document.createElement("span");
    arrow.className = "external-arrow";
    arrow.setAttribute("aria-hidden", "true");
    arrow.textContent = "↗";
    const sr = document.createElement("span");
    sr.className = "visually-hidden";
    sr.textContent = " (opens in a new tab)";
    a.append(arrow, sr);
    li.append(a);
  }
  return li;
}

function renderFinal(r) {
  renderCitations(r.citations ?? []);
  if (r.grounded === false && (r.citations ?? []).length) {
    el.citationsCount.textContent = `closest ${r.citations.length} passages · none strong enough to answer`;
  }
  if (r.grounded === false) {
    el.answer.classList.add("not-covered");
    el.answer.replaceChildren();
    const title = document.createElement("p");
    title.className = "not-covered-title";
    title.textContent = "Not covered by the documents";
    const explain = document.createElement("p");
    explain.className = "not-covered-text";
    explain.textContent =
      "The indexed documents do not contain enough evidence to answer this question, so no answer was made up. " +
      "Try rephrasing it, widening the document filter, or asking about transformers, GPT, RLHF or LLMOps.";
    const said = document.createElement("p");
    said.className = "not-covered-said";
    said.textContent = `Service reply: “${String(r.answer ?? "").trim()}”`;
    el.answer.append(title, explain, said);
  } else {
    el.answer.classList.remove("not-covered");
    renderAnswer(String(r.answer ?? ""), false);
    if (!String(r.answer ?? "").trim()) el.answer.replaceChildren(note("The service returned an empty answer."));
  }

  if (r.warning) {
    el.warning.replaceChildren(strong("Warning: "), document.createTextNode(r.warning));
    show(el.warning);
  }

  renderUsage(r);
  el.result.classList.add("is-done");
  const ms = r.timings?.totalMs;
  setStatus(
    r.grounded === false ? "Done — the documents do not cover this question." : `Done${typeof ms === "number" ? ` in ${formatMs(ms)}` : ""}.`,
    r.grounded === false ? "not-covered" : "done",
  );
}

function renderUsage(r) {
  const u = r.usage ?? {};
  const items = [
    ["Mode", r.mode],
    ["Model", r.model],
    ["Prompt", r.promptVersion],
    ["Tokens", `${u.promptTokens ?? 0} prompt / ${u.completionTokens ?? 0} completion`],
    ["Cost", `$${Number(u.costUsd ?? 0).toFixed(6)}`],
    ["Total", typeof r.timings?.totalMs === "number" ? formatMs(r.timings.totalMs) : "—"],
  ];
  el.usage.replaceChildren(
    ...items.map(([k, v]) => {
      const span = document.createElement("span");
      span.className = "usage-item";
      const key = document.createElement("span");
      key.className = "usage-key";
      key.textContent = `${k} `;
      const val = document.createElement("span");
      val.className = "usage-value";
      val.textContent = String(v ?? "—");
      span.append(key, val);
      return span;
    }),
  );
  if (r.timings) {
    el.usage.title = `retrieval ${formatMs(r.timings.retrievalMs)}, generation ${formatMs(r.timings.generationMs)}, total ${formatMs(r.timings.totalMs)}`;
  }
}

function showError(err) {
  el.error.replaceChildren();
  const title = document.createElement("strong");
  title.textContent = "Something went wrong";
  const msg = document.createElement("p");
  msg.className = "error-message";
  msg.textContent = err.message || "unknown error";
  const code = document.createElement("p");
  code.className = "error-code";
  code.append("Code: ");
  const c = document.createElement("code");
  c.textContent = String(err.code ?? "UNKNOWN");
  code.append(c);
  if (err.status) code.append(` · HTTP ${err.status}`);
  el.error.append(title, msg, code);
  show(el.error);
  if (el.answer.querySelector(".skeleton")) el.answer.replaceChildren();
  if (!el.answer.textContent?.trim() && !el.citations.children.length) el.result.hidden = true;
  setStatus(`Failed: ${err.code ?? "error"}`, "error");
}

// ---------------------------------------------------------------- helpers

/** A chunk's text on one line, without the section heading it starts with (the card shows the section). */
function snippetText(c) {
  let text = String(c.text ?? "");
  const section = String(c.section ?? "").trim();
  if (section && text.startsWith(section) && /^\s*\n/.test(text.slice(section.length))) text = text.slice(section.length);
  return text.replace(/\s+/g, " ").trim();
}

/** Text kept for screen readers and copy/paste but not shown (the [ ] around citation pills). */
function hiddenText(text) {
  const span = document.createElement("span");
  span.className = "visually-hidden";
  span.textContent = text;
  return span;
}

function note(text) {
  const p = document.createElement("p");
  p.className = "hint";
  p.textContent = text;
  return p;
}

function strong(text) {
  const s = document.createElement("strong");
  s.textContent = text;
  return s;
}

function show(node) {
  node.hidden = false;
}

function hide(node) {
  node.hidden = true;
  node.replaceChildren();
}

function formatMs(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "—";
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms).toLocaleString("en-US")} ms`;
}

function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

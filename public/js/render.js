// Rendering the conversation: one <li class="turn"> per question (the question, its scope, "searched
// as: …"), its answer as it streams ([n] markers linked to source cards), the not-covered state,
// warning, usage, Copy, and the sources; plus the page's status line and error banner.
// Server text only ever goes in through textContent (h() and text nodes), never innerHTML.
import { citationId, focusCitation, renderCitations } from "./citations.js";
import { formatMs, h, hiddenText, note } from "./dom.js";
import { describeScope } from "./scope.js";
import { isCitation } from "./state.js";

const MARKERS = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;

/**
 * The DOM of one turn, and the updates the asking flow makes to it.
 * @param {import("./state.js").Turn} turn
 * @param {{onCopy: () => void, onFeedback?: (answerId: string, rating: "up" | "down") => Promise<unknown>}} actions
 */
export function createTurnView(turn, { onCopy, onFeedback }) {
  const li = h("li", "turn");
  li.dataset.turn = String(turn.id);

  const question = h("div", "turn-question");
  question.append(h("h3", "question-text", turn.question));
  if (turn.scope.docs) question.append(h("p", "turn-scope", `in ${describeScope(turn.scope)}`));
  const standalone = h("p", "standalone");
  standalone.hidden = true;
  question.append(standalone);

  const panel = h("section", "panel turn-answer");
  panel.setAttribute("aria-label", `Answer ${turn.id}`);
  const answer = h("div", "answer");
  answer.setAttribute("aria-live", "polite");
  answer.setAttribute("aria-atomic", "false");
  const warning = h("div", "banner banner-warning");
  warning.setAttribute("role", "note");
  warning.hidden = true;
  const usage = h("p", "usage");
  const actions = h("div", "answer-actions");
  actions.hidden = true;
  const copy = h("button", "secondary copy-button", "Copy");
  copy.setAttribute("type", "button");
  copy.setAttribute("aria-label", `Copy answer ${turn.id} with its sources`);
  copy.addEventListener("click", onCopy);
  const copyStatus = h("span", "copy-status");
  copyStatus.setAttribute("role", "status");
  actions.append(copy, copyStatus);
  // Thumbs up / down (POST /v1/feedback), shown once the answer has an answerId.
  const feedback = h("span", "feedback");
  feedback.hidden = true;
  const feedbackStatus = h("span", "feedback-status");
  feedbackStatus.setAttribute("role", "status");
  const thumb = (rating, label, symbol) => {
    const b = h("button", "secondary thumb", symbol);
    b.setAttribute("type", "button");
    b.setAttribute("aria-label", `${label}: answer ${turn.id}`);
    b.setAttribute("aria-pressed", "false");
    b.dataset.rating = rating;
    return b;
  };
  const up = thumb("up", "Good answer", "👍");
  const down = thumb("down", "Bad answer", "👎");
  feedback.append(up, down, feedbackStatus);
  actions.append(feedback);
  const verified = h("p", "verification");
  verified.hidden = true;

  const sources = /** @type {HTMLDetailsElement} */ (h("details", "sources"));
  sources.open = true;
  const summary = h("summary", "section-title", "Sources");
  const count = h("span", "count");
  summary.append(count);
  const list = h("ol", "citations");
  sources.append(summary, list);

  panel.append(answer, warning, verified, usage, actions, sources);
  li.append(question, panel);

  const setState = (state) => {
    li.dataset.state = state;
    const busy = state === "pending" || state === "streaming";
    answer.classList.toggle("streaming", state === "streaming");
    if (busy) answer.setAttribute("aria-busy", "true");
    else answer.removeAttribute("aria-busy");
  };
  /** What an [n] marker in this turn's answer links to. */
  const marker = {
    /** Whether a marker's "1, 2" names passages of this answer (a quoted paper's "[20]" stays text). */
    known: (numbers) => isCitation(numbers, new Set(turn.citations.map((c) => Number(c.n)))),
    href: (n) => `#${citationId(turn.id, n)}`,
    follow: (n) => focusCitation(list, n),
  };
  setState("pending");
  answer.append(skeleton());

  return {
    li,
    /** The answer so far, while tokens arrive. */
    streaming(text) {
      setState("streaming");
      renderAnswer(answer, text, marker);
    },
    citations(citations) {
      renderCitations(list, count, citations, turn.id);
    },
    /** The done event (or a JSON reply): final answer, sources, warning, usage, "searched as". */
    finish(r) {
      const citations = r.citations ?? [];
      renderCitations(list, count, citations, turn.id);
      if (r.grounded === false) {
        if (citations.length) count.textContent = `closest ${citations.length} passages · none strong enough to answer`;
        answer.classList.add("not-covered");
        answer.replaceChildren(...notCovered(r.answer));
      } else {
        renderAnswer(answer, String(r.answer ?? ""), marker);
        if (!String(r.answer ?? "").trim()) answer.replaceChildren(note("The service returned an empty answer."));
      }
      if (r.warning) {
        warning.replaceChildren(h("strong", "", "Warning: "), document.createTextNode(String(r.warning)));
        warning.hidden = false;
      }
      const unsupported = r.verification?.unsupported ?? [];
      if (unsupported.length) {
        verified.replaceChildren(
          h("strong", "", `${unsupported.length} of ${r.verification.checked} sentences not found in the passages they cite: `),
          document.createTextNode(unsupported.map((u) => `“${u.sentence}”`).join(" ")),
        );
        verified.hidden = false;
      }
      if (r.answerId && onFeedback) {
        feedback.hidden = false;
        for (const b of [up, down])
          b.onclick = () => {
            for (const x of [up, down]) x.disabled = true;
            onFeedback(String(r.answerId), /** @type {"up" | "down"} */ (b.dataset.rating)).then(
              () => {
                b.setAttribute("aria-pressed", "true");
                feedbackStatus.textContent = "Thanks for the feedback";
                feedbackStatus.dataset.state = "ok";
              },
              (err) => {
                for (const x of [up, down]) x.disabled = false;
                feedbackStatus.textContent = `Feedback not saved: ${err.message || "error"}`;
                feedbackStatus.dataset.state = "error";
              },
            );
          };
      }
      renderUsage(usage, r);
      const searched = String(r.standaloneQuestion ?? "").trim();
      if (searched && searched !== turn.question.trim()) {
        standalone.replaceChildren(h("span", "standalone-label", "searched as: "), h("q", "standalone-text", searched));
        standalone.hidden = false;
      }
      actions.hidden = false;
      setState(r.grounded === false ? "not-covered" : "done");
    },
    /** The request failed: the error banner says why; the turn keeps a short note. */
    fail(err) {
      if (answer.querySelector(".skeleton")) answer.replaceChildren();
      answer.append(h("p", "turn-note", `No answer: ${err.message || "unknown error"} (${err.code ?? "UNKNOWN"})`));
      setState("error");
    },
    /** Stopped by the user (Escape or Stop): what arrived stays, marked incomplete. */
    stop() {
      if (answer.querySelector(".skeleton")) answer.replaceChildren();
      answer.append(h("p", "turn-note", answer.textContent?.trim() ? "Stopped: the answer above is incomplete." : "Stopped before the answer began."));
      setState("stopped");
    },
    copied(ok, message) {
      copy.textContent = ok ? "Copied ✓" : "Copy";
      copyStatus.textContent = message;
      copyStatus.dataset.state = ok ? "ok" : "error";
      clearTimeout(Number(copy.dataset.timer));
      if (ok) copy.dataset.timer = String(setTimeout(() => (copy.textContent = "Copy"), 2500));
    },
    collapseSources() {
      sources.open = false;
    },
  };
}

export function setStatus(el, text, kind = "") {
  el.textContent = text;
  el.dataset.state = kind;
}

/** The error banner: the message, the code, the HTTP status when there is one. */
export function showError(el, err) {
  const code = h("p", "error-code", "Code: ");
  code.append(h("code", "", err.code ?? "UNKNOWN"));
  if (err.status) code.append(` · HTTP ${err.status}`);
  el.replaceChildren(h("strong", "", "Something went wrong"), h("p", "error-message", err.message || "unknown error"), code);
  el.hidden = false;
}

export function hideError(el) {
  el.hidden = true;
  el.replaceChildren();
}

/** Answer text in paragraphs, with [n] / [n, m] markers turned into links to the turn's card n. */
function renderAnswer(container, text, marker) {
  container.classList.remove("not-covered");
  const frag = document.createDocumentFragment();
  for (const para of text.split(/\n{2,}/)) {
    if (!para.trim()) continue;
    const p = h("p");
    appendWithMarkers(p, para, marker);
    frag.append(p);
  }
  container.replaceChildren(frag);
}

function appendWithMarkers(parent, text, marker) {
  let last = 0;
  for (const m of text.matchAll(MARKERS)) {
    if (!marker.known(m[1])) continue;
    if (m.index > last) parent.append(text.slice(last, m.index));
    const group = h("span", "cite-group");
    group.append(hiddenText("["));
    m[1].split(/\s*[,;]\s*/).forEach((n, i) => {
      if (i > 0) group.append(hiddenText(", "));
      const a = h("a", "cite-ref", n);
      a.href = marker.href(n);
      a.dataset.n = n;
      a.setAttribute("aria-label", `source ${n}`);
      a.addEventListener("click", (e) => {
        e.preventDefault();
        marker.follow(n);
      });
      group.append(a);
    });
    group.append(hiddenText("]"));
    parent.append(group);
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function notCovered(said) {
  return [
    h("p", "not-covered-title", "Not covered by the documents"),
    h(
      "p",
      "not-covered-text",
      "The indexed documents do not contain enough evidence to answer this question, so no answer was made up. " +
        "Try rephrasing it, widening the document scope, or asking about transformers, GPT, RLHF or LLMOps.",
    ),
    h("p", "not-covered-said", `Service reply: “${String(said ?? "").trim()}”`),
  ];
}

function renderUsage(el, r) {
  const u = r.usage ?? {};
  const t = r.timings;
  const items = [
    ["Mode", r.mode],
    ["Model", r.model],
    ["Prompt", r.promptVersion],
    ["Tokens", `${u.promptTokens ?? 0} prompt / ${u.completionTokens ?? 0} completion`],
    ["Cost", `$${Number(u.costUsd ?? 0).toFixed(6)}`],
    ["Retrieval", typeof t?.retrievalMs === "number" ? formatMs(t.retrievalMs) : "—"],
    ["Generation", typeof t?.generationMs === "number" ? formatMs(t.generationMs) : "—"],
    ["Total", typeof t?.totalMs === "number" ? formatMs(t.totalMs) : "—"],
  ];
  el.replaceChildren(
    ...items.map(([k, v]) => {
      const item = h("span", "usage-item");
      item.append(h("span", "usage-key", `${k} `), h("span", "usage-value", v ?? "—"));
      return item;
    }),
  );
}

function skeleton() {
  const s = h("div", "skeleton");
  s.setAttribute("aria-hidden", "true");
  for (let i = 0; i < 3; i++) s.append(h("span"));
  return s;
}

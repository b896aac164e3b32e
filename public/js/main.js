// The page's wiring: the form and keyboard (Enter asks, Shift+Enter new line, Escape stops), the ask
// flow (POST /v1/ask with stream:true, the conversation's history and the document scope, then the
// stream's citations/token/done/error events), Stop, New conversation, Copy, and the prompt picker.
import { ApiError, fetchPrompts, isAbort, postAsk, postFeedback } from "./api.js";
import { copyAnswer } from "./copy.js";
import { byId, formatMs, messageOf } from "./dom.js";
import { createTurnView, hideError, setStatus, showError } from "./render.js";
import { createScopePicker } from "./scope.js";
import { readEvents } from "./sse.js";
import { createConversation } from "./state.js";

const el = {
  form: /** @type {HTMLFormElement} */ (byId("ask-form")),
  question: /** @type {HTMLTextAreaElement} */ (byId("question")),
  questionLabel: byId("question-label"),
  ask: /** @type {HTMLButtonElement} */ (byId("ask")),
  askLabel: /** @type {HTMLElement} */ (document.querySelector("#ask .ask-label")),
  stop: /** @type {HTMLButtonElement} */ (byId("stop")),
  prompt: /** @type {HTMLSelectElement} */ (byId("prompt-version")),
  status: byId("status"),
  error: byId("error"),
  panel: byId("conversation-panel"),
  turns: byId("conversation"),
  turnCount: byId("turn-count"),
  newConversation: byId("new-conversation"),
};

const FIRST_PLACEHOLDER = el.question.placeholder;
const conversation = createConversation();
const scope = createScopePicker({
  details: byId("doc-filter"),
  summary: byId("doc-filter-summary"),
  list: byId("doc-list"),
  note: byId("doc-list-note"),
  all: byId("doc-all"),
  none: byId("doc-none"),
  scope: byId("scope"),
});

/** Names the conversation to the server: it keeps a conversation on one prompt version under PROMPT_ROLLOUT. */
const newConversationId = () => (globalThis.crypto?.randomUUID ? crypto.randomUUID() : `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
let conversationId = newConversationId();
/** The running request's controller; null when idle. */
/** @type {AbortController | null} */
let controller = null;
/** The views of the conversation's turns, in order. */
/** @type {ReturnType<typeof createTurnView>[]} */
let views = [];

el.form.addEventListener("submit", (e) => {
  e.preventDefault();
  void submit();
});
el.question.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    if (!controller) el.form.requestSubmit();
  }
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && controller) {
    e.preventDefault();
    controller.abort();
  }
});
el.stop.addEventListener("click", () => controller?.abort());
el.newConversation.addEventListener("click", newConversation);

void scope.load();
void loadPrompts();

async function submit() {
  if (controller) return;
  const question = el.question.value.trim();
  if (!question) return fail({ code: "EMPTY_QUESTION", message: "Type a question first." });
  const selection = scope.selected();
  if (selection.docs?.length === 0) return fail({ code: "NO_DOCUMENTS", message: "Select at least one document, or choose “Select all”." });

  /** @type {Record<string, unknown>} */
  const body = { question, stream: true, conversationId };
  const history = conversation.history();
  if (history.length) body.history = history;
  if (selection.docs) body.docs = selection.docs;
  if (el.prompt.value) body.promptVersion = el.prompt.value;

  // Earlier answers keep their sources one click away; the new answer's are open.
  for (const v of views) v.collapseSources();
  const turn = conversation.add(question, selection);
  const view = createTurnView(turn, { onCopy: () => void copy(turn, view), onFeedback: postFeedback });
  views.push(view);
  el.turns.append(view.li);
  showConversation();
  el.question.value = "";
  const ctl = (controller = new AbortController());
  busy(true);
  setStatus(el.status, "Sending the question…");
  view.li.scrollIntoView({ block: "nearest" });

  try {
    const res = await postAsk(body, ctl.signal);
    if (!res.body || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      finish(turn, view, await res.json()); // a JSON reply instead of a stream: the final result
      return;
    }
    setStatus(el.status, "Searching the documents…");
    for await (const { event, data } of readEvents(res.body)) {
      if (event === "citations") {
        turn.citations = data.citations ?? [];
        view.citations(turn.citations);
        setStatus(el.status, "Writing the answer…");
      } else if (event === "token") {
        turn.state = "streaming";
        turn.answer += data.delta ?? "";
        view.streaming(turn.answer);
      } else if (event === "done") {
        finish(turn, view, data);
      } else if (event === "error") {
        failTurn(turn, view, data.error ?? { code: "INTERNAL", message: "the server reported an error" });
      }
    }
    if (turn.state === "pending" || turn.state === "streaming") {
      failTurn(turn, view, { code: "STREAM_ENDED", message: "The connection closed before the answer was complete. Try again." });
    }
  } catch (err) {
    if (isAbort(err)) {
      turn.state = "stopped";
      view.stop();
      if (conversation.has(turn)) setStatus(el.status, "Stopped.", "stopped");
    } else if (err instanceof ApiError) failTurn(turn, view, err);
    else failTurn(turn, view, { code: "NETWORK", message: `Could not reach the server: ${messageOf(err)}` });
  } finally {
    controller = null;
    busy(false);
    if (conversation.has(turn)) refocus();
  }
}

function finish(turn, view, r) {
  turn.result = r;
  turn.answer = String(r.answer ?? "");
  turn.citations = r.citations ?? [];
  turn.standaloneQuestion = r.standaloneQuestion;
  turn.state = r.grounded === false ? "not-covered" : "done";
  view.finish(r);
  const ms = r.timings?.totalMs;
  if (r.grounded === false) setStatus(el.status, "Done — the documents do not cover this question.", "not-covered");
  else setStatus(el.status, `Done${typeof ms === "number" ? ` in ${formatMs(ms)}` : ""}.`, "done");
}

function failTurn(turn, view, err) {
  turn.state = "error";
  view.fail(err);
  // Put the question back so that trying again is one key press.
  if (!el.question.value.trim()) el.question.value = turn.question;
  fail(err);
}

/** The error banner and status; the question box gets focus back. */
function fail(err) {
  showError(el.error, err);
  setStatus(el.status, `Failed: ${err.code ?? "error"}`, "error");
  el.question.focus();
}

async function copy(turn, view) {
  try {
    const sources = await copyAnswer(turn);
    view.copied(true, `Copied the answer${sources ? ` and ${sources} source${sources === 1 ? "" : "s"}` : ""}.`);
  } catch (err) {
    view.copied(false, `Could not copy: ${messageOf(err)}`);
  }
}

function newConversation() {
  controller?.abort();
  conversation.clear();
  conversationId = newConversationId();
  views = [];
  el.turns.replaceChildren();
  hideError(el.error);
  setStatus(el.status, "New conversation: the next question starts without history.");
  showConversation();
  el.question.focus();
}

function showConversation() {
  const n = conversation.turns.length;
  el.panel.hidden = n === 0;
  el.turnCount.textContent = n ? `${n} question${n === 1 ? "" : "s"}` : "";
  el.questionLabel.textContent = n ? "Follow-up question" : "Your question";
  el.question.placeholder = n ? "Ask a follow-up, e.g. What learning rate schedule did it use?" : FIRST_PLACEHOLDER;
}

function busy(on) {
  el.ask.disabled = on;
  el.ask.classList.toggle("loading", on);
  el.askLabel.textContent = on ? "Asking…" : "Ask";
  el.stop.hidden = !on;
  if (on) {
    el.form.setAttribute("aria-busy", "true");
    hideError(el.error);
  } else el.form.removeAttribute("aria-busy");
}

/** After an answer, focus goes back to the question box unless the user has moved it elsewhere on purpose. */
function refocus() {
  const active = document.activeElement;
  if (!active || active === document.body || el.form.contains(active)) el.question.focus();
}

async function loadPrompts() {
  try {
    const { default: def, versions = [] } = await fetchPrompts();
    const all = versions.includes(def) || !def ? versions : [def, ...versions];
    el.prompt.replaceChildren(
      ...all.map((v) => {
        const opt = new Option(v === def ? `${v} (default)` : v, v, v === def, v === def);
        return opt;
      }),
    );
  } catch {
    // Keep the "Default" option: the server then uses its configured prompt version.
  }
}

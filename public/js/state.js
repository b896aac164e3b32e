// Conversation state: the turns asked so far and the history a follow-up sends with it. No DOM here.

/** Messages of history sent with a follow-up, at most (the server accepts up to 20). */
export const HISTORY_LIMIT = 10;
/** The server's limit on one history message's content. */
const CONTENT_LIMIT = 8000;

/**
 * @typedef {{docs?: string[], titles: string[], total: number}} Scope
 * @typedef {{
 *   id: number, question: string, scope: Scope,
 *   state: "pending" | "streaming" | "done" | "not-covered" | "error" | "stopped",
 *   answer: string, citations: any[], result: any, standaloneQuestion?: string
 * }} Turn
 */

export function createConversation() {
  /** @type {Turn[]} */
  let turns = [];
  let nextId = 1;
  return {
    get turns() {
      return turns;
    },
    /** @param {Turn} turn */
    has(turn) {
      return turns.includes(turn);
    },
    /**
     * The history for the next question: the answered turns so far as user/assistant messages, answer
     * text without its [n] markers, the last HISTORY_LIMIT of them (starting with a user message).
     * Failed and stopped turns are left out: they have no complete answer.
     */
    history() {
      /** @type {{role: "user" | "assistant", content: string}[]} */
      const messages = [];
      for (const t of turns) {
        if (t.state !== "done" && t.state !== "not-covered") continue;
        messages.push({ role: "user", content: t.question.slice(0, CONTENT_LIMIT) });
        const answer = stripCitations(t.answer, t.citations.map((c) => c.n));
        if (answer) messages.push({ role: "assistant", content: answer.slice(0, CONTENT_LIMIT) });
      }
      const last = messages.slice(-HISTORY_LIMIT);
      return last[0]?.role === "assistant" ? last.slice(1) : last;
    },
    /** @param {string} question @param {Scope} scope @returns {Turn} */
    add(question, scope) {
      const turn = /** @type {Turn} */ ({ id: nextId++, question, scope, state: "pending", answer: "", citations: [], result: null });
      turns.push(turn);
      return turn;
    },
    clear() {
      turns = [];
    },
  };
}

/**
 * Answer text without its citation markers ("Adam [1, 2]." → "Adam."). With `numbers`, only markers
 * naming those passages go: a quoted paper's own "[20]" reference is text, not a citation.
 * @param {string} text @param {number[]} [numbers]
 */
export function stripCitations(text, numbers) {
  const known = numbers && new Set(numbers.map(Number));
  return String(text ?? "")
    .replace(/[ \t]*\[(\d+(?:\s*[,;]\s*\d+)*)\]/g, (marker, list) => (!known || isCitation(list, known) ? "" : marker))
    .replace(/[ \t]+([.,;:!?])/g, "$1")
    .replace(/[ \t]{2,}/g, " ")
    .trim();
}

/** Whether every number of a marker's "1, 2" list is a known citation number. */
export function isCitation(list, known) {
  return String(list)
    .split(/\s*[,;]\s*/)
    .every((n) => known.has(Number(n)));
}

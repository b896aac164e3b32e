// "Copy": an answer and its numbered sources (title, page, section, URL) as plain text, written to
// the clipboard with navigator.clipboard.writeText.
import { isWebUrl } from "./citations.js";

/**
 * The plain text for a finished turn: the answer as the service wrote it ([n] markers kept), then
 * "Sources:" with one "[n] Title, p. 3, Section — URL" line per cited passage (every retrieved passage
 * when an answer cites none), in number order. A not-covered answer lists no sources.
 * @param {import("./state.js").Turn} turn @returns {{text: string, sources: number}}
 */
export function answerText(turn) {
  const r = turn.result ?? {};
  const answer = String(r.answer ?? turn.answer).trim();
  const citations = r.citations ?? turn.citations ?? [];
  const cited = citations.filter((c) => c.cited);
  const sources = r.grounded === false ? [] : (cited.length ? cited : citations).slice().sort((a, b) => a.n - b.n);
  if (sources.length === 0) return { text: `${answer}\n`, sources: 0 };
  const lines = sources.map((c) => {
    const where = [c.title || c.docId, typeof c.page === "number" ? `p. ${c.page}` : null, c.section].filter(Boolean).join(", ");
    return `[${c.n}] ${where}${isWebUrl(c.url) ? ` — ${c.url}` : ""}`;
  });
  return { text: `${answer}\n\nSources:\n${lines.join("\n")}\n`, sources: sources.length };
}

/** Copies the text; resolves with how many sources it held, rejects when the clipboard is unavailable or refused. */
export async function copyAnswer(turn) {
  if (!navigator.clipboard?.writeText) throw new Error("this browser gives the page no clipboard access");
  const { text, sources } = answerText(turn);
  await navigator.clipboard.writeText(text);
  return sources;
}

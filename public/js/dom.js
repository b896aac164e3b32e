// DOM helpers shared by the page's modules: element creation (text only ever through textContent,
// never innerHTML), text hidden from view but kept for screen readers and copy/paste, number formats.

/** A new element with an optional class and text (set as textContent). */
export function h(tag, className = "", text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Text kept for screen readers and copy/paste but not shown (the [ ] around citation pills). */
export function hiddenText(text) {
  return h("span", "visually-hidden", text);
}

export function note(text) {
  return h("p", "hint", text);
}

export function formatMs(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "—";
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms).toLocaleString("en-US")} ms`;
}

export function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

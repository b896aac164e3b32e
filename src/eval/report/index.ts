/**
 * Evaluation reports: reports/eval-<timestamp>.json and .html (self-contained: inline SVG charts,
 * plain CSS, no scripts), copied to reports/eval-latest.json/.html; and the plain-text tables the
 * CLI prints. A report holds one or two runs of our service (two when a comparison was asked for:
 * another prompt version or another setting) and, optionally, the LangChain baseline.
 */
export type { BaselineInfo, EvalReport } from "./types.js";
export { dec, describeOverrides, formatByDoc, formatByKind, formatCv, formatGate, formatSettings, formatSummary, ms, pct, textTable, usd } from "./format.js";
export { barChart, html, Html, renderHtml } from "./html.js";
export { REPORTS_DIR, timestamp, writeEvalReport, writeJsonReport, type WrittenReport } from "./write.js";

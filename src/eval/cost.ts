/**
 * The buy-vs-build bill (`npm run cost`): what answering 1,000 questions of a set would cost on every
 * hosted model of the price file (pricing/prices.json), on the self-hosted options it states, and in
 * the extractive mode (0). The questions go through the service's own retrieval and prompt packing
 * (QaService.promptFor: the prompt an LLM would get, no model called); the tokens are counted with
 * each model's tokenizer:
 *   - OpenAI models: js-tiktoken with the model's encoding (o200k_base, cl100k_base);
 *   - "approx" (Llama, Claude, Gemini): cl100k_base. Llama 3's tokenizer is cl100k_base's 100k tokens
 *     plus 28k more, so its counts on English are close to (a few % under) cl100k's; Claude's and
 *     Gemini's tokenizers are not published for offline use, and vendors report English counts within
 *     about ±15% of cl100k's. Treat those rows as estimates to that precision.
 * Each call also pays CHAT_OVERHEAD_TOKENS of message framing. A question the evidence check declines
 * is answered without a model call (0 tokens), as the service does. The answer's length is an
 * assumption (outputTokens, default DEFAULT_OUTPUT_TOKENS), since no model is called.
 *
 * Self-hosted: a question takes (input / prefill rate + output / decode rate) seconds of the GPUs;
 * cost = that x gpus x gpuHourUsd / 3600 / utilization (idle hours are paid too).
 */
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";
import type { Pricing } from "../config/index.js";
import { html, type Html } from "./report/html.js";

export type Encoding = "o200k_base" | "cl100k_base" | "approx";

/** Tokens an OpenAI chat request adds around its messages (role markers, separators, reply priming), system + user. */
export const CHAT_OVERHEAD_TOKENS = 7;
/** Assumed answer length in tokens (the qa prompts ask for a few cited sentences; LLM_MAX_TOKENS caps it at 512). */
export const DEFAULT_OUTPUT_TOKENS = 120;

const encoders = new Map<string, Tiktoken>();
export function countWith(encoding: Encoding, text: string): number {
  const name = encoding === "approx" ? "cl100k_base" : encoding;
  let enc = encoders.get(name);
  if (!enc) encoders.set(name, (enc = new Tiktoken(name === "o200k_base" ? o200k : cl100k)));
  return enc.encode(text).length;
}

/** One question's prompt as the service would send it (or none: declined without a model call). */
export interface PromptSample {
  id: string;
  grounded: boolean;
  system: string;
  user: string;
}

export interface CostRow {
  name: string;
  kind: "hosted" | "self-hosted" | "extractive";
  /** Vendor (hosted), GPU setup (self-hosted). */
  detail: string;
  tokenizer: Encoding | "none";
  /** Mean tokens per question over the whole set (declined questions count 0). */
  inputTokensPerQuestion: number;
  outputTokensPerQuestion: number;
  usdPer1kQuestions: number;
  /** Self-hosted: GPU seconds per question (all GPUs of the setup). */
  gpuSecondsPerQuestion?: number;
}

export interface CostReport {
  createdAt: string;
  sets: string[];
  questions: number;
  /** Questions that would reach a model (the rest are declined on weak evidence). */
  modelCalls: number;
  promptVersion: string;
  outputTokens: number;
  pricing: { asOf: string; note?: string; sources: Record<string, string>; file: string };
  assumptions: string[];
  rows: CostRow[];
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

export function costTable(
  samples: PromptSample[],
  pricing: Pricing,
  opts: { models?: string[]; outputTokens?: number; promptVersion: string; sets: string[]; file: string; createdAt?: string },
): CostReport {
  const outputTokens = opts.outputTokens ?? DEFAULT_OUTPUT_TOKENS;
  const called = samples.filter((s) => s.grounded);
  const n = Math.max(samples.length, 1);
  const meanInput = (enc: Encoding) => called.reduce((sum, s) => sum + countWith(enc, s.system) + countWith(enc, s.user) + CHAT_OVERHEAD_TOKENS, 0) / n;
  const meanOutput = (outputTokens * called.length) / n;
  const wanted = (name: string) => !opts.models?.length || opts.models.includes(name);

  const rows: CostRow[] = [];
  const inputBy = new Map<Encoding, number>();
  const input = (enc: Encoding) => inputBy.get(enc) ?? (inputBy.set(enc, meanInput(enc)), inputBy.get(enc)!);
  for (const [name, m] of Object.entries(pricing.hosted)) {
    if (m.kind !== "chat" || !wanted(name)) continue;
    const inTok = input(m.tokenizer);
    rows.push({
      name,
      kind: "hosted",
      detail: m.vendor,
      tokenizer: m.tokenizer,
      inputTokensPerQuestion: round(inTok, 1),
      outputTokensPerQuestion: round(meanOutput, 1),
      usdPer1kQuestions: round(((inTok * m.input + meanOutput * m.output) / 1e6) * 1000, 4),
    });
  }
  for (const [name, h] of Object.entries(pricing.selfHosted)) {
    if (!wanted(name)) continue;
    const inTok = input(h.tokenizer);
    const seconds = inTok / h.prefillTokensPerSecond + meanOutput / h.decodeTokensPerSecond;
    rows.push({
      name,
      kind: "self-hosted",
      detail: `${h.model}, ${h.gpus} GPU x $${h.gpuHourUsd}/h, ${h.prefillTokensPerSecond} prefill + ${h.decodeTokensPerSecond} decode tok/s, ${Math.round(h.utilization * 100)}% busy`,
      tokenizer: h.tokenizer,
      inputTokensPerQuestion: round(inTok, 1),
      outputTokensPerQuestion: round(meanOutput, 1),
      gpuSecondsPerQuestion: round(seconds * h.gpus, 4),
      usdPer1kQuestions: round(((seconds * h.gpus * h.gpuHourUsd) / 3600 / h.utilization) * 1000, 4),
    });
  }
  if (wanted("extractive"))
    rows.push({ name: "extractive", kind: "extractive", detail: "this service without an LLM (LLM_PROVIDER=extractive)", tokenizer: "none", inputTokensPerQuestion: 0, outputTokensPerQuestion: 0, usdPer1kQuestions: 0 });
  rows.sort((a, b) => a.usdPer1kQuestions - b.usdPer1kQuestions || a.name.localeCompare(b.name));

  return {
    createdAt: opts.createdAt ?? new Date().toISOString(),
    sets: opts.sets,
    questions: samples.length,
    modelCalls: called.length,
    promptVersion: opts.promptVersion,
    outputTokens,
    pricing: { asOf: pricing.asOf, ...(pricing.note ? { note: pricing.note } : {}), sources: pricing.sources, file: opts.file },
    assumptions: [
      `input: the prompt the service would send (prompt ${opts.promptVersion}, passages packed to PROMPT_TOKEN_BUDGET), counted with each model's tokenizer, + ${CHAT_OVERHEAD_TOKENS} tokens of chat framing`,
      `tokenizer "approx" (non-OpenAI models): cl100k_base counts; Llama 3 is within a few %, Claude and Gemini about ±15%`,
      `output: ${outputTokens} tokens per answered question (assumed; no model is called)`,
      `${samples.length - called.length} of ${samples.length} questions are declined on weak evidence without a model call (0 tokens)`,
      "hosted: list prices per 1M tokens, no batch or cached-input discounts; self-hosted: GPU time at the stated throughput and utilization, nothing else (no engineering, storage or egress)",
    ],
    rows,
  };
}

/** The table as text, cheapest first. */
export function formatCostTable(r: CostReport): string {
  const head = ["option", "kind", "tokenizer", "in tok/q", "out tok/q", "USD / 1k questions"];
  const body = r.rows.map((row) => [row.name, row.kind, row.tokenizer, row.inputTokensPerQuestion.toFixed(0), row.outputTokensPerQuestion.toFixed(0), `$${row.usdPer1kQuestions.toFixed(row.usdPer1kQuestions < 1 ? 4 : 2)}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const sep = `|${widths.map((w, i) => (i >= 3 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [
    `Cost per 1,000 questions: ${r.questions} questions (${r.modelCalls} reach a model), prompt ${r.promptVersion}, ${r.outputTokens} output tokens per answer; prices as of ${r.pricing.asOf} (${r.pricing.file})`,
    line(head),
    sep,
    ...body.map(line),
  ].join("\n");
}

/** A horizontal bar chart of USD per 1,000 questions (inline SVG, log-free: the bars are to scale). */
function costChart(rows: CostRow[]): Html {
  const max = Math.max(...rows.map((r) => r.usdPer1kQuestions), 1e-9);
  const left = 230;
  const barMax = 420;
  const rowH = 22;
  const height = rows.length * rowH + 30;
  const color = { hosted: "#2563eb", "self-hosted": "#16a34a", extractive: "#9ca3af" } as const;
  const bars = rows.map((r, i) => {
    const y = 10 + i * rowH;
    const w = Math.max(1, (r.usdPer1kQuestions / max) * barMax);
    return html`<text x="${left - 6}" y="${y + 14}" text-anchor="end" class="ax">${r.name}</text><rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${color[r.kind]}"><title>${r.name}: $${r.usdPer1kQuestions}</title></rect><text x="${(left + w + 4).toFixed(1)}" y="${y + 14}" class="ax">$${r.usdPer1kQuestions.toFixed(r.usdPer1kQuestions < 1 ? 4 : 2)}</text>`;
  });
  return html`<svg xmlns="http://www.w3.org/2000/svg" width="${left + barMax + 90}" height="${height}" role="img" aria-label="USD per 1,000 questions">${bars}</svg>`;
}

export function renderCostHtml(r: CostReport): string {
  const rows = r.rows.map(
    (row) =>
      html`<tr><td>${row.name}</td><td>${row.kind}</td><td>${row.detail}</td><td>${row.tokenizer}</td><td class="n">${row.inputTokensPerQuestion.toFixed(0)}</td><td class="n">${row.outputTokensPerQuestion.toFixed(0)}</td><td class="n">$${row.usdPer1kQuestions.toFixed(row.usdPer1kQuestions < 1 ? 4 : 2)}</td></tr>`,
  );
  const sources = Object.entries(r.pricing.sources).map(([v, url]) => html`<li>${v}: <a href="${url}">${url}</a></li>`);
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cost per 1,000 questions</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}.ax{font-size:12px;fill:#333}</style></head>
<body><h1>Buy vs build: cost per 1,000 questions</h1>
<p>${r.questions} questions from ${r.sets.join(", ")}; ${r.modelCalls} would reach a model. Prompt ${r.promptVersion}. Prices as of ${r.pricing.asOf} (${r.pricing.file}). Made ${r.createdAt}.</p>
${costChart(r.rows)}
<table><thead><tr><th>option</th><th>kind</th><th>detail</th><th>tokenizer</th><th>input tokens / question</th><th>output tokens / question</th><th>USD / 1,000 questions</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Assumptions</h2><ul>${r.assumptions.map((a) => html`<li>${a}</li>`)}</ul>
${r.pricing.note ? html`<p>${r.pricing.note}</p>` : ""}
<h2>Sources</h2><ul>${sources}</ul>
</body></html>
`.markup;
}

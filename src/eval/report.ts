/**
 * Evaluation reports: reports/eval-<timestamp>.json and .html (self-contained: inline SVG charts,
 * plain CSS, no scripts), copied to reports/eval-latest.json/.html; and the plain-text tables the
 * CLI prints. A report holds one or two runs of our service (two when a comparison was asked for:
 * another prompt version or another setting) and, optionally, the LangChain baseline.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PROJECT_ROOT } from "../config/index.js";
import type { CrossValidation, CvMetric } from "./cv.js";
import type { EvalSummary, GroupMetrics } from "./metrics.js";
import type { EvalRun } from "./run.js";
import type { EnvOverrides } from "./targets.js";
import { GATES, THRESHOLDS, passes, type GateFailure, type GateName, type GateSummary } from "./thresholds.js";

export interface BaselineInfo {
  recipe: string;
  chunks: number;
  buildSeconds: number;
  fromCache: boolean;
}

export interface EvalReport {
  createdAt: string;
  set: { file: string; items: number; answerable: number; unanswerable: number };
  /** Our service: the main run first, then the comparison run if any. */
  runs: EvalRun[];
  baseline: (EvalRun & { build: BaselineInfo }) | null;
  /** The gate, judged on the main run: the dev set's thresholds or the held-out set's. */
  gate: { run: string; name?: GateName; passed: boolean; failures: GateFailure[] };
  notes: string[];
}

export const REPORTS_DIR = path.join(PROJECT_ROOT, "reports");

/** 2025-01-31T12-00-00Z: sortable, safe in file names. */
export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
}

export interface WrittenReport {
  json: string;
  html: string;
  latestJson: string;
  latestHtml: string;
}

export async function writeEvalReport(report: EvalReport, dir = REPORTS_DIR): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const stamp = timestamp(new Date(report.createdAt));
  const out: WrittenReport = {
    json: path.join(dir, `eval-${stamp}.json`),
    html: path.join(dir, `eval-${stamp}.html`),
    latestJson: path.join(dir, "eval-latest.json"),
    latestHtml: path.join(dir, "eval-latest.html"),
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const html = renderHtml(report);
  await writeFile(out.json, json);
  await writeFile(out.html, html);
  await writeFile(out.latestJson, json);
  await writeFile(out.latestHtml, html);
  return out;
}

/** Writes any JSON result (cross-validation, ablations) as reports/<name>-<timestamp>.json and <name>-latest.json. */
export async function writeJsonReport(name: string, data: unknown, dir = REPORTS_DIR): Promise<{ json: string; latest: string }> {
  await mkdir(dir, { recursive: true });
  const out = { json: path.join(dir, `${name}-${timestamp()}.json`), latest: path.join(dir, `${name}-latest.json`) };
  const text = `${JSON.stringify(data, null, 2)}\n`;
  await writeFile(out.json, text);
  await writeFile(out.latest, text);
  return out;
}

export const pct = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? "–" : `${(x * 100).toFixed(1)}%`);
export const dec = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits));
export const ms = (x: number | null | undefined): string => (x === null || x === undefined ? "–" : `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`);
export const usd = (x: number): string => `$${x < 0.01 && x > 0 ? x.toFixed(6) : x.toFixed(4)}`;

interface Row {
  label: string;
  cell: (s: EvalSummary, run: EvalRun) => string;
  /** The gated metric shown on this row. */
  gate?: keyof GateSummary;
}

const ROWS: Row[] = [
  { label: "recall@1", cell: (s) => pct(s.recallAt1), gate: "recallAt1" },
  { label: "recall@5", cell: (s) => pct(s.recallAt5), gate: "recallAt5" },
  { label: "recall@10", cell: (s) => pct(s.recallAt10) },
  { label: "MRR@10", cell: (s) => dec(s.mrr), gate: "mrr" },
  { label: "answer accuracy", cell: (s) => pct(s.accuracy), gate: "accuracy" },
  { label: "answer cites the right document", cell: (s) => pct(s.citationAccuracy) },
  { label: "abstention (unanswerable)", cell: (s) => pct(s.abstention), gate: "abstention" },
  { label: "false abstention", cell: (s) => pct(s.falseAbstention), gate: "falseAbstention" },
  { label: "answer length p50 / p90 (chars)", cell: (s) => `${s.answerChars?.p50 ?? "–"} / ${s.answerChars?.p90 ?? "–"}` },
  { label: "search p50 / p95", cell: (s) => `${ms(s.latency.searchP50)} / ${ms(s.latency.searchP95)}` },
  { label: "ask p50 / p95", cell: (s) => `${ms(s.latency.askP50)} / ${ms(s.latency.askP95)}` },
  { label: "tokens (prompt+completion)", cell: (s) => `${s.tokens.prompt}+${s.tokens.completion}` },
  { label: "cost", cell: (s) => usd(s.costUsd) },
  { label: "errors", cell: (s) => String(s.errors) },
];

function allRuns(report: Pick<EvalReport, "runs" | "baseline">): EvalRun[] {
  return [...report.runs, ...(report.baseline ? [report.baseline] : [])];
}

/** A plain-text table: first column labels, then one column per run. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The CLI's summary: ours (and the comparison) vs the baseline, with the gate thresholds. */
export function formatSummary(report: Pick<EvalReport, "runs" | "baseline"> & { gate?: Pick<EvalReport["gate"], "name"> }): string {
  const runs = allRuns(report);
  const thresholds = GATES[report.gate?.name ?? "dev"];
  const show = (metric: keyof GateSummary | undefined) => {
    const t = metric && thresholds.find((x) => x.metric === metric);
    return t ? `${t.op} ${t.metric === "mrr" ? t.value : pct(t.value)}` : "";
  };
  const header = ["metric", ...runs.map((r) => r.label), "gate"];
  const rows = ROWS.map((row) => [row.label, ...runs.map((r) => row.cell(r.summary, r)), show(row.gate)]);
  return textTable(header, rows);
}

function groupTable(title: string, runs: EvalRun[], pick: (s: EvalSummary) => Record<string, GroupMetrics>): string {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(pick(r.summary))))].sort();
  const header = [title, "n", ...runs.flatMap((r) => [`${r.label} R@5`, `${r.label} acc`])];
  const rows = keys.map((k) => {
    const first = pick(runs[0]!.summary)[k];
    return [
      k,
      String(first?.n ?? ""),
      ...runs.flatMap((r) => {
        const g = pick(r.summary)[k];
        if (!g) return ["–", "–"];
        // Unanswerable groups: no recall; "acc" is the abstention rate.
        return g.answerable === 0 ? ["–", `${pct(g.abstention)} abst`] : [pct(g.recallAt5), pct(g.accuracy)];
      }),
    ];
  });
  return textTable(header, rows);
}

export function formatByKind(report: Pick<EvalReport, "runs" | "baseline">): string {
  return groupTable("kind", allRuns(report), (s) => s.byKind);
}

export function formatByDoc(report: Pick<EvalReport, "runs" | "baseline">): string {
  return groupTable("document", allRuns(report), (s) => s.byDoc);
}

export function formatGate(gate: EvalReport["gate"]): string {
  if (gate.passed) return `quality gate (${gate.run}): PASS`;
  return [`quality gate (${gate.run}): FAIL`, ...gate.failures.map((f) => `  ✗ ${f.message}`)].join("\n");
}

const CV_LABELS: Record<CvMetric, string> = {
  recallAt1: "recall@1",
  recallAt5: "recall@5",
  mrr: "MRR@10",
  accuracy: "answer accuracy",
  abstention: "abstention (unanswerable)",
  falseAbstention: "false abstention",
};

const describeOverrides = (o: EnvOverrides) => Object.entries(o).map(([k, v]) => `${k}=${v}`).join(" ") || "(defaults)";

/** The cross-validated figures beside the full-set ones, and the setting each fold chose. */
export function formatCv(cv: CrossValidation): string {
  const metric = (m: CvMetric, x: number | null) => (m === "mrr" ? dec(x) : pct(x));
  const table = textTable(
    ["metric", "defaults (all)", "chosen on all", `CV mean ± sd (${cv.k} folds)`, "CV min..max", "CV pooled"],
    (Object.keys(CV_LABELS) as CvMetric[]).map((m) => {
      const s = cv.spread[m];
      const sd = s.sd === null ? "–" : m === "mrr" ? s.sd.toFixed(3) : `${(s.sd * 100).toFixed(1)}`;
      return [CV_LABELS[m], metric(m, cv.defaults[m]), metric(m, cv.chosenOnAll.metrics[m]), `${metric(m, s.mean)} ± ${sd}`, `${metric(m, s.min)}..${metric(m, s.max)}`, metric(m, cv.pooled[m])];
    }),
  );
  const folds = cv.folds.map((f, i) => `  fold ${i + 1} (${f.test.length} questions): ${describeOverrides(f.chosen)}`).join("\n");
  return `${table}\n\n${cv.settings} settings; chosen on the other folds:\n${folds}\nchosen on all questions: ${describeOverrides(cv.chosenOnAll.overrides)}`;
}

/** One row per setting: the metrics of each (the ablation table, or the best settings of a sweep). */
export function formatSettings(rows: Array<{ label: string; metrics: GroupMetrics; objective?: number }>): string {
  return textTable(
    ["setting", "R@1", "R@5", "MRR", "accuracy", "abstention", "false abst.", ...(rows.some((r) => r.objective !== undefined) ? ["objective"] : [])],
    rows.map((r) => [
      r.label,
      pct(r.metrics.recallAt1),
      pct(r.metrics.recallAt5),
      dec(r.metrics.mrr),
      pct(r.metrics.accuracy),
      pct(r.metrics.abstention),
      pct(r.metrics.falseAbstention),
      ...(r.objective !== undefined ? [dec(r.objective)] : []),
    ]),
  );
}

export { describeOverrides };

// ---------------------------------------------------------------------------------------------
// HTML

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const COLORS = ["#2563eb", "#16a34a", "#9ca3af", "#f59e0b"];

interface Series {
  name: string;
  values: Array<number | null>;
}

/** A grouped vertical bar chart (values 0..1) as inline SVG, with an optional dashed threshold line. */
export function barChart(title: string, categories: string[], series: Series[], opts: { threshold?: number; max?: number } = {}): string {
  const max = opts.max ?? 1;
  const barW = 18;
  const gap = 4;
  const groupW = series.length * (barW + gap) + 18;
  const left = 40;
  const top = 28;
  const plotH = 170;
  const bottom = 64;
  const width = Math.max(360, Math.ceil(left + title.length * 7.2), left + categories.length * groupW + 10, series.length * 150 + left);
  const legendH = 22;
  const height = top + plotH + bottom + legendH;
  const y = (v: number) => top + plotH - (Math.min(v, max) / max) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="16" class="t">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(`<line x1="${left}" x2="${width - 5}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`);
    parts.push(`<text x="${left - 4}" y="${y(v) + 4}" class="ax" text-anchor="end">${Math.round(v * 100)}%</text>`);
  }
  categories.forEach((cat, ci) => {
    const gx = left + ci * groupW + 9;
    series.forEach((s, si) => {
      const v = s.values[ci];
      const x = gx + si * (barW + gap);
      if (v === null || v === undefined) {
        parts.push(`<text x="${x + barW / 2}" y="${y(0) - 3}" class="ax" text-anchor="middle">n/a</text>`);
        return;
      }
      parts.push(
        `<rect x="${x}" y="${y(v)}" width="${barW}" height="${Math.max(0.5, y(0) - y(v))}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s.name} · ${cat}: ${pct(v)}`)}</title></rect>`,
      );
      parts.push(`<text x="${x + barW / 2}" y="${y(v) - 3}" class="v" text-anchor="middle">${Math.round(v * 100)}</text>`);
    });
    const cx = gx + (series.length * (barW + gap)) / 2;
    parts.push(`<text x="${cx}" y="${top + plotH + 14}" class="ax" text-anchor="end" transform="rotate(-30 ${cx} ${top + plotH + 14})">${esc(cat)}</text>`);
  });
  if (opts.threshold !== undefined) {
    parts.push(`<line x1="${left}" x2="${width - 5}" y1="${y(opts.threshold)}" y2="${y(opts.threshold)}" class="thr"/>`);
    parts.push(`<text x="${width - 6}" y="${y(opts.threshold) - 3}" class="ax" text-anchor="end">gate ${Math.round(opts.threshold * 100)}%</text>`);
  }
  series.forEach((s, si) => {
    const lx = left + si * 150;
    const ly = height - 8;
    parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/><text x="${lx + 16}" y="${ly}" class="ax">${esc(s.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">${parts.join("")}</svg>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#666}.pass{color:#15803d;font-weight:600}.fail{color:#b91c1c;font-weight:600}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}td.l,th.l{text-align:left}th.c{text-align:center}
tr.diff td{background:#fffbeb}
.charts{display:flex;flex-wrap:wrap;gap:18px}.charts svg{border:1px solid #eee;background:#fff}
svg .t{font:600 13px sans-serif}svg .ax{font:11px sans-serif;fill:#444}svg .v{font:10px sans-serif;fill:#333}
svg .grid{stroke:#eee}svg .thr{stroke:#b91c1c;stroke-dasharray:4 3}
.ok{color:#15803d}.no{color:#b91c1c}.q{max-width:420px;text-align:left}details{max-width:520px;text-align:left}
code{background:#f3f4f6;padding:0 3px}
`;

function yesNo(v: boolean | null): string {
  if (v === null) return `<span class="muted">–</span>`;
  return v ? `<span class="ok">✓</span>` : `<span class="no">✗</span>`;
}

export function renderHtml(report: EvalReport): string {
  const runs = allRuns(report);
  const thresholds = GATES[report.gate.name ?? "dev"];
  const ours = report.runs;
  const main = ours[0];
  const s: string[] = [];
  s.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Evaluation ${esc(report.createdAt)}</title><style>${CSS}</style></head><body>`);
  s.push(`<h1>RAG evaluation</h1>`);
  s.push(
    `<p class="muted">${esc(report.createdAt)} · set <code>${esc(report.set.file)}</code>: ${report.set.items} questions (${report.set.answerable} answerable, ${report.set.unanswerable} unanswerable)</p>`,
  );
  s.push(
    `<p>Quality gate on <b>${esc(report.gate.run)}</b>: ${report.gate.passed ? `<span class="pass">PASS</span>` : `<span class="fail">FAIL</span>`}</p>`,
  );
  if (!report.gate.passed) s.push(`<ul>${report.gate.failures.map((f) => `<li class="fail">${esc(f.message)}</li>`).join("")}</ul>`);

  // Summary table
  s.push(`<h2>Summary</h2><table><tr><th>metric</th>${runs.map((r) => `<th>${esc(r.label)}</th>`).join("")}<th>gate</th></tr>`);
  for (const row of ROWS) {
    const cells = runs
      .map((r) => {
        const text = row.cell(r.summary, r);
        const isOurs = r !== report.baseline;
        const t = row.gate && thresholds.find((x) => x.metric === row.gate);
        const cls = t && isOurs ? (passes(t, r.summary[t.metric]) ? "ok" : "no") : "";
        return `<td class="${cls}">${esc(text)}</td>`;
      })
      .join("");
    const t = row.gate && thresholds.find((x) => x.metric === row.gate);
    s.push(`<tr><td>${esc(row.label)}</td>${cells}<td>${t ? esc(`${t.op} ${t.metric === "mrr" ? t.value : pct(t.value)}`) : ""}</td></tr>`);
  }
  s.push(`</table>`);

  // Charts
  s.push(`<h2>Charts</h2><div class="charts">`);
  s.push(
    barChart(
      "Retrieval: recall@k and MRR",
      ["recall@1", "recall@5", "recall@10", "MRR@10"],
      runs.map((r) => ({ name: r.label, values: [r.summary.recallAt1, r.summary.recallAt5, r.summary.recallAt10, r.summary.mrr] })),
      { threshold: THRESHOLDS.find((t) => t.metric === "recallAt5")?.value },
    ),
  );
  const kinds = [...new Set(runs.flatMap((r) => Object.keys(r.summary.byKind)))].sort();
  s.push(
    barChart(
      "Answer accuracy per kind (unanswerable: abstention)",
      kinds,
      runs.map((r) => ({
        name: r.label,
        values: kinds.map((k) => {
          const g = r.summary.byKind[k];
          return !g ? null : g.answerable === 0 ? g.abstention : g.accuracy;
        }),
      })),
    ),
  );
  const docs = [...new Set(runs.flatMap((r) => Object.keys(r.summary.byDoc)))].sort();
  s.push(
    barChart(
      "Recall@5 per document",
      docs,
      runs.map((r) => ({ name: r.label, values: docs.map((d) => r.summary.byDoc[d]?.recallAt5 ?? null) })),
    ),
  );
  s.push(`</div>`);

  // Per kind / per document tables
  for (const [title, pick] of [
    ["Per kind", (x: EvalSummary) => x.byKind],
    ["Per document", (x: EvalSummary) => x.byDoc],
  ] as const) {
    const keys = [...new Set(runs.flatMap((r) => Object.keys(pick(r.summary))))].sort();
    s.push(`<h2>${title}</h2><table><tr><th></th><th>n</th>${runs.map((r) => `<th>${esc(r.label)} R@1</th><th>R@5</th><th>MRR</th><th>accuracy</th><th>abstained</th>`).join("")}</tr>`);
    for (const k of keys) {
      const n = pick(runs[0]!.summary)[k]?.n ?? 0;
      const cells = runs
        .map((r) => {
          const g = pick(r.summary)[k];
          if (!g) return `<td>–</td><td>–</td><td>–</td><td>–</td><td>–</td>`;
          const abst = g.answerable === 0 ? g.abstention : g.falseAbstention;
          return `<td>${pct(g.recallAt1)}</td><td>${pct(g.recallAt5)}</td><td>${dec(g.mrr)}</td><td>${pct(g.accuracy)}</td><td>${pct(abst)}</td>`;
        })
        .join("");
      s.push(`<tr><td>${esc(k)}</td><td>${n}</td>${cells}</tr>`);
    }
    s.push(`</table>`);
  }

  // Side-by-side comparison of our two configurations
  if (ours.length > 1 && main) {
    const other = ours[1]!;
    const changed = main.records.filter((r, i) => {
      const o = other.records[i];
      return o && (o.hitRank !== r.hitRank || o.correct !== r.correct || o.grounded !== r.grounded);
    });
    s.push(`<h2>Comparison: ${esc(main.label)} vs ${esc(other.label)}</h2>`);
    s.push(`<p>${changed.length} of ${main.records.length} questions differ in hit rank, correctness or abstention (highlighted in the table below).</p>`);
    s.push(`<table><tr><th>setting</th><th>${esc(main.label)}</th><th>${esc(other.label)}</th></tr>`);
    const flat = (o: unknown, prefix = ""): Record<string, string> =>
      Object.fromEntries(
        Object.entries((o ?? {}) as Record<string, unknown>).flatMap(([k, v]) =>
          v && typeof v === "object" ? Object.entries(flat(v, `${prefix}${k}.`)) : [[`${prefix}${k}`, String(v)]],
        ),
      );
    const a = { prompt: main.promptVersion, ...flat(main.settings) };
    const b = { prompt: other.promptVersion, ...flat(other.settings) };
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
      const va = String((a as Record<string, unknown>)[key] ?? "");
      const vb = String((b as Record<string, unknown>)[key] ?? "");
      if (va !== vb) s.push(`<tr><td>${esc(key)}</td><td>${esc(va)}</td><td>${esc(vb)}</td></tr>`);
    }
    s.push(`</table>`);
  }

  // Every question
  s.push(`<h2>Questions</h2><table><tr><th rowspan="2">id</th><th rowspan="2">kind</th><th rowspan="2">doc</th><th rowspan="2" class="q">question</th>`);
  for (const r of runs) s.push(`<th colspan="4" class="c">${esc(r.label)}</th>`);
  s.push(`</tr><tr>${runs.map(() => `<th>hit rank</th><th>correct</th><th>grounded</th><th class="l">answer</th>`).join("")}</tr>`);
  const items = runs[0]?.records ?? [];
  items.forEach((item, i) => {
    const differs = ours.length > 1 && ours.some((r) => {
      const x = r.records[i];
      const y = ours[0]!.records[i];
      return x && y && (x.hitRank !== y.hitRank || x.correct !== y.correct || x.grounded !== y.grounded);
    });
    s.push(`<tr class="${differs ? "diff" : ""}"><td>${esc(item.id)}</td><td class="l">${esc(item.kind)}</td><td class="l">${esc(item.doc ?? "–")}</td><td class="q">${esc(item.question)}</td>`);
    for (const run of runs) {
      const r = run.records[i];
      if (!r) {
        s.push(`<td>–</td><td>–</td><td>–</td><td>–</td>`);
        continue;
      }
      const rank = r.answerable ? (r.hitRank ?? `<span class="no">&gt;10</span>`) : `<span class="muted">n/a</span>`;
      const answer = r.answer === null ? "–" : `<details><summary>${esc(r.answer.slice(0, 60))}${r.answer.length > 60 ? "…" : ""}</summary>${esc(r.answer)}</details>`;
      s.push(`<td>${rank}</td><td>${yesNo(r.correct)}</td><td>${yesNo(r.grounded)}</td><td class="l">${answer}${r.error ? `<div class="no">${esc(r.error)}</div>` : ""}</td>`);
    }
    s.push(`</tr>`);
  });
  s.push(`</table>`);

  // Settings and notes
  s.push(`<h2>Settings</h2>`);
  for (const r of ours) s.push(`<p><b>${esc(r.label)}</b> (prompt ${esc(r.promptVersion ?? "–")}, ${r.seconds.toFixed(1)} s): <code>${esc(JSON.stringify(r.settings ?? {}))}</code></p>`);
  if (report.baseline) {
    const b = report.baseline.build;
    s.push(`<p><b>${esc(report.baseline.label)}</b>: ${esc(b.recipe)}; ${b.chunks} chunks; build ${b.buildSeconds.toFixed(1)} s${b.fromCache ? " (loaded from cache)" : ""}.</p>`);
  }
  if (report.notes.length) s.push(`<ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`);
  s.push(`<p class="muted">Hit rule and answer rule: src/eval/match.ts. Gate thresholds: src/eval/thresholds.ts.</p>`);
  s.push(`</body></html>\n`);
  return s.join("\n");
}

/**
 * The HTML report: one self-contained page (inline SVG charts, plain CSS, no scripts), written through
 * the `html` template tag below: every interpolated value is escaped unless it is markup the tag made
 * itself, so report text (questions, answers, labels) can never inject markup.
 */
import type { EvalSummary } from "../metrics.js";
import { GATES, passes } from "../thresholds.js";
import { allRuns, dec, pct, ROWS } from "./format.js";
import type { EvalReport } from "./types.js";

/** Markup made by the `html` tag (never escaped again). */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function render(value: unknown): string {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escape(String(value));
}

/** A template of markup: strings are escaped, nested `html` values and arrays of them are kept. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new Html(out);
}

const COLORS = ["#2563eb", "#16a34a", "#9ca3af", "#f59e0b"];

interface Series {
  name: string;
  values: Array<number | null>;
}

/** A grouped vertical bar chart (values 0..1) as inline SVG, with an optional dashed threshold line. */
export function barChart(title: string, categories: string[], series: Series[], opts: { threshold?: number; max?: number } = {}): Html {
  const max = opts.max ?? 1;
  const barW = 18;
  const gap = 4;
  const groupW = series.length * (barW + gap) + 18;
  const left = 40;
  const top = 28;
  const plotH = 170;
  const bottom = 64;
  const width = Math.max(360, Math.ceil(left + title.length * 7.2), left + categories.length * groupW + 10, series.length * 150 + left);
  const height = top + plotH + bottom + 22;
  const y = (v: number) => top + plotH - (Math.min(v, max) / max) * plotH;
  const grid = [0, 1, 2, 3, 4].map((i) => {
    const v = (max * i) / 4;
    return html`<line x1="${left}" x2="${width - 5}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${left - 4}" y="${y(v) + 4}" class="ax" text-anchor="end">${Math.round(v * 100)}%</text>`;
  });
  const groups = categories.map((cat, ci) => {
    const gx = left + ci * groupW + 9;
    const bars = series.map((s, si) => {
      const v = s.values[ci];
      const x = gx + si * (barW + gap);
      if (v === null || v === undefined) return html`<text x="${x + barW / 2}" y="${y(0) - 3}" class="ax" text-anchor="middle">n/a</text>`;
      return html`<rect x="${x}" y="${y(v)}" width="${barW}" height="${Math.max(0.5, y(0) - y(v))}" fill="${COLORS[si % COLORS.length]}"><title>${s.name} · ${cat}: ${pct(v)}</title></rect><text x="${x + barW / 2}" y="${y(v) - 3}" class="v" text-anchor="middle">${Math.round(v * 100)}</text>`;
    });
    const cx = gx + (series.length * (barW + gap)) / 2;
    return html`${bars}<text x="${cx}" y="${top + plotH + 14}" class="ax" text-anchor="end" transform="rotate(-30 ${cx} ${top + plotH + 14})">${cat}</text>`;
  });
  const threshold =
    opts.threshold === undefined
      ? ""
      : html`<line x1="${left}" x2="${width - 5}" y1="${y(opts.threshold)}" y2="${y(opts.threshold)}" class="thr"/><text x="${width - 6}" y="${y(opts.threshold) - 3}" class="ax" text-anchor="end">gate ${Math.round(opts.threshold * 100)}%</text>`;
  const legend = series.map((s, si) => {
    const lx = left + si * 150;
    const ly = height - 8;
    return html`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/><text x="${lx + 16}" y="${ly}" class="ax">${s.name}</text>`;
  });
  return html`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}"><text x="${left}" y="16" class="t">${title}</text>${grid}${groups}${threshold}${legend}</svg>`;
}

const CSS = new Html(`
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
`);

const yesNo = (v: boolean | null) => (v === null ? html`<span class="muted">–</span>` : v ? html`<span class="ok">✓</span>` : html`<span class="no">✗</span>`);

type Records = EvalReport["runs"][number]["records"];
const differs = (a: Records[number] | undefined, b: Records[number] | undefined) => !!a && !!b && (a.hitRank !== b.hitRank || a.correct !== b.correct || a.grounded !== b.grounded);

/** Settings as flat key=value pairs ("retrieval.rerankWeight"), for the comparison table. */
function flat(o: unknown, prefix = ""): Record<string, string> {
  return Object.fromEntries(
    Object.entries((o ?? {}) as Record<string, unknown>).flatMap(([k, v]) => (v && typeof v === "object" ? Object.entries(flat(v, `${prefix}${k}.`)) : [[`${prefix}${k}`, String(v)]])),
  );
}

function summary(report: EvalReport): Html {
  const runs = allRuns(report);
  const thresholds = GATES[report.gate.name ?? "dev"];
  const rows = ROWS.map((row) => {
    const t = row.gate ? thresholds.find((x) => x.metric === row.gate) : undefined;
    const cells = runs.map((r) => {
      const cls = t && r !== report.baseline ? (passes(t, r.summary[t.metric]) ? "ok" : "no") : "";
      return html`<td class="${cls}">${row.cell(r.summary, r)}</td>`;
    });
    return html`<tr><td>${row.label}</td>${cells}<td>${t ? `${t.op} ${t.metric === "mrr" ? t.value : pct(t.value)}` : ""}</td></tr>`;
  });
  return html`<h2>Summary</h2><table><tr><th>metric</th>${runs.map((r) => html`<th>${r.label}</th>`)}<th>gate</th></tr>${rows}</table>`;
}

function charts(report: EvalReport): Html {
  const runs = allRuns(report);
  const kinds = [...new Set(runs.flatMap((r) => Object.keys(r.summary.byKind)))].sort();
  const docs = [...new Set(runs.flatMap((r) => Object.keys(r.summary.byDoc)))].sort();
  const recall5 = GATES[report.gate.name ?? "dev"].find((t) => t.metric === "recallAt5")?.value;
  return html`<h2>Charts</h2><div class="charts">${[
    barChart("Retrieval: recall@k and MRR", ["recall@1", "recall@5", "recall@10", "MRR@10"], runs.map((r) => ({ name: r.label, values: [r.summary.recallAt1, r.summary.recallAt5, r.summary.recallAt10, r.summary.mrr] })), { threshold: recall5 }),
    barChart(
      "Answer accuracy per kind (unanswerable: abstention)",
      kinds,
      runs.map((r) => ({ name: r.label, values: kinds.map((k) => { const g = r.summary.byKind[k]; return !g ? null : g.answerable === 0 ? g.abstention : g.accuracy; }) })),
    ),
    barChart("Recall@5 per document", docs, runs.map((r) => ({ name: r.label, values: docs.map((d) => r.summary.byDoc[d]?.recallAt5 ?? null) }))),
  ]}</div>`;
}

function groups(report: EvalReport): Html[] {
  const runs = allRuns(report);
  const tables: Array<[string, (x: EvalSummary) => EvalSummary["byKind"]]> = [
    ["Per kind", (x) => x.byKind],
    ["Per document", (x) => x.byDoc],
  ];
  return tables.map(([title, pick]) => {
    const keys = [...new Set(runs.flatMap((r) => Object.keys(pick(r.summary))))].sort();
    const rows = keys.map((k) => {
      const cells = runs.map((r) => {
        const g = pick(r.summary)[k];
        if (!g) return html`<td>–</td><td>–</td><td>–</td><td>–</td><td>–</td>`;
        return html`<td>${pct(g.recallAt1)}</td><td>${pct(g.recallAt5)}</td><td>${dec(g.mrr)}</td><td>${pct(g.accuracy)}</td><td>${pct(g.answerable === 0 ? g.abstention : g.falseAbstention)}</td>`;
      });
      return html`<tr><td>${k}</td><td>${pick(runs[0]!.summary)[k]?.n ?? 0}</td>${cells}</tr>`;
    });
    return html`<h2>${title}</h2><table><tr><th></th><th>n</th>${runs.map((r) => html`<th>${r.label} R@1</th><th>R@5</th><th>MRR</th><th>accuracy</th><th>abstained</th>`)}</tr>${rows}</table>`;
  });
}

/** Our two configurations side by side: how many questions changed, and the settings that differ. */
function comparison(report: EvalReport): Html | "" {
  const [main, other] = report.runs;
  if (!main || !other) return "";
  const changed = main.records.filter((r, i) => differs(other.records[i], r)).length;
  const a: Record<string, string> = { prompt: String(main.promptVersion), ...flat(main.settings) };
  const b: Record<string, string> = { prompt: String(other.promptVersion), ...flat(other.settings) };
  const rows = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => (a[k] ?? "") !== (b[k] ?? "")).map((k) => html`<tr><td>${k}</td><td>${a[k] ?? ""}</td><td>${b[k] ?? ""}</td></tr>`);
  return html`<h2>Comparison: ${main.label} vs ${other.label}</h2><p>${changed} of ${main.records.length} questions differ in hit rank, correctness or abstention (highlighted in the table below).</p><table><tr><th>setting</th><th>${main.label}</th><th>${other.label}</th></tr>${rows}</table>`;
}

function questions(report: EvalReport): Html {
  const runs = allRuns(report);
  const ours = report.runs;
  const rows = (runs[0]?.records ?? []).map((item, i) => {
    const changed = ours.length > 1 && ours.some((r) => differs(r.records[i], ours[0]!.records[i]));
    const cells = runs.map((run) => {
      const r = run.records[i];
      if (!r) return html`<td>–</td><td>–</td><td>–</td><td>–</td>`;
      const rank = r.answerable ? (r.hitRank ?? html`<span class="no">&gt;10</span>`) : html`<span class="muted">n/a</span>`;
      const answer = r.answer === null ? "–" : html`<details><summary>${r.answer.slice(0, 60)}${r.answer.length > 60 ? "…" : ""}</summary>${r.answer}</details>`;
      return html`<td>${rank}</td><td>${yesNo(r.correct)}</td><td>${yesNo(r.grounded)}</td><td class="l">${answer}${r.error ? html`<div class="no">${r.error}</div>` : ""}</td>`;
    });
    return html`<tr class="${changed ? "diff" : ""}"><td>${item.id}</td><td class="l">${item.kind}</td><td class="l">${item.doc ?? "–"}</td><td class="q">${item.question}</td>${cells}</tr>`;
  });
  return html`<h2>Questions</h2><table><tr><th rowspan="2">id</th><th rowspan="2">kind</th><th rowspan="2">doc</th><th rowspan="2" class="q">question</th>${runs.map((r) => html`<th colspan="4" class="c">${r.label}</th>`)}</tr><tr>${runs.map(() => html`<th>hit rank</th><th>correct</th><th>grounded</th><th class="l">answer</th>`)}</tr>${rows}</table>`;
}

function settings(report: EvalReport): Html {
  const b = report.baseline?.build;
  return html`<h2>Settings</h2>${report.runs.map((r) => html`<p><b>${r.label}</b> (prompt ${r.promptVersion ?? "–"}, ${r.seconds.toFixed(1)} s): <code>${JSON.stringify(r.settings ?? {})}</code></p>`)}${
    report.baseline && b ? html`<p><b>${report.baseline.label}</b>: ${b.recipe}; ${b.chunks} chunks; build ${b.buildSeconds.toFixed(1)} s${b.fromCache ? " (loaded from cache)" : ""}.</p>` : ""
  }${report.notes.length ? html`<ul>${report.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ""}<p class="muted">Hit rule and answer rule: src/eval/match.ts. Gate thresholds: src/eval/thresholds.ts.</p>`;
}

export function renderHtml(report: EvalReport): string {
  const gate = report.gate;
  const page = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Evaluation ${report.createdAt}</title><style>${CSS}</style></head><body>
<h1>RAG evaluation</h1>
<p class="muted">${report.createdAt} · set <code>${report.set.file}</code>: ${report.set.items} questions (${report.set.answerable} answerable, ${report.set.unanswerable} unanswerable)</p>
<p>Quality gate on <b>${gate.run}</b>: ${gate.passed ? html`<span class="pass">PASS</span>` : html`<span class="fail">FAIL</span>`}</p>
${gate.passed ? "" : html`<ul>${gate.failures.map((f) => html`<li class="fail">${f.message}</li>`)}</ul>`}
${summary(report)}
${charts(report)}
${groups(report)}
${comparison(report)}
${questions(report)}
${settings(report)}
</body></html>
`;
  return page.markup;
}

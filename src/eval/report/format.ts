/** The plain-text tables the eval CLI prints, and the number formats every report shares. */
import type { CrossValidation, CvMetric } from "../cv.js";
import type { EvalSummary, GroupMetrics } from "../metrics.js";
import type { EvalRun } from "../run.js";
import type { EnvOverrides } from "../targets.js";
import { GATES, type GateSummary } from "../thresholds.js";
import type { EvalReport } from "./types.js";

export const pct = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? "–" : `${(x * 100).toFixed(1)}%`);
export const dec = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits));
export const ms = (x: number | null | undefined): string => (x === null || x === undefined ? "–" : `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`);
export const usd = (x: number): string => `$${x < 0.01 && x > 0 ? x.toFixed(6) : x.toFixed(4)}`;

export interface Row {
  label: string;
  cell: (s: EvalSummary, run: EvalRun) => string;
  /** The gated metric shown on this row. */
  gate?: keyof GateSummary;
}

export const ROWS: Row[] = [
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

export function allRuns(report: Pick<EvalReport, "runs" | "baseline">): EvalRun[] {
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


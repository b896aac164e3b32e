/**
 * The quality gates, in one place: `npm run eval -- --gate` and test/quality.test.ts read them.
 * Two question sets are gated: the dev set (../shared/eval, 37 questions) and the project's held-out
 * set (eval/heldout.jsonl, 90 questions written without seeing the system). The values sit one or two
 * questions below what 5-fold cross-validation gives for the defaults (`npm run eval -- --cv 5`,
 * README "Quality"): a gate catches a regression, it is not a claim of accuracy.
 */
export interface GateSummary {
  recallAt1: number | null;
  recallAt5: number | null;
  mrr: number | null;
  accuracy: number | null;
  abstention: number | null;
  falseAbstention: number | null;
}

export interface Threshold {
  metric: keyof GateSummary;
  label: string;
  op: ">=" | "<=";
  value: number;
  /** What the metric measures, for failure messages. */
  meaning: string;
}

const MEANING: Record<keyof GateSummary, [string, string]> = {
  recallAt1: ["recall@1", "share of answerable questions whose supporting passage is ranked first"],
  recallAt5: ["recall@5", "share of answerable questions whose supporting passage is in the top 5"],
  mrr: ["MRR@10", "mean reciprocal rank of the supporting passage"],
  accuracy: ["answer accuracy", "share of answerable questions whose answer contains an expected answer"],
  abstention: ["abstention (unanswerable)", "share of unanswerable questions answered with 'the documents do not cover this'"],
  falseAbstention: ["false abstention (answerable)", "share of answerable questions wrongly declined"],
};

function gate(values: Record<keyof GateSummary, number>): readonly Threshold[] {
  return (Object.keys(values) as Array<keyof GateSummary>).map((metric) => ({
    metric,
    label: MEANING[metric][0],
    op: metric === "falseAbstention" ? "<=" : ">=",
    value: values[metric],
    meaning: MEANING[metric][1],
  }));
}

export type GateName = "dev" | "heldout";

export const GATES: Readonly<Record<GateName, readonly Threshold[]>> = {
  dev: gate({ recallAt1: 0.65, recallAt5: 0.85, mrr: 0.72, accuracy: 0.62, abstention: 0.75, falseAbstention: 0.06 }),
  heldout: gate({ recallAt1: 0.58, recallAt5: 0.8, mrr: 0.66, accuracy: 0.5, abstention: 0.6, falseAbstention: 0.2 }),
};

/** The dev set's gate (what reports show beside the metrics). */
export const THRESHOLDS = GATES.dev;

/** A gate's thresholds by metric, for direct use: gateValues("dev").recallAt5 === 0.85. */
export function gateValues(name: GateName): Readonly<Record<keyof GateSummary, number>> {
  return Object.fromEntries(GATES[name].map((t) => [t.metric, t.value])) as Record<keyof GateSummary, number>;
}

export const GATE = gateValues("dev");

export interface GateFailure {
  metric: keyof GateSummary;
  label: string;
  actual: number | null;
  expected: string;
  message: string;
}

export function passes(t: Threshold, actual: number | null): boolean {
  if (actual === null || Number.isNaN(actual)) return false;
  return t.op === ">=" ? actual >= t.value : actual <= t.value;
}

/** Every threshold the summary misses (empty when the gate passes). A metric that could not be computed fails. */
export function checkGate(summary: GateSummary, thresholds: readonly Threshold[] = THRESHOLDS): GateFailure[] {
  const failures: GateFailure[] = [];
  for (const t of thresholds) {
    const actual = summary[t.metric];
    if (passes(t, actual)) continue;
    const shown = actual === null || Number.isNaN(actual) ? "n/a" : actual.toFixed(3);
    failures.push({
      metric: t.metric,
      label: t.label,
      actual,
      expected: `${t.op} ${t.value}`,
      message: `${t.label} is ${shown}, must be ${t.op} ${t.value} (${t.meaning})`,
    });
  }
  return failures;
}

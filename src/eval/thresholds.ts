/**
 * The quality gate, in one place: `npm run eval -- --gate` and test/quality.test.ts both read it.
 * Raise a threshold only with evidence from the dev set (and ideally a held-out set).
 */
export interface GateSummary {
  recallAt5: number | null;
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

export const THRESHOLDS: readonly Threshold[] = [
  { metric: "recallAt5", label: "recall@5", op: ">=", value: 0.9, meaning: "share of answerable questions whose supporting passage is in the top 5" },
  { metric: "accuracy", label: "answer accuracy", op: ">=", value: 0.7, meaning: "share of answerable questions whose answer contains an expected answer" },
  { metric: "abstention", label: "abstention (unanswerable)", op: ">=", value: 0.75, meaning: "share of unanswerable questions answered with 'the documents do not cover this'" },
  { metric: "falseAbstention", label: "false abstention (answerable)", op: "<=", value: 0.1, meaning: "share of answerable questions wrongly declined" },
] as const;

/** The thresholds by metric, for direct use: GATE.recallAt5 === 0.9. */
export const GATE: Readonly<Record<keyof GateSummary, number>> = Object.fromEntries(THRESHOLDS.map((t) => [t.metric, t.value])) as Record<keyof GateSummary, number>;

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
export function checkGate(summary: GateSummary): GateFailure[] {
  const failures: GateFailure[] = [];
  for (const t of THRESHOLDS) {
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

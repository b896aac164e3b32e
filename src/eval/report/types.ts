/** What an evaluation report holds (reports/eval-*.json): our runs, the baseline's, the gate, notes. */
import type { EvalRun } from "../run.js";
import type { GateFailure, GateName } from "../thresholds.js";

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


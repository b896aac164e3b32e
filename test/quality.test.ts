/**
 * The quality gate (src/eval/thresholds.ts) on ../shared/eval/dev.jsonl, against the index of the real
 * corpus that test/global-setup.ts builds from ../shared/corpus, with the default configuration
 * (extractive answers, so no network and no cost). Fails (does not skip) when ../shared is missing.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PROJECT_ROOT } from "../src/config/index.js";
import { loadEvalSet, type EvalItem } from "../src/eval/dataset.js";
import { formatByDoc, formatByKind, formatSummary } from "../src/eval/report.js";
import { runEval, type EvalRun } from "../src/eval/run.js";
import { createEvalService } from "../src/eval/targets.js";
import { GATE, THRESHOLDS } from "../src/eval/thresholds.js";
import type { QaService } from "../src/service/index.js";

const SET_FILE = path.resolve(PROJECT_ROOT, "../shared/eval/dev.jsonl");
const real = inject("realCorpus");

let service: QaService | undefined;
let run: EvalRun;
let set: EvalItem[];

beforeAll(async () => {
  if (!existsSync(SET_FILE)) throw new Error(`quality test: the dev set ${SET_FILE} is missing (../shared must be beside the project)`);
  set = await loadEvalSet(SET_FILE);
  // Everything but the index location is the default configuration; answers are extractive.
  service = await createEvalService({}, { env: { INDEX_DIR: real.indexDir, CORPUS_DIR: real.corpusDir, LLM_PROVIDER: "extractive", LOG_LEVEL: "silent" } });
  run = await runEval({ set, service, label: "ours (defaults)" });
  console.log(`${formatSummary({ runs: [run], baseline: null })}\n\n${formatByKind({ runs: [run], baseline: null })}\n\n${formatByDoc({ runs: [run], baseline: null })}`);
}, 600_000);

afterAll(async () => {
  await service?.close();
});

const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
const ids = (pred: (r: EvalRun["records"][number]) => boolean) => run.records.filter(pred).map((r) => r.id).join(", ") || "none";

describe("quality gate on ../shared/eval/dev.jsonl (default config, extractive answers)", () => {
  it("answers every question without errors", () => {
    expect(run.summary.errors, `errors: ${run.records.filter((r) => r.error).map((r) => `${r.id}: ${r.error}`).join("; ")}`).toBe(0);
    expect(run.records).toHaveLength(set.length);
  });

  it(`recall@5 >= ${GATE.recallAt5}`, () => {
    expect(
      run.summary.recallAt5 ?? 0,
      `recall@5 is ${pct(run.summary.recallAt5)} (threshold ${pct(GATE.recallAt5)}); supporting passage not in the top 5 for: ${ids((r) => r.answerable && (r.hitRank === null || r.hitRank > 5))}`,
    ).toBeGreaterThanOrEqual(GATE.recallAt5);
  });

  it(`answer accuracy >= ${GATE.accuracy}`, () => {
    expect(
      run.summary.accuracy ?? 0,
      `answer accuracy is ${pct(run.summary.accuracy)} (threshold ${pct(GATE.accuracy)}); wrong or declined: ${ids((r) => r.answerable && r.correct !== true)}`,
    ).toBeGreaterThanOrEqual(GATE.accuracy);
  });

  it(`abstention on unanswerable questions >= ${GATE.abstention}`, () => {
    expect(
      run.summary.abstention ?? 0,
      `abstention is ${pct(run.summary.abstention)} (threshold ${pct(GATE.abstention)}); answered although not covered: ${ids((r) => !r.answerable && r.abstained !== true)}`,
    ).toBeGreaterThanOrEqual(GATE.abstention);
  });

  it(`false abstention on answerable questions <= ${GATE.falseAbstention}`, () => {
    expect(
      run.summary.falseAbstention ?? 1,
      `false abstention is ${pct(run.summary.falseAbstention)} (threshold ${pct(GATE.falseAbstention)}); wrongly declined: ${ids((r) => r.answerable && r.abstained === true)}`,
    ).toBeLessThanOrEqual(GATE.falseAbstention);
  });

  it("checks every threshold of thresholds.ts", () => {
    expect(THRESHOLDS.map((t) => t.metric).sort()).toEqual(["abstention", "accuracy", "falseAbstention", "recallAt5"]);
  });
});

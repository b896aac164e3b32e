/**
 * The quality gates (src/eval/thresholds.ts) on the dev set (../shared/eval/dev.jsonl and
 * dev-rlhf-summarize.jsonl) and on the project's held-out set (eval/heldout.jsonl), against the index of
 * the real corpus that test/global-setup.ts builds from ../shared/corpus, with the default configuration
 * (extractive answers: no network, no cost). Fails (does not skip) when ../shared is missing.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PROJECT_ROOT } from "../src/config/index.js";
import { loadEvalSet } from "../src/eval/dataset.js";
import { formatByKind, formatSummary } from "../src/eval/report/index.js";
import { runEval, type EvalRun } from "../src/eval/run.js";
import { createEvalService } from "../src/eval/targets.js";
import { GATES, type GateName } from "../src/eval/thresholds.js";
import type { QaService } from "../src/service/index.js";

const SETS: Record<GateName, string[]> = {
  dev: [path.resolve(PROJECT_ROOT, "../shared/eval/dev.jsonl"), path.resolve(PROJECT_ROOT, "../shared/eval/dev-rlhf-summarize.jsonl")],
  heldout: [path.resolve(PROJECT_ROOT, "eval/heldout.jsonl")],
};
const real = inject("realCorpus");
const runs = {} as Record<GateName, EvalRun>;
let service: QaService | undefined;

beforeAll(async () => {
  for (const file of Object.values(SETS).flat()) if (!existsSync(file)) throw new Error(`quality test: ${file} is missing (../shared must be beside the project)`);
  // Everything but the index location is the default configuration; answers are extractive.
  service = await createEvalService({}, { env: { INDEX_DIR: real.indexDir, CORPUS_DIR: real.corpusDir, LLM_PROVIDER: "extractive", LOG_LEVEL: "silent" } });
  for (const name of Object.keys(SETS) as GateName[]) {
    const set = (await Promise.all(SETS[name].map((f) => loadEvalSet(f)))).flat();
    runs[name] = await runEval({ set, service, label: `${name} (defaults)` });
    console.log(`${formatSummary({ runs: [runs[name]], baseline: null })}\n\n${formatByKind({ runs: [runs[name]], baseline: null })}`);
  }
}, 600_000);

afterAll(async () => {
  await service?.close();
});

const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);

for (const name of Object.keys(SETS) as GateName[]) {
  describe(`quality gate on the ${name} set (default config, extractive answers)`, () => {
    it("answers every question without errors", () => {
      const run = runs[name];
      expect(run.summary.errors, run.records.filter((r) => r.error).map((r) => `${r.id}: ${r.error}`).join("; ")).toBe(0);
      expect(run.records.length).toBeGreaterThan(30);
    });

    for (const t of GATES[name]) {
      it(`${t.label} ${t.op} ${t.value}`, () => {
        const run = runs[name];
        const actual = run.summary[t.metric];
        const failing = run.records
          .filter((r) => (t.metric === "abstention" ? !r.answerable && !r.abstained : t.metric === "falseAbstention" ? r.answerable && r.abstained : r.answerable && (t.metric === "accuracy" ? !r.correct : r.hitRank !== 1)))
          .map((r) => r.id)
          .join(", ");
        const message = `${t.label} is ${pct(actual)} (threshold ${t.op} ${t.value}); ${t.meaning}; the questions against it: ${failing || "none"}`;
        expect(actual, message).not.toBeNull();
        if (t.op === ">=") expect(actual!, message).toBeGreaterThanOrEqual(t.value);
        else expect(actual!, message).toBeLessThanOrEqual(t.value);
      });
    }
  });
}

/**
 * npm run eval [-- --set FILE|feedback --prompt VERSION --k N --compare-prompt V2 --compare-env KEY=VAL
 *                 --no-baseline --cv K --sweep --grid KEY=v1,v2 --ablations --gate --url URL]
 *
 * Scores the service (the same QaService the API serves, configured from the environment) on a
 * question set and compares it with the plain LangChain recipe (src/eval/baseline.ts). Prints the
 * tables and writes reports/eval-<timestamp>.json/.html (+ eval-latest.*).
 *
 * Exit codes: 0 the run completed (gate failures are printed, not enforced, unless --gate);
 *             1 the gate failed with --gate; 2 usage, configuration, set or index problem.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { loadConfig, PROJECT_ROOT, type Config } from "../config/index.js";
import { parseOptions } from "./args.js";
import { AppError, isAppError } from "../errors.js";
import { loadCorpusEntries } from "../corpus/catalog.js";
import { createEmbedder } from "../embed/index.js";
import type { Embedder } from "../embed/types.js";
import { createIndexStore } from "../store/index.js";
import { BASELINE_RECIPE, baselineTarget, buildBaseline } from "../eval/baseline.js";
import { isAnswerable, loadEvalSet, type EvalItem } from "../eval/dataset.js";
import { ABLATIONS, choose, crossValidate, DEFAULT_GRID, objective, parseGrid, runSweep, settingsOf, type Grid } from "../eval/cv.js";
import { groupMetrics, type ItemRecord } from "../eval/metrics.js";
import { describeOverrides, formatByDoc, formatByKind, formatCv, formatGate, formatSettings, formatSummary, writeEvalReport, writeJsonReport, type EvalReport } from "../eval/report/index.js";
import { runEval, type EvalRun } from "../eval/run.js";
import { createEvalService, httpTarget, type EnvOverrides } from "../eval/targets.js";
import { checkGate, GATES } from "../eval/thresholds.js";
import { byPromptVersion, loadFeedbackSet } from "../eval/feedback.js";
import { createFeedbackStore, JsonlFeedbackStore, type FeedbackStore } from "../service/index.js";
import { isMain } from "./is-main.js";

/** The rated answers as questions; none to check is a setup problem (exit 2), with what was found. */
async function feedbackItems(store: FeedbackStore): Promise<EvalItem[]> {
  const fb = await loadFeedbackSet(store);
  for (const r of fb.toReview) console.error(`feedback to review (down, no expected answer): ${r.answerId} "${r.question}" (${r.promptVersion})${r.comment ? `: ${r.comment}` : ""}`);
  if (!fb.items.length)
    throw new AppError("EVAL_SETUP", `no rated answer in ${store.location} can be checked (${fb.records} records, ${fb.toReview.length} down-rated without an expected answer): rate answers with POST /v1/feedback first`);
  console.error(`feedback: ${fb.records} records -> ${fb.items.length} questions, ${fb.toReview.length} to review`);
  return fb.items;
}

/** The dev set: every JSONL file of ../shared/eval beside the project (dev.jsonl, dev-rlhf-summarize.jsonl). */
export const DEFAULT_SETS = [path.resolve(PROJECT_ROOT, "../shared/eval/dev.jsonl"), path.resolve(PROJECT_ROOT, "../shared/eval/dev-rlhf-summarize.jsonl")];

const USAGE = `Usage: npm run eval [-- options]
  --set FILE             question set, JSONL (repeatable; default: ../shared/eval/dev.jsonl and
                         dev-rlhf-summarize.jsonl next to the project); --set feedback: the rated
                         answers as a regression set (src/eval/feedback.ts), from DATA_DIR/feedback.jsonl,
                         or the feedback table with INDEX_STORE=postgres
  --prompt VERSION       prompt version for answers (default: PROMPT_VERSION, qa-v1)
  --k N                  passages given to the answerer (default: the service's, 5)
  --compare-prompt V     also run with prompt version V and compare side by side
  --compare-env KEY=VAL  also run with this setting changed (repeatable) and compare side by side
  --no-baseline          skip the LangChain baseline
  --cv K                 K-fold cross-validation of a sweep: choose the setting on K-1 folds, score
                         it on the K-th; prints mean, spread and the chosen settings
  --sweep                evaluate every setting of the grid on the whole set; prints the best
  --grid KEY=v1,v2       the sweep's grid (repeatable; default: the main retrieval, reader and
                         abstention knobs, see src/eval/cv.ts)
  --ablations            each retrieval and reader signal turned off, one at a time, vs the defaults
  --gate                 exit 1 when the quality gate (src/eval/thresholds.ts) fails: the held-out
                         set's gate for --set eval/heldout.jsonl, the dev set's otherwise
  --url URL              score a running server through its HTTP API instead of an in-process service
Settings come from the environment as for the server (INDEX_DIR, RETRIEVAL_*, LLM_*, ...).`;

/** `--set feedback`: live feedback (DATA_DIR/feedback.jsonl, or Postgres with INDEX_STORE=postgres) as a question set. */
export const FEEDBACK_SET = "feedback";

const usageError = (message: string, cause?: unknown) => new AppError("USAGE", message, { cause });

interface Args {
  sets: string[];
  prompt?: string;
  k?: number;
  comparePrompt?: string;
  compareEnv: EnvOverrides;
  baseline: boolean;
  sweep: boolean;
  cv?: number;
  grid?: Grid;
  ablations: boolean;
  gate: boolean;
  /** Score a running server through HTTP instead of an in-process service. */
  url?: string;
  help: boolean;
}

export function parseEvalArgs(argv: string[]): Args {
  const values = parseOptions(argv, {
    set: { type: "string", multiple: true },
    prompt: { type: "string" },
    k: { type: "string" },
    "compare-prompt": { type: "string" },
    "compare-env": { type: "string", multiple: true },
    "no-baseline": { type: "boolean", default: false },
    sweep: { type: "boolean", default: false },
    cv: { type: "string" },
    grid: { type: "string", multiple: true },
    ablations: { type: "boolean", default: false },
    gate: { type: "boolean", default: false },
    url: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  });
  let k: number | undefined;
  if (values.k !== undefined) {
    k = Number(values.k);
    if (!Number.isInteger(k) || k < 1 || k > 20) throw usageError(`--k must be an integer from 1 to 20 (got ${values.k})`);
  }
  let cv: number | undefined;
  if (values.cv !== undefined) {
    cv = Number(values.cv);
    if (!Number.isInteger(cv) || cv < 2 || cv > 20) throw usageError(`--cv must be an integer from 2 to 20 (got ${values.cv})`);
  }
  let grid: Grid | undefined;
  try {
    grid = values.grid?.length ? parseGrid(values.grid) : undefined;
  } catch (err) {
    throw usageError((err as Error).message, err);
  }
  const compareEnv: EnvOverrides = {};
  for (const pair of values["compare-env"] ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw usageError(`--compare-env expects KEY=VALUE (got ${pair})`);
    compareEnv[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return {
    sets: values.set?.length ? values.set.map((f) => (f === FEEDBACK_SET ? f : path.resolve(f))) : DEFAULT_SETS,
    prompt: values.prompt,
    k,
    comparePrompt: values["compare-prompt"],
    compareEnv,
    baseline: !values["no-baseline"],
    sweep: values.sweep ?? false,
    cv,
    grid,
    ablations: values.ablations ?? false,
    gate: values.gate ?? false,
    url: values.url,
    help: values.help ?? false,
  };
}

/** Progress on stderr: one character per question (. hit/correct, x miss, ! error). */
function progress(label: string): (r: ItemRecord, done: number, total: number) => void {
  return (r, done, total) => {
    if (done === 1) process.stderr.write(`${label.padEnd(24)} `);
    process.stderr.write(r.error ? "!" : r.correct === false || (r.answerable && r.hitRank === null) ? "x" : ".");
    if (done === total) process.stderr.write(` ${total}\n`);
  };
}

async function checkIndex(config: Config): Promise<void> {
  const store = createIndexStore(config);
  try {
    const manifest = await store.current().catch((err: Error) => {
      throw new AppError("EVAL_SETUP", err.message, { cause: err });
    });
    if (!manifest) throw new AppError("EVAL_SETUP", `no index in ${store.location}: build it first with \`npm run ingest\` (INDEX_DIR or INDEX_STORE/DATABASE_URL select it)`);
  } finally {
    await store.close?.();
  }
}


async function runBaseline(config: Config, set: EvalItem[], notes: string[]): Promise<EvalReport["baseline"]> {
  const entries = await loadCorpusEntries(config);
  process.stderr.write(`baseline: ${BASELINE_RECIPE}\n`);
  let build;
  try {
    build = await buildBaseline({
      corpusDir: config.corpusDir,
      entries,
      onStage: (stage, info) => process.stderr.write(`baseline: ${stage}${info ? ` ${JSON.stringify(info)}` : ""}\n`),
    });
  } catch (err) {
    notes.push(`baseline skipped: ${(err as Error).message}`);
    process.stderr.write(`baseline skipped: ${(err as Error).message}\n`);
    return null;
  }
  if (build.missing.length) notes.push(`baseline: documents missing from ${config.corpusDir}: ${build.missing.join(", ")}`);
  const target = baselineTarget(build.store);
  const run = await runEval({ set, search: target.search, ask: target.ask, label: "baseline", onItem: progress("baseline") });
  return {
    ...run,
    promptVersion: null,
    settings: { recipe: BASELINE_RECIPE, chunks: build.chunks },
    build: { recipe: BASELINE_RECIPE, chunks: build.chunks, buildSeconds: build.seconds, fromCache: build.fromCache },
  };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let args: Args;
  try {
    args = parseEvalArgs(argv);
  } catch (err) {
    if (!isAppError(err, "USAGE")) throw err;
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }

  let embedder: Embedder | undefined;
  let feedbackStore: FeedbackStore | undefined;
  try {
    const config = loadConfig(env);
    // The store the server writes with this configuration: the JSONL file, or the Postgres table.
    feedbackStore = createFeedbackStore(config);
    const fbStore = feedbackStore;
    for (const file of args.sets)
      if (file !== FEEDBACK_SET && !existsSync(file))
        throw new AppError(
          "EVAL_SETUP",
          DEFAULT_SETS.includes(file)
            ? `question set not found: ${file} (the default set lives in ../shared/eval beside the project; pass --set FILE to use another)`
            : `question set not found: ${file}`,
        );
    const set = (await Promise.all(args.sets.map((f) => (f === FEEDBACK_SET ? feedbackItems(fbStore) : loadEvalSet(f))))).flat();
    const setName = args.sets.map((f) => (f === FEEDBACK_SET ? `feedback (${fbStore instanceof JsonlFeedbackStore ? path.relative(process.cwd(), fbStore.location) : fbStore.location})` : path.relative(process.cwd(), f))).join(" + ");
    await checkIndex(config);
    embedder = createEmbedder(config);
    const answerable = set.filter(isAnswerable).length;
    console.error(`question set ${setName}: ${set.length} questions (${answerable} answerable, ${set.length - answerable} unanswerable)`);
    console.error(`index ${config.store.kind === "postgres" ? "in Postgres" : config.indexDir}; LLM ${config.llm.provider} (${config.llm.model})`);

    if (args.cv !== undefined || args.sweep) {
      const grid = args.grid ?? DEFAULT_GRID;
      const total = settingsOf(grid).length;
      console.error(`sweep: ${total} settings x ${set.length} questions`);
      const t0 = performance.now();
      const runs = await runSweep({
        set,
        grid,
        env,
        embedder,
        onSetting: (done, n) => process.stderr.write(`\rsweep: ${done}/${n} settings (${((performance.now() - t0) / 1000).toFixed(0)} s)`),
      });
      process.stderr.write("\n");
      if (args.cv !== undefined) {
        const cv = crossValidate(runs, set, args.cv);
        console.log(`\ncross-validation on ${setName}\n${formatCv(cv)}`);
        const written = await writeJsonReport("cv", { createdAt: new Date().toISOString(), set: setName, grid, ...cv });
        console.log(`\nreport: ${path.relative(process.cwd(), written.json)}`);
      } else {
        const all = new Set(set.map((i) => i.id));
        const ranked = runs.map((r) => ({ label: describeOverrides(r.overrides), metrics: groupMetrics(r.records), objective: objective(groupMetrics(r.records)) })).sort((a, b) => b.objective - a.objective);
        console.log(`\nbest of ${runs.length} settings on ${setName} (objective: see src/eval/cv.ts)\n${formatSettings(ranked.slice(0, 15))}`);
        console.log(`\nchosen: ${describeOverrides(choose(runs, all).run.overrides)}`);
        await writeJsonReport("sweep", { createdAt: new Date().toISOString(), set: setName, grid, settings: ranked });
      }
      return 0;
    }

    if (args.ablations) {
      const rows = [];
      for (const a of [{ label: "defaults", overrides: {} }, ...ABLATIONS]) {
        const service = await createEvalService(a.overrides, { env, embedder });
        try {
          const run = await runEval({ set, service, label: a.label, onItem: progress(a.label.slice(0, 24)) });
          rows.push({ label: a.overrides && Object.keys(a.overrides).length ? `${a.label} (${describeOverrides(a.overrides)})` : a.label, metrics: run.summary });
        } finally {
          await service.close();
        }
      }
      console.log(`\nablations on ${setName}: each signal turned off alone\n${formatSettings(rows)}`);
      await writeJsonReport("ablations", { createdAt: new Date().toISOString(), set: setName, rows });
      return 0;
    }

    const notes: string[] = [];
    const createdAt = new Date().toISOString();
    const runs: EvalRun[] = [];
    const compare = args.comparePrompt !== undefined || Object.keys(args.compareEnv).length > 0;
    const mainPrompt = args.prompt ?? config.prompt.version;

    if (args.url) {
      const target = httpTarget(args.url);
      const label = `ours (HTTP ${args.url})`;
      runs.push(await runEval({ set, search: target.search, ask: target.ask, promptVersion: mainPrompt, k: args.k, label, onItem: progress("ours (HTTP)") }));
    }
    const service = args.url ? undefined : await createEvalService({}, { env, embedder });
    if (service) try {
      await service.checkPromptVersion(mainPrompt);
      if (args.comparePrompt) await service.checkPromptVersion(args.comparePrompt);
      const label = compare && args.comparePrompt ? `ours (${mainPrompt})` : "ours";
      runs.push(await runEval({ set, service, promptVersion: mainPrompt, k: args.k, label, onItem: progress(label) }));
      if (compare && Object.keys(args.compareEnv).length === 0) {
        const v2 = args.comparePrompt!;
        runs.push(await runEval({ set, service, promptVersion: v2, k: args.k, label: `ours (${v2})`, onItem: progress(`ours (${v2})`) }));
      }
    } finally {
      await service.close();
    }
    if (!args.url && Object.keys(args.compareEnv).length > 0) {
      const other = await createEvalService(args.compareEnv, { env, embedder });
      try {
        const v2 = args.comparePrompt ?? mainPrompt;
        const label = `ours (${describeOverrides(args.compareEnv)}${args.comparePrompt ? `, ${v2}` : ""})`;
        runs.push(await runEval({ set, service: other, promptVersion: v2, k: args.k, label, onItem: progress(label.slice(0, 24)) }));
      } finally {
        await other.close();
      }
    }

    // Live feedback beside the offline figures, by prompt version: the two should tell the same story.
    const live = byPromptVersion(await fbStore.all());
    for (const run of runs) {
      const l = live.find((x) => x.promptVersion === run.promptVersion);
      if (l) notes.push(`live feedback on ${run.promptVersion}: ${l.up} up, ${l.down} down (${Math.round(l.upShare * 100)}% up) beside offline accuracy ${run.summary.accuracy === null ? "n/a" : `${Math.round(run.summary.accuracy * 100)}%`} (${run.label})`);
    }

    const baseline = args.baseline ? await runBaseline(config, set, notes) : null;
    // The held-out set has its own gate; any other set is judged by the dev set's.
    const heldout = args.sets.length === 1 && path.basename(args.sets[0]!) === "heldout.jsonl";
    // The feedback set has no gate: its down-rated questions fail until fixed; compare runs instead.
    const feedbackOnly = args.sets.every((f) => f === FEEDBACK_SET);
    if (feedbackOnly) notes.push("no quality gate for the feedback set: its questions come from rated answers (the down-rated ones fail until they are fixed); compare its accuracy between runs");
    const failures = feedbackOnly ? [] : checkGate(runs[0]!.summary, GATES[heldout ? "heldout" : "dev"]);
    const report: EvalReport = {
      createdAt,
      set: { file: setName, items: set.length, answerable, unanswerable: set.length - answerable },
      runs,
      baseline,
      gate: { run: runs[0]!.label, ...(feedbackOnly ? {} : { name: heldout ? "heldout" : "dev" }), passed: failures.length === 0, failures },
      notes,
    };
    const written = await writeEvalReport(report);

    console.log(`\n${formatSummary(report)}\n`);
    console.log(`per kind (recall@5, answer accuracy)\n${formatByKind(report)}\n`);
    console.log(`per document (recall@5, answer accuracy)\n${formatByDoc(report)}\n`);
    for (const n of notes) console.log(`note: ${n}`);
    if (!feedbackOnly) console.log(formatGate(report.gate));
    console.log(`\nreport: ${path.relative(process.cwd(), written.html)} (also ${path.relative(process.cwd(), written.latestHtml)}, .json)`);
    return args.gate && !report.gate.passed ? 1 : 0;
  } catch (err) {
    // Exit 2: usage, configuration, set or index problems, and any other catalogued error (an unknown
    // prompt version, an unreadable manifest): the message says what to fix.
    if (isAppError(err)) {
      console.error(`eval: ${err.message}`);
      return 2;
    }
    throw err;
  } finally {
    await embedder?.close();
    await feedbackStore?.close?.();
  }
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`eval failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(2);
    },
  );
}

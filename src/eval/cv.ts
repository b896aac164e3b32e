/**
 * Parameter sweeps, k-fold cross-validation and ablations over query-time settings.
 *
 * A sweep evaluates every setting of a grid (the cartesian product of KEY=values, applied as
 * environment overrides over the configuration) on every question once, keeping each question's
 * record. Cross-validation then splits the questions into k folds (stratified by kind, so every fold
 * has unanswerable questions when there are enough), picks the setting with the best objective on
 * k-1 folds and scores it on the held-out fold: the spread of those k scores says how much a choice
 * made on the dev set can be trusted on questions nobody tuned for. Defaults are the setting the same
 * rule picks on the whole set (the procedure the cross-validation measures).
 *
 * The objective, on a group of questions: (recall@1 + MRR@10) / 2 + answer accuracy
 * + 0.5 x abstention on unanswerable - false abstention on answerable. Ties keep the earlier setting
 * (grids list the current default first, so a tie never moves it).
 */
import type { Embedder } from "../embed/types.js";
import type { EvalItem } from "./dataset.js";
import { groupMetrics, type GroupMetrics, type ItemRecord } from "./metrics.js";
import { runEval } from "./run.js";
import { loadConfig } from "../config/index.js";
import { createEvalService, memoizedOpen, type EnvOverrides } from "./targets.js";

export type Grid = Record<string, string[]>;

/** The knobs the defaults are chosen on; the first value of each is today's default. */
export const DEFAULT_GRID: Grid = {
  RETRIEVAL_DENSE_WEIGHT: ["0.3", "0", "0.6"],
  RETRIEVAL_RERANK_WEIGHT: ["0.5", "1"],
  READER_CANDIDATE_WEIGHT: ["0.6", "0.3", "1"],
  READER_PRIOR: ["0.6", "0.3", "1"],
  ABSTAIN_THRESHOLD: ["0.3", "0.4"],
  ABSTAIN_MIN_CANDIDATE: ["0", "0.75"],
};

/** Each signal turned off, one at a time, against the defaults. */
export const ABLATIONS: ReadonlyArray<{ label: string; overrides: EnvOverrides }> = [
  { label: "dense side (LSA) off", overrides: { RETRIEVAL_DENSE_WEIGHT: "0" } },
  { label: "lexical side (BM25) off", overrides: { RETRIEVAL_LEXICAL_WEIGHT: "0" } },
  { label: "reranker off", overrides: { RETRIEVAL_RERANK_WEIGHT: "0" } },
  { label: "named-document boost off", overrides: { RETRIEVAL_NAMED_DOC_BOOST: "0" } },
  { label: "reader: answer-kind candidates off", overrides: { READER_CANDIDATE_WEIGHT: "0" } },
  { label: "reader: context (neighbours, heading) off", overrides: { READER_CONTEXT_WEIGHT: "0" } },
  { label: "reader: retrieval prior off", overrides: { READER_PRIOR: "0" } },
  { label: "reader: second sentence free", overrides: { READER_LENGTH_COST: "0" } },
];

export function objective(m: GroupMetrics): number {
  const rank = ((m.recallAt1 ?? 0) + (m.mrr ?? 0)) / 2;
  return rank + (m.accuracy ?? 0) + 0.5 * (m.abstention ?? 0) - (m.falseAbstention ?? 0);
}

/** Every combination of the grid's values, in order (the first combination is all first values). */
export function settingsOf(grid: Grid): EnvOverrides[] {
  let out: EnvOverrides[] = [{}];
  for (const [key, values] of Object.entries(grid)) out = out.flatMap((s) => values.map((v) => ({ ...s, [key]: v })));
  return out;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32): the same seed, the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Item ids split into k folds: shuffled within each kind, then dealt round-robin (stratified). */
export function makeFolds(items: Pick<EvalItem, "id" | "kind">[], k: number, seed = 7): string[][] {
  const folds: string[][] = Array.from({ length: k }, () => []);
  const rnd = seededRandom(seed);
  const byKind = new Map<string, string[]>();
  for (const it of items) byKind.set(it.kind, [...(byKind.get(it.kind) ?? []), it.id]);
  let next = 0;
  for (const kind of [...byKind.keys()].sort()) {
    const ids = byKind.get(kind)!;
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    for (const id of ids) folds[next++ % k]!.push(id);
  }
  return folds;
}

export interface SettingRun {
  overrides: EnvOverrides;
  records: ItemRecord[];
}

export interface SweepOptions {
  set: EvalItem[];
  grid: Grid;
  env?: NodeJS.ProcessEnv;
  embedder?: Embedder;
  onSetting?: (done: number, total: number) => void;
}

/** Runs every setting of the grid on every question (search and answer). */
export async function runSweep(opts: SweepOptions): Promise<SettingRun[]> {
  const settings = settingsOf(opts.grid);
  const out: SettingRun[] = [];
  const open = memoizedOpen(loadConfig(opts.env ?? process.env));
  for (const overrides of settings) {
    const service = await createEvalService(overrides, { env: opts.env, embedder: opts.embedder, openIndex: open });
    try {
      const run = await runEval({ set: opts.set, service });
      out.push({ overrides, records: run.records });
    } finally {
      await service.close();
    }
    opts.onSetting?.(out.length, settings.length);
  }
  return out;
}

/** The setting with the best objective on the given questions (the earlier one on ties). */
export function choose(runs: SettingRun[], ids: ReadonlySet<string>): { run: SettingRun; score: number } {
  let best: { run: SettingRun; score: number } | undefined;
  for (const run of runs) {
    const score = objective(groupMetrics(run.records.filter((r) => ids.has(r.id))));
    if (!best || score > best.score + 1e-9) best = { run, score };
  }
  return best!;
}

export const CV_METRICS = ["recallAt1", "recallAt5", "mrr", "accuracy", "abstention", "falseAbstention"] as const;
export type CvMetric = (typeof CV_METRICS)[number];

export interface Spread {
  mean: number | null;
  sd: number | null;
  min: number | null;
  max: number | null;
}

export interface CrossValidation {
  k: number;
  settings: number;
  folds: Array<{ test: string[]; chosen: EnvOverrides; metrics: GroupMetrics }>;
  /** Mean, standard deviation and range of each metric over the held-out folds. */
  spread: Record<CvMetric, Spread>;
  /** Pooled metrics of every question scored by the setting chosen without it. */
  pooled: GroupMetrics;
  /** The setting chosen on the whole set, and its figures there. */
  chosenOnAll: { overrides: EnvOverrides; metrics: GroupMetrics };
  /** The first setting of the grid (today's defaults) on the whole set. */
  defaults: GroupMetrics;
}

function spreadOf(values: Array<number | null>): Spread {
  const xs = values.filter((v): v is number => v !== null);
  if (xs.length === 0) return { mean: null, sd: null, min: null, max: null };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

export function crossValidate(runs: SettingRun[], items: Pick<EvalItem, "id" | "kind">[], k: number, seed = 7): CrossValidation {
  const folds = makeFolds(items, k, seed);
  const all = new Set(items.map((i) => i.id));
  const pooled: ItemRecord[] = [];
  const out = folds.map((test) => {
    const testIds = new Set(test);
    const train = new Set([...all].filter((id) => !testIds.has(id)));
    const { run } = choose(runs, train);
    const held = run.records.filter((r) => testIds.has(r.id));
    pooled.push(...held);
    return { test, chosen: run.overrides, metrics: groupMetrics(held) };
  });
  const spread = Object.fromEntries(CV_METRICS.map((m) => [m, spreadOf(out.map((f) => f.metrics[m]))])) as Record<CvMetric, Spread>;
  const onAll = choose(runs, all).run;
  return {
    k,
    settings: runs.length,
    folds: out,
    spread,
    pooled: groupMetrics(pooled),
    chosenOnAll: { overrides: onAll.overrides, metrics: groupMetrics(onAll.records) },
    defaults: groupMetrics(runs[0]!.records),
  };
}

/** Parses repeated `--grid KEY=v1,v2` arguments; throws on a malformed one. */
export function parseGrid(pairs: string[]): Grid {
  const grid: Grid = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const values = pair.slice(eq + 1).split(",").map((v) => v.trim()).filter(Boolean);
    if (eq <= 0 || values.length === 0) throw new Error(`--grid expects KEY=v1,v2,... (got ${pair})`);
    grid[pair.slice(0, eq).trim()] = values;
  }
  return grid;
}

/**
 * The quality gate (src/eval/thresholds.ts) on ../shared/eval/dev.jsonl, against an index of the real
 * corpus, with the default configuration (extractive answers, so no network and no cost).
 *
 * The index: the project's ./index when its manifest matches (same embedder and chunking defaults,
 * every corpus document indexed with the manifest's checksum, built after the last change to the
 * ingestion/index code); otherwise one built into a temp folder from ../shared/corpus, copied with
 * fetchCorpus (its fetchImpl rejects: nothing touches the network). Building takes a few minutes
 * (embedding). QUALITY_REBUILD=1 forces the temp build.
 *
 * This suite FAILS (it does not skip) when ../shared is missing.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, PROJECT_ROOT } from "../src/config/index.js";
import { fetchCorpus } from "../src/corpus/fetch.js";
import { loadCorpusManifest, type CorpusEntry } from "../src/corpus/manifest.js";
import { createEmbedder } from "../src/embed/index.js";
import { loadEvalSet, type EvalItem } from "../src/eval/dataset.js";
import { formatByDoc, formatByKind, formatSummary } from "../src/eval/report.js";
import { createEvalService, runEval, type EvalRun } from "../src/eval/run.js";
import { GATE, THRESHOLDS } from "../src/eval/thresholds.js";
import { readManifest } from "../src/index/store.js";
import { ingestWithConfig } from "../src/ingest/run.js";
import type { QaService } from "../src/service/index.js";

const SHARED = path.resolve(PROJECT_ROOT, "../shared");
const SET_FILE = path.join(SHARED, "eval/dev.jsonl");
const MIRROR = path.join(SHARED, "corpus");
const PROJECT_MANIFEST = path.join(PROJECT_ROOT, "corpus/manifest.json");
const PROJECT_INDEX = path.join(PROJECT_ROOT, "index");

/** Everything but the index location is the default configuration; answers are extractive. */
const baseEnv = (indexDir: string, corpusDir: string): NodeJS.ProcessEnv => ({
  INDEX_DIR: indexDir,
  CORPUS_DIR: corpusDir,
  LLM_PROVIDER: "extractive",
  LOG_LEVEL: "silent",
});

/** Newest modification time of the code that decides what an index contains. */
async function newestCodeChange(): Promise<number> {
  let newest = 0;
  for (const dir of ["src/ingest", "src/index", "src/embed"]) {
    for (const name of await readdir(path.join(PROJECT_ROOT, dir))) newest = Math.max(newest, (await stat(path.join(PROJECT_ROOT, dir, name))).mtimeMs);
  }
  return newest;
}

/** Why ./index cannot be reused, or null when it can. */
async function whyNotReuse(entries: CorpusEntry[], needed: Set<string>): Promise<string | null> {
  if (/^(1|true|yes)$/i.test(process.env.QUALITY_REBUILD ?? "")) return "QUALITY_REBUILD is set";
  const manifest = await readManifest(PROJECT_INDEX).catch(() => null);
  if (!manifest) return "no index in ./index";
  const defaults = loadConfig(baseEnv(PROJECT_INDEX, path.join(PROJECT_ROOT, "corpus")));
  const embedder = createEmbedder(defaults);
  if (manifest.embedder.id !== embedder.id || manifest.embedder.dimensions !== embedder.dimensions) return `built with embedder ${manifest.embedder.id}`;
  const c = manifest.chunking;
  if (c.size !== defaults.chunking.size || c.overlap !== defaults.chunking.overlap || c.prefix !== defaults.chunking.prefix)
    return `built with chunking ${JSON.stringify(c)}, defaults are ${JSON.stringify(defaults.chunking)}`;
  for (const e of entries) {
    const doc = manifest.documents.find((d) => d.id === e.id);
    if (!doc) {
      if (needed.has(e.id) || existsSync(path.join(MIRROR, e.file))) return `document ${e.id} is not in it`;
      continue;
    }
    if (e.sha256 && doc.sha256 !== e.sha256) return `document ${e.id} has another checksum`;
  }
  if (manifest.documents.some((d) => !entries.some((e) => e.id === d.id))) return "it holds documents that are not in the corpus manifest";
  if (Date.parse(manifest.createdAt) < (await newestCodeChange())) return "the ingestion code changed after it was built";
  return null;
}

let tempDir: string | undefined;
let service: QaService | undefined;
let run: EvalRun;
let set: EvalItem[];
let indexNote = "";

beforeAll(async () => {
  // Fail, not skip, when the shared evaluation data is absent.
  if (!existsSync(SET_FILE)) throw new Error(`quality test: the dev set ${SET_FILE} is missing (../shared must be mounted next to the project)`);
  if (!existsSync(MIRROR)) throw new Error(`quality test: the corpus mirror ${MIRROR} is missing (../shared must be mounted next to the project)`);
  set = await loadEvalSet(SET_FILE);
  const entries = await loadCorpusManifest(PROJECT_MANIFEST);
  const needed = new Set(set.flatMap((i) => (i.doc ? [i.doc] : [])));

  let indexDir = PROJECT_INDEX;
  let corpusDir = path.join(PROJECT_ROOT, "corpus");
  const reason = await whyNotReuse(entries, needed);
  if (reason === null) indexNote = "reused ./index";
  else {
    tempDir = await mkdtemp(path.join(os.tmpdir(), "quality-"));
    corpusDir = path.join(tempDir, "corpus");
    indexDir = path.join(tempDir, "index");
    const report = await fetchCorpus({
      entries,
      corpusDir,
      mirrorDir: MIRROR,
      fetchImpl: (() => Promise.reject(new Error("network disabled in the quality test"))) as typeof fetch,
    });
    const missing = report.results.filter((r) => r.status === "missing" || r.status === "checksum-mismatch");
    const missingNeeded = missing.filter((r) => needed.has(r.id));
    if (missingNeeded.length)
      throw new Error(`quality test: documents the dev set needs are not in ${MIRROR}: ${missingNeeded.map((r) => `${r.id} (${r.reason})`).join("; ")}`);
    const result = await ingestWithConfig(loadConfig(baseEnv(indexDir, corpusDir)));
    indexNote = `built a temp index (${reason}): ${result.documents} documents, ${result.chunks} chunks in ${result.seconds.toFixed(0)} s` +
      (missing.length ? `; not in the mirror: ${missing.map((r) => r.id).join(", ")}` : "");
  }

  service = await createEvalService({}, { env: baseEnv(indexDir, corpusDir) });
  run = await runEval({ set, service, label: "ours (defaults)" });
  console.log(`quality: ${indexNote}\n${formatSummary({ runs: [run], baseline: null })}\n\n${formatByKind({ runs: [run], baseline: null })}\n\n${formatByDoc({ runs: [run], baseline: null })}`);
}, 1_200_000);

afterAll(async () => {
  await service?.close();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
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

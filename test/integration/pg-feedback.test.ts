/**
 * Feedback in Postgres (INDEX_STORE=postgres), on the PGlite stand-in (or TEST_DATABASE_URL): ratings
 * given to two services (two replicas) on one database land in the feedback table, not in
 * DATA_DIR/feedback.jsonl; each replica reads every replica's rows; they outlive the services (a
 * restart); and `npm run eval -- --set feedback`, run as another process with the same configuration,
 * builds its regression set from those rows and runs it. A small fixture corpus is ingested into the
 * database so that the services answer and the evaluation runs.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, type Config } from "../../src/config/index.js";
import { feedbackSet } from "../../src/eval/feedback.js";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { PostgresFeedbackStore, QaService, type FeedbackRecord } from "../../src/service/index.js";
import { SAMPLE_DOCS, tempDir, testConfig, writeCorpus } from "../helpers/fixtures.js";
import { startTestDatabase, type TestDatabase } from "../helpers/pg.js";

let tdb: TestDatabase;
let dirs: { corpusDir: string; manifest: string; indexDir: string };
let env: Record<string, string>;
let config: () => Config;

beforeAll(async () => {
  tdb = await startTestDatabase();
  dirs = { ...(await writeCorpus(SAMPLE_DOCS)), indexDir: await tempDir("pgfb-index") };
  env = { INDEX_STORE: "postgres", DATABASE_URL: tdb.url, PG_POLL_MS: "300", PG_POOL_WAIT_MS: "2000" };
  config = () => testConfig(dirs, env);
  await ingestWithConfig(config());
}, 300_000);

afterAll(async () => {
  await tdb?.stop();
});

async function started(): Promise<QaService> {
  const s = new QaService(config());
  await s.start();
  return s;
}

async function rate(s: QaService, question: string, rating: "up" | "down", extra: { expected?: string; comment?: string } = {}): Promise<FeedbackRecord> {
  const a = await s.ask({ question });
  return s.feedback({ answerId: a.answerId, rating, ...extra });
}

function run(args: string[], childEnv: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/eval.ts", ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...childEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("feedback with INDEX_STORE=postgres", () => {
  const written: FeedbackRecord[] = [];

  it("two replicas write to the feedback table (not the JSONL file) and each reads both replicas' rows, also after a restart", async () => {
    const a = await started();
    const b = await started();
    try {
      expect(a.feedbackStore).toBeInstanceOf(PostgresFeedbackStore);
      expect(a.feedbackStore.location).toMatch(/feedback table of postgres at/);
      written.push(await rate(a, "Which optimizer was used to train the Transformer?", "down", { expected: "Adam", comment: "name the optimizer" }));
      written.push(await rate(b, "What do humans compare when giving preferences?", "up", { expected: "video clips" }));
      written.push(await rate(a, "What is distillation?", "down"));

      const ids = written.map((r) => r.answerId);
      expect(new Set(ids).size).toBe(3);
      expect((await a.feedbackStore.all()).map((r) => r.answerId)).toEqual(ids);
      expect(await b.feedbackStore.all()).toEqual(written);
    } finally {
      await a.close();
      await b.close();
    }
    expect(existsSync(path.join(config().dataDir, "feedback.jsonl"))).toBe(false);

    const rows = await tdb.sql<{ answer_id: string; rating: string; question: string; expected: string | null }>(
      "SELECT answer_id, rating, record->>'question' AS question, record->>'expected' AS expected FROM feedback ORDER BY created_at, id",
    );
    expect(rows).toEqual(written.map((r) => ({ answer_id: r.answerId, rating: r.rating, question: r.question, expected: r.expected ?? null })));
    const indexes = await tdb.sql<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'feedback'");
    expect(indexes.some((i) => /\(created_at\)/.test(i.indexdef))).toBe(true);

    // A restart: a new service (a new pool) reads what the closed ones wrote.
    const c = await started();
    try {
      expect(await c.feedbackStore.all()).toEqual(written);
    } finally {
      await c.close();
    }
  }, 120_000);

  it("npm run eval -- --set feedback, in another process, builds the regression set from the Postgres rows and runs it", async () => {
    expect(written).toHaveLength(3);
    const expected = feedbackSet(written);
    // down + expected and up + expected are questions; down without an expected answer is for review.
    expect(expected.items).toHaveLength(2);
    expect(expected.toReview.map((r) => r.answerId)).toEqual([written[2]!.answerId]);

    const c = config();
    const out = await run(["--set", "feedback", "--no-baseline"], {
      ...env,
      CORPUS_DIR: c.corpusDir,
      CORPUS_MANIFEST: c.corpusManifest,
      INDEX_DIR: c.indexDir,
      DATA_DIR: c.dataDir,
      LLM_PROVIDER: "extractive",
      LOG_LEVEL: "silent",
      EMBED_WORKERS: "1",
      CHUNK_SIZE: "300",
      CHUNK_OVERLAP: "60",
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain(`feedback to review (down, no expected answer): ${written[2]!.answerId}`);
    expect(out.stderr).toContain(`feedback: 3 records -> ${expected.items.length} questions, ${expected.toReview.length} to review`);
    expect(out.stderr).toMatch(/question set feedback \(the feedback table of postgres at [^)]*\): 2 questions/);

    const html = out.stdout.match(/report: (\S+\.html)/)?.[1];
    expect(html, out.stdout).toBeDefined();
    const report = JSON.parse(await readFile(path.resolve(PROJECT_ROOT, html!.replace(/\.html$/, ".json")), "utf8"));
    expect(report.set.items).toBe(2);
    expect(report.runs[0].records.map((r: { id: string }) => r.id).sort()).toEqual(expected.items.map((i) => i.id).sort());
    // The live figures beside the offline ones come from the same rows.
    expect(report.notes.join("\n")).toMatch(/live feedback on qa-v1: 1 up, 2 down/);
  }, 180_000);
});

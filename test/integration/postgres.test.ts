/**
 * The Postgres store against real Postgres SQL: PGlite (Postgres in WebAssembly with the real pgvector
 * extension) behind its wire-protocol socket server on an ephemeral loopback port, reached with the
 * production pg + pgvector clients; with TEST_DATABASE_URL, any real server instead. One database for
 * the whole file (PGlite is ~650 MB and takes seconds to start).
 *
 * Migrations (and a schema newer than the code), ingest of the real corpus with BM25 and k-NN parity
 * against the file store, incremental ingest and garbage collection, a failed write leaving the
 * previous generation active, the faults (database down at start, lost while serving, pool
 * exhaustion), durable jobs, and two replicas (two server processes) on one database.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PROJECT_ROOT, type Config } from "../../src/config/index.js";
import { createEmbedder } from "../../src/embed/index.js";
import type { Embedder } from "../../src/embed/types.js";
import { loadEvalSet } from "../../src/eval/dataset.js";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { startServer } from "../../src/server/index.js";
import { QaService } from "../../src/service/index.js";
import { createIndexStore, type IndexSnapshot } from "../../src/store/index.js";
import { Database } from "../../src/store/postgres/db.js";
import { PostgresJobStore } from "../../src/store/postgres/jobs.js";
import type { PostgresIndexStore } from "../../src/store/postgres/store.js";
import { terms } from "../../src/text/analyze.js";
import { testConfig } from "../helpers/fixtures.js";
import { getJson, postJson } from "../helpers/http.js";
import { startTestDatabase, TcpProxy, type TestDatabase } from "../helpers/pg.js";

const real = inject("realCorpus");
let tdb: TestDatabase;

/** The global setup's file index was built with the default chunking: so is every index here. */
const fileConfig = (env: Record<string, string> = {}): Config => testConfig(real, { CHUNK_SIZE: undefined, CHUNK_OVERLAP: undefined, ...env });
const pgConfig = (url: string, env: Record<string, string> = {}): Config =>
  fileConfig({ INDEX_STORE: "postgres", DATABASE_URL: url, PG_POLL_MS: "300", PG_POOL_WAIT_MS: "1000", ...env });
const settings = (url: string, over: Partial<{ poolMax: number; poolWaitMs: number }> = {}) => ({
  databaseUrl: url,
  poolMax: 4,
  poolWaitMs: 1000,
  statementTimeoutMs: 10_000,
  pollMs: 300,
  ...over,
});

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  tdb = await startTestDatabase();
}, 300_000);

afterAll(async () => {
  await tdb?.stop();
});

describe("migrations", () => {
  it("applies the numbered migrations once, records them, and refuses a schema newer than the code", async () => {
    const first = new Database(settings(tdb.url));
    const r1 = await first.ready();
    await first.end();
    expect(r1.applied.map((m) => m.version)).toEqual([1, 2, 3]);
    const second = new Database(settings(tdb.url));
    const r2 = await second.ready();
    await second.end();
    expect(r2).toMatchObject({ version: 3, applied: [] });
    expect((await tdb.sql<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version")).map((r) => r.version)).toEqual([1, 2, 3]);

    await tdb.sql("INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')");
    try {
      const db = new Database(settings(tdb.url));
      await expect(db.ready()).rejects.toMatchObject({ code: "SCHEMA_TOO_NEW", message: expect.stringMatching(/version 999 .*newer than this build knows \(version 3\)/) });
      await db.end();
      // The server refuses to start on it.
      await expect(startServer(pgConfig(tdb.url))).rejects.toMatchObject({ code: "SCHEMA_TOO_NEW" });
    } finally {
      await tdb.sql("DELETE FROM schema_migrations WHERE version = 999");
    }
  });
});

describe("ingest and serving on Postgres", () => {
  let embedder: Embedder;
  let generation: string;

  beforeAll(() => {
    embedder = createEmbedder(fileConfig());
  });
  afterAll(async () => {
    await embedder?.close();
  });

  it("ingests the real corpus into one generation with as many chunks as the file store", async () => {
    const config = pgConfig(tdb.url);
    const result = await ingestWithConfig(config, { embedder });
    const fileManifest = await createIndexStore(fileConfig()).current();
    expect(result.chunks).toBe(fileManifest!.totals.chunks);
    const store = createIndexStore(config);
    try {
      const current = await store.current();
      expect(current?.generation).toMatch(/^pg-\d+-/);
      generation = current!.generation;
      expect(current!.totals).toEqual(fileManifest!.totals);
    } finally {
      await store.close?.();
    }
    const rows = await tdb.sql<{ n: string }>("SELECT count(*)::text AS n FROM index_chunks WHERE embedding IS NOT NULL");
    expect(Number(rows[0]!.n)).toBe(result.chunks);
  }, 300_000);

  it("ranks like the file store: the same BM25 scores from SQL, the same k-NN neighbours, the same search results", async () => {
    const fileStore = createIndexStore(fileConfig());
    const pgStore = createIndexStore(pgConfig(tdb.url));
    const questions = (await loadEvalSet(path.join(PROJECT_ROOT, "../shared/eval/dev.jsonl"))).map((q) => q.question);
    expect(questions.length).toBeGreaterThan(20);
    let f: IndexSnapshot, p: IndexSnapshot;
    try {
      [f, p] = await Promise.all([fileStore.open({ embedder, ef: 200 }), pgStore.open({ embedder, ef: 200 })]);
      expect(p.chunks.size).toBe(f.chunks.size);
      let sameKnn = 0;
      for (const q of questions) {
        const t = terms(q);
        const [lf, lp] = await Promise.all([f.lexical.search(t, 10), p.lexical.search(t, 10)]);
        expect(lp.map((h) => h.id), q).toEqual(lf.map((h) => h.id));
        lp.forEach((h, i) => expect(h.score, q).toBeCloseTo(lf[i]!.score, 9));
        for (const term of t) expect(p.lexical.idf(term)).toBeCloseTo(f.lexical.idf(term), 12);
        // LSA: each generation carries its fitted model, and queries are embedded with it.
        const withModel = (s: IndexSnapshot) => (s.embedderModel && embedder.withModel ? embedder.withModel(s.embedderModel) : embedder);
        const [qf, qp] = await Promise.all([withModel(f).embedQuery(q), withModel(p).embedQuery(q)]);
        const [vf, vp] = await Promise.all([f.vectors.search(qf, 5), p.vectors.search(qp, 5)]);
        vp.forEach((h, i) => expect(h.score).toBeCloseTo(vf[i]!.score, 4));
        if (vp.map((h) => h.id).join() === vf.map((h) => h.id).join()) sameKnn++;
      }
      // Float32 (hnswlib) against float4 vectors in pgvector: ties may swap, scores agree to 1e-4.
      expect(sameKnn / questions.length).toBeGreaterThanOrEqual(0.95);
    } finally {
      await fileStore.close?.();
      await pgStore.close?.();
    }

    // Through the service: the same top-5 chunks for every question.
    const fileService = new QaService(fileConfig(), { embedder });
    const pgService = new QaService(pgConfig(tdb.url), { embedder });
    try {
      await Promise.all([fileService.start(), pgService.start()]);
      expect(pgService.status()).toMatchObject({ ready: true, generation });
      let same = 0;
      for (const q of questions) {
        const [a, b] = await Promise.all([fileService.search(q, 5), pgService.search(q, 5)]);
        if (a.results.map((r) => r.id).join() === b.results.map((r) => r.id).join()) same++;
      }
      expect(same / questions.length).toBeGreaterThanOrEqual(0.95);
    } finally {
      await fileService.close();
      await pgService.close();
    }
  }, 300_000);

  it("re-ingests incrementally: nothing changed writes nothing; a forced run and a direct write make new generations, and at most two are kept", async () => {
    const config = pgConfig(tdb.url);
    const again = await ingestWithConfig(config, { embedder });
    expect(again).toMatchObject({ upToDate: true, embedded: 0 });
    const active = async () => (await tdb.sql<{ name: string }>("SELECT g.name FROM index_active a JOIN index_generations g ON g.id = a.generation_id"))[0]!.name;
    expect(await active()).toBe(generation);
    const forced = await ingestWithConfig(config, { embedder, force: true });
    expect(forced.upToDate).toBeFalsy();
    const second = await active();
    expect(second).not.toBe(generation);
    // A third generation straight through the port (no parsing): the first one is then collected.
    const store = createIndexStore(config) as PostgresIndexStore;
    try {
      const cur = (await store.current())!;
      const snap = await store.open({ embedder, ef: 100 });
      const chunks = [...snap.chunks.all()];
      const vectors = (await snap.vectors.get(chunks.map((c) => c.id))).map((v) => v!);
      await store.write({ chunks, vectors, indexedTexts: chunks.map((c) => c.text), ...(snap.embedderModel ? { embedderModel: snap.embedderModel } : {}) }, cur);
    } finally {
      await store.close?.();
    }
    expect(await active()).not.toBe(second);
    const gens = await tdb.sql<{ name: string; status: string; dropped: boolean }>(
      "SELECT name, status, dropped_at IS NOT NULL AS dropped FROM index_generations ORDER BY id",
    );
    const kept = gens.filter((g) => !g.dropped);
    expect(kept.map((g) => g.status).sort()).toEqual(["active", "retired"]);
    expect(kept.find((g) => g.status === "retired")!.name).toBe(second);
    expect(gens.find((g) => g.name === generation)).toMatchObject({ dropped: true });
    // The dropped generations' partitions are gone.
    const parts = await tdb.sql<{ n: string }>("SELECT count(*)::text AS n FROM pg_class WHERE relname ~ '^index_chunks_g[0-9]+$'");
    expect(Number(parts[0]!.n)).toBe(2);
  }, 300_000);

  it("a failed write leaves the previous generation active and drops its own partitions", async () => {
    const store = createIndexStore(pgConfig(tdb.url)) as PostgresIndexStore;
    try {
      const before = (await store.current())!;
      const snapshot = await store.open({ embedder, ef: 100 });
      const chunks = snapshot.chunks.all().slice(0, 600);
      const dims = snapshot.vectors.dimensions;
      const vectors = chunks.map((_, i) => Array.from({ length: dims }, () => (i === 550 ? Number.NaN : 1 / Math.sqrt(dims))));
      await expect(
        store.write(
          { chunks, vectors, indexedTexts: chunks.map((c) => c.text) },
          { embedder: before.embedder, chunking: before.chunking, documents: before.documents, totals: { ...before.totals, chunks: chunks.length } },
        ),
      ).rejects.toThrow(/non-finite/);
      expect((await store.current())!.generation).toBe(before.generation);
      const failed = await tdb.sql<{ status: string; dropped: boolean }>(
        "SELECT status, dropped_at IS NOT NULL AS dropped FROM index_generations ORDER BY id DESC LIMIT 1",
      );
      expect(failed[0]).toEqual({ status: "failed", dropped: true });
    } finally {
      await store.close?.();
    }
  }, 120_000);
});

describe("faults", () => {
  it("database down at start: /readyz 503 STORE_UNAVAILABLE, then ready once it is reachable; lost while serving: 503 STORE_UNAVAILABLE, recovery without restart", async () => {
    const proxy = TcpProxy.for(tdb.url);
    await proxy.reserve();
    const server = await startServer(pgConfig(proxy.url(tdb.url)));
    try {
      const down = await getJson(server.url, "/readyz");
      expect(down.status).toBe(503);
      expect(down.body.error.code).toBe("STORE_UNAVAILABLE");
      expect((await postJson(server.url, "/v1/search", { query: "adam optimizer" })).status).toBe(503);

      await proxy.open();
      const ready = await until("ready", async () => {
        const r = await getJson(server.url, "/readyz");
        return r.status === 200 && r.body;
      });
      const current = await tdb.sql<{ name: string }>("SELECT g.name FROM index_active a JOIN index_generations g ON g.id = a.generation_id");
      expect(ready.generation).toBe(current[0]!.name);
      expect((await postJson(server.url, "/v1/search", { query: "adam optimizer" })).status).toBe(200);

      await proxy.close();
      const lost = await postJson(server.url, "/v1/search", { query: "adam optimizer" });
      expect(lost.status).toBe(503);
      expect(lost.body.error.code).toBe("STORE_UNAVAILABLE");
      const unready = await getJson(server.url, "/readyz");
      expect(unready.status).toBe(503);
      expect(unready.body.error.code).toBe("STORE_UNAVAILABLE");

      await proxy.open();
      const back = await until("search again", async () => {
        const r = await postJson(server.url, "/v1/search", { query: "adam optimizer" });
        return r.status === 200 && r;
      });
      expect(back.body.results.length).toBeGreaterThan(0);
      expect((await getJson(server.url, "/readyz")).status).toBe(200);
    } finally {
      await server.close();
      await proxy.close();
    }
  }, 120_000);

  it("pool exhaustion: a query waits at most PG_POOL_WAIT_MS, then fails with STORE_UNAVAILABLE; the store stays healthy", async () => {
    const db = new Database(settings(tdb.url, { poolMax: 1, poolWaitMs: 300 }));
    await db.ready();
    const held = await db.pool.connect();
    try {
      const t0 = performance.now();
      const err = await db.query("SELECT 1").catch((e: unknown) => e);
      const waited = performance.now() - t0;
      expect(err).toMatchObject({ code: "STORE_UNAVAILABLE", message: expect.stringMatching(/no free database connection within 300 ms/) });
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(5000);
      expect(db.health().available).toBe(true);
    } finally {
      held.release();
    }
    expect((await db.query<{ one: number }>("SELECT 1 AS one")).rows[0]!.one).toBe(1);
    await db.end();
  });
});

describe("durable jobs", () => {
  it("one running job in the whole database; a job whose worker died is marked failed, readable from any process", async () => {
    const a = new Database(settings(tdb.url));
    const b = new Database(settings(tdb.url));
    try {
      const jobsA = new PostgresJobStore(a);
      const jobsB = new PostgresJobStore(b);
      const job = { jobId: `test-${Date.now()}`, kind: "reindex", status: "running" as const, startedAt: new Date().toISOString(), params: {}, progress: { phase: "queued" } };
      await jobsA.create(job);
      await expect(jobsB.create({ ...job, jobId: `${job.jobId}-2` })).rejects.toMatchObject({ code: "REINDEX_RUNNING", details: { jobId: job.jobId } });
      expect(await jobsB.reapStale(60_000)).toEqual([]);
      await tdb.sql("UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1", [job.jobId]);
      const reaped = await jobsB.reapStale(60_000);
      expect(reaped.map((j) => j.jobId)).toEqual([job.jobId]);
      expect(await jobsA.get(job.jobId)).toMatchObject({ status: "failed", error: expect.stringMatching(/no heartbeat/) });
      expect(await jobsA.running()).toBeUndefined();
    } finally {
      await a.end();
      await b.end();
    }
  });
});

describe("two replicas on one database", () => {
  const procs: ChildProcess[] = [];
  beforeAll(async () => {
    // Runs on its own too (vitest -t): the database then needs an index first.
    const active = await tdb.sql("SELECT 1 FROM information_schema.tables WHERE table_name = 'index_active'");
    if (!active.length || !(await tdb.sql("SELECT 1 FROM index_active")).length) await ingestWithConfig(pgConfig(tdb.url));
  }, 300_000);
  /** The replicas' warnings and errors (pino JSON lines), shown when an assertion fails. */
  const logs: string[] = [];
  afterAll(() => {
    for (const p of procs) p.kill("SIGTERM");
  });

  async function freePort(): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    return port;
  }

  async function replica(): Promise<string> {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/serve.ts"], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        CORPUS_DIR: real.corpusDir,
        CORPUS_MANIFEST: real.manifest,
        INDEX_DIR: real.indexDir,
        INDEX_STORE: "postgres",
        DATABASE_URL: tdb.url,
        PG_POLL_MS: "500",
        LLM_PROVIDER: "extractive",
        LOG_LEVEL: "warn",
        ADMIN_TOKEN: "replica-secret",
        RATE_LIMIT_PER_MINUTE: "0",
        MAX_EVENT_LOOP_DELAY_MS: "0",
        MAX_IN_FLIGHT: "0",
        EMBED_WORKERS: "1",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    procs.push(child);
    child.stdout!.on("data", (d: Buffer) => logs.push(...d.toString().split("\n").filter((l) => /"level":(40|50|60)/.test(l))));
    const url = `http://127.0.0.1:${port}`;
    await until(`replica on ${port} ready`, async () => (await getJson(url, "/readyz")).status === 200, 120_000);
    return url;
  }

  it("a re-index through one runs once while the other serves search load; the other switches generation; zero failed requests", async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    const before = (await getJson(b, "/readyz")).body.generation as string;
    expect((await getJson(a, "/readyz")).body.generation).toBe(before);

    let stop = false;
    const outcomes: number[] = [];
    const load = async () => {
      while (!stop) outcomes.push((await postJson(b, "/v1/search", { query: "what learning rate schedule did the transformer use" }).catch(() => ({ status: 0 }))).status);
    };
    const workers = [load(), load()];
    const auth = { authorization: "Bearer replica-secret" };
    const started = await postJson(a, "/v1/admin/reindex", { force: true }, auth);
    expect(started.status, `${JSON.stringify(started.body)}\n${logs.join("\n")}`).toBe(202);
    // The job is a row: the other replica sees it running and refuses a second one.
    const second = await postJson(b, "/v1/admin/reindex", {}, auth);
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: "REINDEX_RUNNING", details: { jobId: started.body.jobId } });
    const done = await until(
      "the job to finish (read through the other replica)",
      async () => {
        const r = await getJson(b, `/v1/admin/reindex/${started.body.jobId}`, auth);
        return r.status === 200 && r.body.status !== "running" && r.body;
      },
      180_000,
    );
    expect(done.status, `${JSON.stringify(done)}\n${logs.join("\n")}`).toBe("succeeded");
    const t0 = Date.now();
    const after = await until("replica b on the new generation", async () => {
      const g = (await getJson(b, "/readyz")).body.generation as string;
      return g !== before && g;
    });
    const switchMs = Date.now() - t0;
    expect(switchMs).toBeLessThan(5000);
    expect((await getJson(a, "/readyz")).body.generation).toBe(after);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(workers);
    expect(outcomes.length).toBeGreaterThan(20);
    expect(outcomes.filter((s) => s !== 200), logs.join("\n")).toEqual([]);
    console.log(`two replicas: ${outcomes.length} searches on b during the re-index through a, none failed; b served the new generation ${switchMs} ms after the job finished`);
  }, 400_000);
});

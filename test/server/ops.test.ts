/**
 * Operations against real servers: admin auth, re-index under query load with an atomic swap, a failing
 * build that leaves the old index serving, uploads (malformed, oversized, fake PDF),
 * metrics, graceful shutdown with a request in flight, corrupt or mismatched index on start, pick-up of
 * an index rebuilt by another process.
 */
import { cp, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { startFakeOpenAi } from "../helpers/fake-openai.js";
import { makePdf, SAMPLE_DOCS, tempDir, testConfig, writeCorpus } from "../helpers/fixtures.js";
import { getJson, postJson } from "../helpers/http.js";

const TOKEN = "s3cret-admin-token";
let corpus: { corpusDir: string; manifest: string };
let baseIndex: string;

/** A fresh copy of the corpus and the prebuilt index, so each scenario can change them freely. */
async function scenario(env: Record<string, string> = {}) {
  const corpusDir = await tempDir("corpus");
  await cp(corpus.corpusDir, corpusDir, { recursive: true });
  const indexDir = await tempDir("index");
  await cp(baseIndex, indexDir, { recursive: true });
  const dirs = { corpusDir, manifest: path.join(corpusDir, "test-manifest.json"), indexDir };
  return { dirs, config: testConfig(dirs, { ADMIN_TOKEN: TOKEN, ...env }) };
}

const servers: RunningServer[] = [];
async function serve(env: Record<string, string> = {}) {
  const s = await scenario(env);
  const server = await startServer(s.config);
  servers.push(server);
  return { ...s, server, base: server.url };
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function waitForJob(base: string, jobId: string, timeoutMs = 60_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const r = await getJson(base, `/v1/admin/reindex/${jobId}`, auth);
    if (r.body.status !== "running") return r.body;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`job ${jobId} did not finish in ${timeoutMs} ms`);
}

function upload(base: string, name: string, data: Buffer | string, type = "application/pdf", fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([typeof data === "string" ? data : new Uint8Array(data)], { type }), name);
  return fetch(`${base}/v1/admin/documents`, { method: "POST", headers: auth, body: form });
}

/** A PDF long enough that embedding it takes a moment (so a job is observably running). */
async function longPdf(topic: string, pages = 6): Promise<Buffer> {
  const words = "router expert capacity token load balance auxiliary loss sparse dense gate softmax shard device batch".split(" ");
  // Varied sentences: lines that repeat on every page would be cleaned away as running headers.
  const sentence = (i: number, j: number) =>
    `The ${words[(i * 7 + j) % words.length]} of the ${topic} uses ${words[(i + j * 3) % words.length]} ${words[(i * j + 5) % words.length]} number ${i * 31 + j * 17}.`;
  const text = (i: number) => `Gradient clipping keeps the ${topic} stable. ` + Array.from({ length: 14 }, (_, j) => sentence(i, j)).join(" ");
  return makePdf(Array.from({ length: pages }, (_, i) => text(i + 1)));
}

beforeAll(async () => {
  corpus = await writeCorpus(SAMPLE_DOCS);
  baseIndex = await tempDir("base-index");
  await ingestWithConfig(testConfig({ ...corpus, indexDir: baseIndex }));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe("admin authentication", () => {
  it("answers 403 ADMIN_DISABLED saying how to enable it when no token is configured", async () => {
    const { base } = await serve({ ADMIN_TOKEN: "" });
    const r = await postJson(base, "/v1/admin/reindex", {}, auth);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("ADMIN_DISABLED");
    expect(r.body.error.message).toContain("ADMIN_TOKEN");
  });

  it("answers 401 without a token, 403 with a wrong one, 202 with the right one", async () => {
    const { base } = await serve();
    const none = await postJson(base, "/v1/admin/reindex", {});
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("UNAUTHORIZED");
    const wrong = await postJson(base, "/v1/admin/reindex", {}, { authorization: "Bearer nope" });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe("FORBIDDEN");
    const ok = await postJson(base, "/v1/admin/reindex", {}, auth);
    expect(ok.status).toBe(202);
    expect(typeof ok.body.jobId).toBe("string");
    const job = await waitForJob(base, ok.body.jobId);
    expect(job.status).toBe("succeeded");
    expect(job.result.upToDate).toBe(true);
    expect((await getJson(base, "/v1/admin/reindex/no-such-job", auth)).status).toBe(404);
  });
});

describe("re-indexing while serving", () => {
  it("serves every query during a re-index and swaps the new index in", async () => {
    const { base } = await serve();
    const before = (await getJson(base, "/readyz")).body.generation;
    const up = await upload(base, "moe-notes.pdf", await longPdf("mixture of experts"));
    expect(up.status).toBe(202);
    const { jobId, document } = (await up.json()) as { jobId: string; document: { id: string } };
    expect(document.id).toBe("upload-moe-notes");

    // A second job while this one runs is refused.
    const conflict = await postJson(base, "/v1/admin/reindex", {}, auth);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe("REINDEX_RUNNING");

    // Query load until the job is done: 4 concurrent clients.
    let done = false;
    const statuses: number[] = [];
    const generations = new Set<string>();
    const client = async () => {
      while (!done) {
        const r = await postJson(base, "/v1/search", { query: "gradient clipping mixture of experts" });
        statuses.push(r.status);
        generations.add((await getJson(base, "/readyz")).body.generation);
      }
    };
    const load = Promise.all([client(), client(), client(), client()]);
    const job = await waitForJob(base, jobId);
    done = true;
    await load;

    expect(job.status).toBe("succeeded");
    expect(job.result.documents, JSON.stringify(job)).toBe(4);
    expect(statuses.length).toBeGreaterThan(4);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const after = (await getJson(base, "/readyz")).body.generation;
    expect(after).not.toBe(before);
    expect(generations.has(before)).toBe(true);
    const found = await postJson(base, "/v1/search", { query: "gradient clipping mixture of experts" });
    expect(found.body.results[0].docId).toBe("upload-moe-notes");

    // And remove it again.
    const del = await fetch(`${base}/v1/admin/documents/upload-moe-notes`, { method: "DELETE", headers: auth });
    expect(del.status).toBe(202);
    expect((await waitForJob(base, ((await del.json()) as { jobId: string }).jobId)).status).toBe("succeeded");
    const docs = (await getJson(base, "/v1/documents")).body.documents.map((d: { id: string }) => d.id);
    expect(docs).not.toContain("upload-moe-notes");
  });

  it("keeps the old index serving when the build fails, and reports the error in the job", async () => {
    const { base, dirs } = await serve();
    const before = (await getJson(base, "/readyz")).body.generation;
    await writeFile(dirs.manifest, "{ this is not json");
    const r = await postJson(base, "/v1/admin/reindex", {}, auth);
    const job = await waitForJob(base, r.body.jobId);
    expect(job.status).toBe("failed");
    expect(job.error).toMatch(/manifest/i);
    const ready = await getJson(base, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.generation).toBe(before);
    expect((await postJson(base, "/v1/search", { query: "Adam optimizer" })).status).toBe(200);
  });

  it("picks up an index rebuilt by another process (file watch)", async () => {
    const { base, config, dirs } = await serve({ WATCH_INDEX: "true" });
    const before = (await getJson(base, "/readyz")).body.generation;
    await writeFile(path.join(dirs.corpusDir, "ops.md"), "# Running LLMs in Production\n\n## Caching\n\nSemantic caching of prompts cuts latency and cost.\n");
    const manifest = JSON.parse(await readFile(dirs.manifest, "utf8"));
    manifest.documents.find((d: { id: string }) => d.id === "ops").sha256 = null;
    await writeFile(dirs.manifest, JSON.stringify(manifest));
    await ingestWithConfig(config);
    const until = Date.now() + 10_000;
    let generation = before;
    while (generation === before && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 100));
      generation = (await getJson(base, "/readyz")).body.generation;
    }
    expect(generation).not.toBe(before);
    const r = await postJson(base, "/v1/search", { query: "semantic caching of prompts" });
    expect(r.body.results[0].text).toContain("Semantic caching");
  });
});

describe("uploads", () => {
  it("refuses a non-PDF named .pdf, an oversized file and a malformed upload, and stores nothing", async () => {
    const { base, dirs } = await serve({ UPLOAD_LIMIT_MB: "1" });
    const filesBefore = (await readdir(dirs.corpusDir)).sort();

    const fake = await upload(base, "paper.pdf", "just some text, not a PDF");
    expect(fake.status).toBe(422);
    expect(((await fake.json()) as any).error.code).toBe("INVALID_DOCUMENT");

    const big = await upload(base, "big.pdf", Buffer.concat([Buffer.from("%PDF-1.4\n"), Buffer.alloc(2 * 1024 * 1024, 32)]));
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error.code).toBe("PAYLOAD_TOO_LARGE");

    const malformed = await fetch(`${base}/v1/admin/documents`, {
      method: "POST",
      headers: { ...auth, "content-type": "multipart/form-data; boundary=XYZ" },
      body: "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4 trunc",
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).error.code).toBe("VALIDATION_FAILED");

    const binary = await upload(base, "blob.bin", Buffer.from([0, 1, 2, 3, 255, 254]), "application/octet-stream");
    expect(binary.status).toBe(415);

    const noFile = await fetch(`${base}/v1/admin/documents`, { method: "POST", headers: auth, body: new FormData() });
    expect(noFile.status).toBe(400);

    expect((await readdir(dirs.corpusDir)).sort()).toEqual(filesBefore);
  });

  it("refuses a document id that exists", async () => {
    const { base } = await serve();
    const r = await upload(base, "notes.md", "# Notes\n\nSomething about attention.\n", "text/markdown", { id: "ops" });
    expect(r.status).toBe(409);
    expect(((await r.json()) as any).error.code).toBe("DOCUMENT_EXISTS");
  });
});

describe("metrics", () => {
  it("exposes Prometheus metrics for requests, answers, index and jobs", async () => {
    const { base } = await serve();
    await postJson(base, "/v1/ask", { question: "Which optimizer was used to train the Transformer?" });
    await postJson(base, "/v1/ask", { question: "What is the capital city of Australia?" });
    const job = await postJson(base, "/v1/admin/reindex", {}, auth);
    await waitForJob(base, job.body.jobId);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/v1\/ask",status="200"\} 2/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{.*route="\/v1\/ask"/);
    expect(text).toMatch(/rag_answers_total\{mode="extractive",grounded="true"\} 1/);
    expect(text).toMatch(/rag_answers_total\{mode="extractive",grounded="false"\} 1/);
    expect(text).toMatch(/rag_retrieval_duration_seconds_count \d+/);
    expect(text).toMatch(/rag_index_chunks [1-9]\d*/);
    expect(text).toMatch(/rag_index_documents 3/);
    expect(text).toMatch(/rag_reindex_jobs_total\{outcome="succeeded"\} 1/);
  });
});

describe("lifecycle", () => {
  it("drains a request in flight on shutdown, then refuses new connections", async () => {
    const llm = await startFakeOpenAi();
    try {
      llm.behaviour = { kind: "hang", ms: 700 };
      const { server, base } = await serve({ LLM_PROVIDER: "openai-compatible", LLM_BASE_URL: llm.url, LLM_MODEL: "m", LLM_TIMEOUT_MS: "5000", LLM_MAX_RETRIES: "0" });
      const inFlight = postJson(base, "/v1/ask", { question: "Which optimizer was used to train the Transformer?" });
      await new Promise((res) => setTimeout(res, 300));
      const closing = server.close();
      const r = await inFlight;
      expect(r.status).toBe(200);
      await closing;
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      await llm.close();
    }
  });

  it("refuses a corrupt index on start with the reason, and one built with another embedder", async () => {
    const corrupt = await scenario();
    const manifest = JSON.parse(await readFile(path.join(corrupt.dirs.indexDir, "manifest.json"), "utf8"));
    const chunksFile = path.join(corrupt.dirs.indexDir, manifest.generation, "chunks.json");
    await writeFile(chunksFile, (await readFile(chunksFile, "utf8")).replace("Adam", "Adan"));
    const s1 = await startServer(corrupt.config);
    servers.push(s1);
    const r1 = await getJson(s1.url, "/readyz");
    expect(r1.status).toBe(503);
    expect(r1.body.error.code).toBe("INDEX_INVALID");
    expect(r1.body.error.message).toMatch(/chunks\.json does not match its checksum/);

    const other = await scenario();
    const m2 = JSON.parse(await readFile(path.join(other.dirs.indexDir, "manifest.json"), "utf8"));
    m2.embedder = { id: "openai:text-embedding-3-small", dimensions: 1536 };
    await writeFile(path.join(other.dirs.indexDir, "manifest.json"), JSON.stringify(m2));
    const s2 = await startServer(other.config);
    servers.push(s2);
    const r2 = await getJson(s2.url, "/readyz");
    expect(r2.status).toBe(503);
    expect(r2.body.error.code).toBe("INDEX_INVALID");
    expect(r2.body.error.message).toMatch(/embedder openai:text-embedding-3-small .* but lsa1-128/);
  });
});

/** The HTTP contract against a real server on an ephemeral port, extractive mode, over a corpus the test makes. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOT_COVERED } from "../../src/answer/service.js";
import { loadPdf } from "../../src/ingest/pdf.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { SAMPLE_DOCS, indexedFixture, tempDir, testConfig } from "../helpers/fixtures.js";
import { getJson, postJson, postSse } from "../helpers/http.js";

let server: RunningServer;
let base: string;
let corpusDir: string;

beforeAll(async () => {
  const fixture = await indexedFixture();
  corpusDir = fixture.dirs.corpusDir;
  server = await startServer(fixture.config);
  base = server.url;
});

afterAll(async () => {
  await server?.close();
});

const fold = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();

describe("health", () => {
  it("reports liveness and readiness", async () => {
    expect((await getJson(base, "/healthz")).status).toBe(200);
    const ready = await getJson(base, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.ready).toBe(true);
  });
});

describe("POST /v1/search", () => {
  it("returns ranked passages with document, page, section, text and score", async () => {
    const r = await postJson(base, "/v1/search", { query: "Which optimizer was used to train the Transformer?" });
    expect(r.status).toBe(200);
    expect(r.body.query).toBe("Which optimizer was used to train the Transformer?");
    expect(typeof r.body.tookMs).toBe("number");
    expect(r.body.results.length).toBeGreaterThan(0);
    expect(r.body.results.length).toBeLessThanOrEqual(5);
    const top = r.body.results[0];
    expect(Object.keys(top).sort()).toEqual(["docId", "id", "page", "score", "section", "text", "title"]);
    expect(top.docId).toBe("transformer");
    expect(top.text).toContain("Adam");
    // The fixture's Adam sentence is on page 2; a chunk's page is the page it starts on.
    expect([1, 2]).toContain(top.page);
    const scores = r.body.results.map((x: { score: number }) => x.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("honours k and the document filter", async () => {
    const r = await postJson(base, "/v1/search", { query: "cost of a prediction", k: 2, docs: ["ops"] });
    expect(r.status).toBe(200);
    expect(r.body.results.length).toBeGreaterThan(0);
    expect(r.body.results.length).toBeLessThanOrEqual(2);
    for (const x of r.body.results) expect(x.docId).toBe("ops");
    expect(r.body.results[0].page).toBeNull();
  });

  it.each([
    ["query", { query: "   " }],
    ["query", { query: "x".repeat(2001) }],
    ["k", { query: "adam", k: 0 }],
    ["k", { query: "adam", k: 51 }],
    ["docs", { query: "adam", docs: "transformer" }],
    ["extra", { query: "adam", extra: true }],
    ["query", {}],
  ])("rejects a bad body with 400 VALIDATION_FAILED naming %s (case %#)", async (field, body) => {
    const r = await postJson(base, "/v1/search", body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("VALIDATION_FAILED");
    expect(r.body.error.message).toContain(field);
    expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it("rejects an unknown document id", async () => {
    const r = await postJson(base, "/v1/search", { query: "adam", docs: ["nope"] });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("UNKNOWN_DOCUMENT");
  });

  it("answers malformed JSON with 400 INVALID_JSON and an oversized body with 413", async () => {
    const bad = await postJson(base, "/v1/search", '{"query": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("INVALID_JSON");
    const big = await postJson(base, "/v1/search", { query: "a", pad: "x".repeat(200_000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("POST /v1/ask", () => {
  it("answers extractively with page citations, usage and timings", async () => {
    const r = await postJson(base, "/v1/ask", { question: "Which optimizer was used to train the Transformer?" });
    expect(r.status).toBe(200);
    const a = r.body;
    expect(a.grounded).toBe(true);
    expect(a.mode).toBe("extractive");
    expect(a.model).toBe("extractive");
    expect(a.promptVersion).toBe("qa-v1");
    expect(a.answer).toContain("Adam");
    expect(a.answer).toMatch(/\[\d+\]/);
    expect(a.answer.length).toBeLessThanOrEqual(650);
    expect(a.usage).toEqual({ promptTokens: 0, completionTokens: 0, costUsd: 0 });
    for (const key of ["retrievalMs", "generationMs", "totalMs"]) expect(typeof a.timings[key]).toBe("number");
    const c = a.citations.find((x: { cited: boolean }) => x.cited);
    expect(c).toBeDefined();
    for (const key of ["n", "id", "docId", "title", "page", "section", "url", "text", "score"]) expect(c).toHaveProperty(key);
    expect(c.docId).toBe("transformer");
    // The link opens the indexed copy this server serves at the page; the original is kept beside it.
    expect(c.url).toBe(`${base}/v1/documents/transformer/file#page=${c.page}`);
    expect(c.sourceUrl).toBe(`https://example.org/transformer.pdf#page=${c.page}`);
    // Every [n] in the answer points at a citation.
    for (const m of a.answer.matchAll(/\[(\d+)\]/g)) expect(a.citations.some((x: { n: number }) => x.n === Number(m[1]))).toBe(true);
  });

  it("cites pages that really hold the cited text", async () => {
    const r = await postJson(base, "/v1/ask", { question: "What loss does the reward predictor follow for pairwise preferences?" });
    expect(r.body.grounded).toBe(true);
    const pdfCitations = r.body.citations.filter((c: { page: number | null }) => c.page !== null);
    expect(pdfCitations.length).toBeGreaterThan(0);
    for (const c of pdfCitations) {
      const file = SAMPLE_DOCS.find((d) => d.id === c.docId)!.file;
      const doc = await loadPdf(await readFile(path.join(corpusDir, file)), file);
      const pageText = fold(doc.segments.filter((s) => s.page === c.page).map((s) => s.text).join(" "));
      const firstWords = fold(c.text).split(" ").slice(0, 8).join(" ");
      expect(pageText).toContain(firstWords);
    }
  });

  it("abstains on a question the documents do not cover", async () => {
    const r = await postJson(base, "/v1/ask", { question: "What is the capital city of Australia?" });
    expect(r.status).toBe(200);
    expect(r.body.grounded).toBe(false);
    expect(r.body.answer).toBe(NOT_COVERED);
    expect(r.body.citations.every((c: { cited: boolean }) => !c.cited)).toBe(true);
  });

  it("rewrites a follow-up question with the conversation", async () => {
    const r = await postJson(base, "/v1/ask", {
      question: "Over how many training steps?",
      history: [
        { role: "user", content: "Was the Transformer's learning rate warmed up?" },
        { role: "assistant", content: "It was warmed up [1]" },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.standaloneQuestion).toMatch(/learning rate/i);
    expect(r.body.answer).toMatch(/4000/);
  });

  it("rejects an unknown prompt version and bad history", async () => {
    const p = await postJson(base, "/v1/ask", { question: "adam?", promptVersion: "qa-v999" });
    expect(p.status).toBe(400);
    expect(p.body.error.code).toBe("UNKNOWN_PROMPT_VERSION");
    expect(p.body.error.message).toContain("qa-v1");
    const h = await postJson(base, "/v1/ask", { question: "adam?", history: [{ role: "system", content: "x" }] });
    expect(h.status).toBe(400);
    expect(h.body.error.message).toContain("history");
  });

  it("streams citations, then tokens, then done (stream: true)", async () => {
    const r = await postSse(base, "/v1/ask", { question: "Which optimizer was used to train the Transformer?", stream: true });
    expect(r.status).toBe(200);
    expect(r.contentType).toContain("text/event-stream");
    const names = r.events.map((e) => e.event);
    expect(names[0]).toBe("citations");
    expect(names.at(-1)).toBe("done");
    expect(names.slice(1, -1).length).toBeGreaterThan(0);
    expect(names.slice(1, -1).every((n) => n === "token")).toBe(true);
    const done = r.events.at(-1)!.data;
    expect(done.answer).toContain("Adam");
    expect(r.events.slice(1, -1).map((e) => e.data.delta).join("")).toBe(done.answer);
    expect(r.events[0]!.data.citations.length).toBe(done.citations.length);
  });

  it("streams when the client asks for text/event-stream", async () => {
    const r = await postSse(base, "/v1/ask", { question: "What is distillation?" }, { accept: "text/event-stream" });
    expect(r.contentType).toContain("text/event-stream");
    expect(r.events.at(-1)!.event).toBe("done");
  });
});

describe("GET /v1/documents and errors", () => {
  it("lists indexed documents with pages and chunks", async () => {
    const r = await getJson(base, "/v1/documents");
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.documents.map((d: { id: string }) => [d.id, d]));
    expect(Object.keys(byId).sort()).toEqual(["ops", "rlhf", "transformer"]);
    expect(byId.transformer.pages).toBe(3);
    expect(byId.ops.pages).toBeNull();
    expect(byId.transformer.chunks).toBeGreaterThan(0);
    expect(byId.transformer.url).toBe("https://example.org/transformer.pdf");
  });

  it("answers unknown routes with 404 NOT_FOUND as JSON", async () => {
    const r = await getJson(base, "/v1/nothing");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("NOT_FOUND");
  });

  it("returns the X-Request-Id it was given", async () => {
    const r = await getJson(base, "/healthz", { "x-request-id": "test-123" });
    expect(r.headers.get("x-request-id")).toBe("test-123");
  });
});

describe("without an index", () => {
  it("is live but not ready, and query routes answer 503 INDEX_NOT_READY", async () => {
    const empty = await startServer(testConfig({ corpusDir: await tempDir("c"), manifest: "unused.json", indexDir: await tempDir("empty") }));
    try {
      expect((await getJson(empty.url, "/healthz")).status).toBe(200);
      const ready = await getJson(empty.url, "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ ready: false, error: { code: "INDEX_MISSING", message: expect.stringMatching(/npm run ingest/) } });
      const s = await postJson(empty.url, "/v1/search", { query: "adam" });
      expect(s.status).toBe(503);
      expect(s.body.error.code).toBe("INDEX_NOT_READY");
    } finally {
      await empty.close();
    }
  });
});

/**
 * Serving under load: load shedding past MAX_IN_FLIGHT (503 OVERLOADED + Retry-After, what is counted
 * and for how long, the metrics), and rate limits that apply only where requests cost money.
 * The slow service is a model whose answers wait at a gate the test opens (test/helpers/gated-llm.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatModel } from "../../src/answer/llm.js";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.js";
import { SAMPLE_DOCS, tempDir, testConfig, writeCorpus } from "../helpers/fixtures.js";
import { gatedLlm } from "../helpers/gated-llm.js";
import { getJson, postJson } from "../helpers/http.js";

const TOKEN = "limits-admin-token";
const auth = { authorization: `Bearer ${TOKEN}` };
const question = "Which optimizer was used to train the Transformer?";

let dirs: { corpusDir: string; manifest: string; indexDir: string };
const servers: RunningServer[] = [];
let fakeOpenAi: FakeOpenAi;

beforeAll(async () => {
  const corpus = await writeCorpus(SAMPLE_DOCS);
  dirs = { ...corpus, indexDir: await tempDir("limits-index") };
  await ingestWithConfig(testConfig(dirs));
  fakeOpenAi = await startFakeOpenAi();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await fakeOpenAi?.close();
});

async function serve(env: Record<string, string | undefined>, llm?: ChatModel) {
  const server = await startServer(testConfig(dirs, { ADMIN_TOKEN: TOKEN, ...env }), llm ? { llm } : {});
  servers.push(server);
  return server.url;
}

async function metricsText(base: string): Promise<string> {
  return (await fetch(`${base}/metrics`)).text();
}

async function inFlight(base: string): Promise<number> {
  const m = /^http_requests_in_flight (\d+)$/m.exec(await metricsText(base));
  if (!m) throw new Error("no http_requests_in_flight gauge in /metrics");
  return Number(m[1]);
}

/** Polls the in-flight gauge until it reads `n` (the server sees a closed connection a moment after the client closes it). */
async function inFlightBecomes(base: string, n: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let now = await inFlight(base);
  while (now !== n && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    now = await inFlight(base);
  }
  expect(now).toBe(n);
}

function uploadMarkdown(base: string) {
  const form = new FormData();
  form.append("file", new Blob(["# Notes\n\nAttention is all you need.\n"], { type: "text/markdown" }), "notes.md");
  return fetch(`${base}/v1/admin/documents`, { method: "POST", headers: auth, body: form });
}

describe("load shedding (MAX_IN_FLIGHT)", () => {
  it("answers 503 OVERLOADED with Retry-After past the limit, counts it, and never sheds health, metrics or the web page", async () => {
    const llm = gatedLlm();
    const base = await serve({ MAX_IN_FLIGHT: "2" }, llm);
    const first = postJson(base, "/v1/ask", { question });
    const second = postJson(base, "/v1/ask", { question });
    await llm.reached(2);
    expect(await inFlight(base)).toBe(2);

    const search = await postJson(base, "/v1/search", { query: "adam optimizer" });
    expect(search.status).toBe(503);
    expect(search.headers.get("retry-after")).toBe("1");
    expect(search.body).toEqual({ error: { code: "OVERLOADED", message: expect.stringContaining("MAX_IN_FLIGHT") } });
    expect(search.body.error.message).toMatch(/retry after 1 s/);
    const ask = await postJson(base, "/v1/ask", { question });
    expect(ask.status).toBe(503);
    expect(ask.body.error.code).toBe("OVERLOADED");
    const upload = await uploadMarkdown(base);
    expect(upload.status).toBe(503);
    expect(((await upload.json()) as any).error.code).toBe("OVERLOADED");
    expect(llm.calls).toBe(2);

    for (const path of ["/healthz", "/readyz", "/metrics", "/", "/v1/documents", "/v1/prompts"]) {
      const r = await getJson(base, path);
      expect(r.status, path).toBe(200);
    }
    const job = await getJson(base, "/v1/admin/reindex/no-such-job", auth);
    expect(job.status).toBe(404);

    const text = await metricsText(base);
    expect(text).toMatch(/^http_requests_shed_total\{route="\/v1\/search"\} 1$/m);
    expect(text).toMatch(/^http_requests_shed_total\{route="\/v1\/ask"\} 1$/m);
    expect(text).toMatch(/^http_requests_shed_total\{route="\/v1\/admin\/documents"\} 1$/m);
    expect(text).toMatch(/^http_requests_total\{method="POST",route="\/v1\/search",status="503"\} 1$/m);

    llm.open();
    const answers = await Promise.all([first, second]);
    expect(answers.map((a) => [a.status, a.body.mode])).toEqual([
      [200, "llm"],
      [200, "llm"],
    ]);
    expect(await inFlight(base)).toBe(0);
    expect((await postJson(base, "/v1/search", { query: "adam optimizer" })).status).toBe(200);
  });

  it("matches the work routes as Express does: any case, trailing slash", async () => {
    const llm = gatedLlm();
    const base = await serve({ MAX_IN_FLIGHT: "1" }, llm);
    const pending = postJson(base, "/v1/ask", { question });
    await llm.reached(1);
    expect((await postJson(base, "/V1/Search/", { query: "adam" })).status).toBe(503);
    llm.open();
    expect((await pending).status).toBe(200);
    expect((await postJson(base, "/V1/Search/", { query: "adam" })).status).toBe(200);
  });

  it("counts a streamed answer until its stream ends", async () => {
    const llm = gatedLlm();
    const base = await serve({ MAX_IN_FLIGHT: "1" }, llm);
    const res = await fetch(`${base}/v1/ask`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question, stream: true }) });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("event: citations")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before its citations: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    // Headers and the first event are out, the answer is not: still in flight.
    expect(await inFlight(base)).toBe(1);
    expect((await postJson(base, "/v1/search", { query: "adam" })).status).toBe(503);

    llm.open();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true });
    expect(text).toContain("event: done");
    await inFlightBecomes(base, 0);
    expect((await postJson(base, "/v1/search", { query: "adam" })).status).toBe(200);
  });

  it("stops counting a request whose client went away, and requests that failed", async () => {
    const llm = gatedLlm();
    const base = await serve({ MAX_IN_FLIGHT: "1" }, llm);
    const abort = new AbortController();
    const abandoned = fetch(`${base}/v1/ask`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question }), signal: abort.signal });
    await llm.reached(1);
    expect(await inFlight(base)).toBe(1);
    abort.abort();
    await expect(abandoned).rejects.toThrow();
    await inFlightBecomes(base, 0);
    expect(llm.waiting).toBe(1); // the abandoned answer is still waiting for the model, but no longer counts

    // Errors of every kind end their request: the limit of 1 would shed the next one otherwise.
    const failures = [
      await postJson(base, "/v1/search", { query: "" }),
      await postJson(base, "/v1/search", "{not json"),
      await postJson(base, "/v1/search", { query: "x".repeat(200_000) }),
      await postJson(base, "/v1/ask", { question, docs: ["no-such-doc"] }),
    ];
    expect(failures.map((f) => [f.status, f.body.error.code])).toEqual([
      [400, "VALIDATION_FAILED"],
      [400, "INVALID_JSON"],
      [413, "PAYLOAD_TOO_LARGE"],
      [400, "UNKNOWN_DOCUMENT"],
    ]);
    expect(await inFlight(base)).toBe(0);
    expect((await postJson(base, "/v1/search", { query: "adam" })).status).toBe(200);
    llm.open();
  });

  it("refuses a bad MAX_IN_FLIGHT at start, naming the variable", () => {
    expect(() => testConfig(dirs, { MAX_IN_FLIGHT: "-1" })).toThrow(/MAX_IN_FLIGHT/);
    expect(() => testConfig(dirs, { MAX_IN_FLIGHT: "lots" })).toThrow(/MAX_IN_FLIGHT/);
  });

  it("never sheds with MAX_IN_FLIGHT=0, and still reports the requests in flight", async () => {
    const llm = gatedLlm();
    const base = await serve({ MAX_IN_FLIGHT: "0" }, llm);
    const pending = [1, 2, 3].map(() => postJson(base, "/v1/ask", { question }));
    await llm.reached(3);
    expect(await inFlight(base)).toBe(3);
    expect((await postJson(base, "/v1/search", { query: "adam" })).status).toBe(200);
    llm.open();
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await inFlight(base)).toBe(0);
    expect(await metricsText(base)).not.toMatch(/^http_requests_shed_total\{/m);
  });
});

describe("rate limits", () => {
  it("serves 300 extractive asks from one client under the default limit without a 429", async () => {
    const base = await serve({ RATE_LIMIT_PER_MINUTE: undefined, MAX_IN_FLIGHT: undefined, EXTRACTIVE_SEMANTIC_CANDIDATES: "0" });
    expect(servers.at(-1)!.service.config.http.rateLimitPerMinute).toBe(120);
    const statuses: number[] = [];
    const client = async (n: number) => {
      for (let i = 0; i < n; i++) statuses.push((await postJson(base, "/v1/ask", { question })).status);
    };
    await Promise.all([client(75), client(75), client(75), client(75)]);
    expect(statuses).toHaveLength(300);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it("limits /v1/ask per client when an LLM is configured: 429 RATE_LIMITED with the standard headers", async () => {
    fakeOpenAi.behaviour = { kind: "reply", text: "Adam [1]." };
    fakeOpenAi.requests.length = 0;
    const base = await serve({ RATE_LIMIT_PER_MINUTE: "3", LLM_PROVIDER: "openai-compatible", LLM_BASE_URL: fakeOpenAi.url, LLM_MODEL: "m", LLM_MAX_RETRIES: "0" });
    const asks = [];
    for (let i = 0; i < 4; i++) asks.push(await postJson(base, "/v1/ask", { question }));
    expect(asks.slice(0, 3).map((a) => [a.status, a.body.mode])).toEqual([
      [200, "llm"],
      [200, "llm"],
      [200, "llm"],
    ]);
    const refused = asks[3]!;
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("RATE_LIMITED");
    expect(refused.body.error.message).toContain("RATE_LIMIT_PER_MINUTE");
    expect(refused.headers.get("ratelimit-policy")).toMatch(/^"llm"; q=3; w=60; pk=/);
    expect(refused.headers.get("ratelimit")).toMatch(/^"llm"; r=0; t=\d+$/);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(fakeOpenAi.requests).toHaveLength(3); // the refused question never reached the model

    // Search costs nothing: not limited.
    for (let i = 0; i < 5; i++) expect((await postJson(base, "/v1/search", { query: "adam" })).status).toBe(200);
    expect((await getJson(base, "/healthz")).status).toBe(200);
  });

  it("limits the admin routes in extractive mode, and not the asks", async () => {
    const base = await serve({ RATE_LIMIT_PER_MINUTE: "2" });
    for (let i = 0; i < 5; i++) expect((await postJson(base, "/v1/ask", { question })).status).toBe(200);
    const admin = [];
    for (let i = 0; i < 3; i++) admin.push(await getJson(base, "/v1/admin/reindex/no-such-job", auth));
    expect(admin.map((r) => r.status)).toEqual([404, 404, 429]);
    expect(admin[2]!.body.error.code).toBe("RATE_LIMITED");
    expect(admin[2]!.headers.get("ratelimit-policy")).toMatch(/^"admin"; q=2; w=60;/);
  });

  it("API_RATE_LIMIT_PER_MINUTE caps every /v1 route, and nothing else", async () => {
    const base = await serve({ API_RATE_LIMIT_PER_MINUTE: "3" });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await postJson(base, "/v1/search", { query: "adam" })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const r = await getJson(base, "/v1/documents");
    expect(r.status).toBe(429);
    expect(r.body.error.message).toContain("API_RATE_LIMIT_PER_MINUTE");
    expect((await getJson(base, "/healthz")).status).toBe(200);
    expect((await getJson(base, "/metrics")).status).toBe(200);
  });

  it("refuses a bad rate limit at start, naming the variable", () => {
    expect(() => testConfig(dirs, { API_RATE_LIMIT_PER_MINUTE: "1.5" })).toThrow(/API_RATE_LIMIT_PER_MINUTE/);
    expect(() => testConfig(dirs, { RATE_LIMIT_PER_MINUTE: "-5" })).toThrow(/RATE_LIMIT_PER_MINUTE/);
  });
});

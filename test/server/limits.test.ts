/**
 * Serving under load: load shedding past MAX_IN_FLIGHT (503 OVERLOADED + Retry-After, what is counted
 * and for how long, the metrics) and past MAX_EVENT_LOOP_DELAY_MS, and rate limits that apply only
 * where requests cost money. The slow services: a model whose answers wait at a gate the test opens
 * (test/helpers/gated-llm.ts), and query embedding that holds the main thread.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatModel } from "../../src/answer/llm.js";
import { createEmbedder, type Embedder } from "../../src/embed/index.js";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { eventLoopBusyMs } from "../../src/server/loop-delay.js";
import type { ServiceOptions } from "../../src/service/index.js";
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

async function serve(env: Record<string, string | undefined>, llm?: ChatModel, opts: ServiceOptions = {}) {
  // Repeated questions here must reach the model each time: no answer cache (it has its own tests, llmops.test.ts).
  const server = await startServer(testConfig(dirs, { ADMIN_TOKEN: TOKEN, ANSWER_CACHE_SIZE: "0", ...env }), { ...(llm ? { llm } : {}), ...opts });
  servers.push(server);
  return server;
}

/** Keeps the thread busy: what CPU work on the main thread does to the event loop. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** The real embedder, with query embedding made slow and synchronous: a search that holds the event loop for `ms`. */
function slowQueries(ms: number, real: Embedder = createEmbedder(testConfig(dirs))): Embedder {
  return {
    id: real.id,
    dimensions: real.dimensions,
    embedDocuments: (texts, onProgress) => real.embedDocuments(texts, onProgress),
    embedQuery: (text) => {
      busy(ms);
      return real.embedQuery(text);
    },
    close: () => real.close(),
    // The default embedder (LSA) is fitted per index: the slow wrapper must follow it into the index's space.
    ...(real.withModel ? { withModel: (model: Uint8Array) => slowQueries(ms, real.withModel!(model)) } : {}),
  };
}

/**
 * Sends raw HTTP requests to the server, one connection each, all written in one synchronous block
 * once the server has accepted every connection (as with keep-alive clients): every request is in
 * the server's socket buffers before its event loop runs again. Resolves to each status and body.
 */
async function sendAtOnce(server: RunningServer, bodies: unknown[]): Promise<{ status: number; body: any }[]> {
  let accepted = 0;
  const onConnection = () => accepted++;
  server.server.on("connection", onConnection);
  const sockets = await Promise.all(
    bodies.map(
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(server.port, "127.0.0.1", () => resolve(s));
          s.once("error", reject);
        }),
    ),
  );
  while (accepted < sockets.length) await new Promise((r) => setTimeout(r, 5));
  server.server.off("connection", onConnection);
  const replies = sockets.map(
    (s) =>
      new Promise<string>((resolve) => {
        let text = "";
        s.on("data", (d: Buffer) => (text += d.toString()));
        s.on("end", () => resolve(text));
      }),
  );
  // One synchronous block: every request reaches the server's socket buffers before its loop runs again.
  sockets.forEach((s, i) => {
    const body = JSON.stringify(bodies[i]);
    s.write(`POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  return (await Promise.all(replies)).map((raw) => {
    const [head, ...rest] = raw.split("\r\n\r\n");
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head ?? "")?.[1]), body: JSON.parse(rest.join("\r\n\r\n") || "null") };
  });
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
    const { url: base } = await serve({ MAX_IN_FLIGHT: "2" }, llm);
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
    expect(text).toMatch(/^http_requests_shed_total\{route="\/v1\/search",reason="in_flight"\} 1$/m);
    expect(text).toMatch(/^http_requests_shed_total\{route="\/v1\/ask",reason="in_flight"\} 1$/m);
    expect(text).toMatch(/^http_requests_shed_total\{route="\/v1\/admin\/documents",reason="in_flight"\} 1$/m);
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
    const { url: base } = await serve({ MAX_IN_FLIGHT: "1" }, llm);
    const pending = postJson(base, "/v1/ask", { question });
    await llm.reached(1);
    expect((await postJson(base, "/V1/Search/", { query: "adam" })).status).toBe(503);
    llm.open();
    expect((await pending).status).toBe(200);
    expect((await postJson(base, "/V1/Search/", { query: "adam" })).status).toBe(200);
  });

  it("counts a streamed answer until its stream ends", async () => {
    const llm = gatedLlm();
    const { url: base } = await serve({ MAX_IN_FLIGHT: "1" }, llm);
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
    const { url: base } = await serve({ MAX_IN_FLIGHT: "1" }, llm);
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
    const { url: base } = await serve({ MAX_IN_FLIGHT: "0" }, llm);
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

describe("load shedding (MAX_EVENT_LOOP_DELAY_MS)", () => {
  it("measures how long the event loop has been busy without a break", async () => {
    eventLoopBusyMs();
    await new Promise((r) => setTimeout(r, 50));
    expect(eventLoopBusyMs()).toBeLessThan(30);
    busy(300);
    expect(eventLoopBusyMs()).toBeGreaterThanOrEqual(250);
    await new Promise((r) => setTimeout(r, 50));
    expect(eventLoopBusyMs()).toBeLessThan(30);
  });

  it("sheds requests that wait behind work on the main thread, not a client sending one request at a time", async () => {
    const server = await serve({ MAX_EVENT_LOOP_DELAY_MS: "100", MAX_IN_FLIGHT: "0" }, undefined, { embedder: slowQueries(150) });
    const base = server.url;

    // One client, one request at a time: each search holds the loop for 150 ms, but none waits for another.
    for (let i = 0; i < 4; i++) expect((await postJson(base, "/v1/search", { query: "adam optimizer" })).status).toBe(200);

    // Four at once: the first is served; the others would wait 150, 300, 450 ms for the main thread.
    const replies = await sendAtOnce(server, [1, 2, 3, 4].map(() => ({ query: "adam optimizer" })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 503, 503, 503]);
    const shed = replies.find((r) => r.status === 503)!;
    expect(shed.body.error.code).toBe("OVERLOADED");
    expect(shed.body.error.message).toContain("MAX_EVENT_LOOP_DELAY_MS=100");
    expect(await metricsText(base)).toMatch(/^http_requests_shed_total\{route="\/v1\/search",reason="event_loop_delay"\} 3$/m);
    expect(await inFlight(base)).toBe(0);
  });

  it("serves them all with MAX_EVENT_LOOP_DELAY_MS=0", async () => {
    const server = await serve({ MAX_EVENT_LOOP_DELAY_MS: "0", MAX_IN_FLIGHT: "0" }, undefined, { embedder: slowQueries(150) });
    const replies = await sendAtOnce(server, [1, 2, 3, 4].map(() => ({ query: "adam optimizer" })));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });
});

describe("rate limits", () => {
  it("serves 300 extractive asks from one client under the default limit without a 429", async () => {
    const server = await serve({ RATE_LIMIT_PER_MINUTE: undefined });
    const base = server.url;
    expect(server.service.config.http.rateLimitPerMinute).toBe(120);
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
    const { url: base } = await serve({ RATE_LIMIT_PER_MINUTE: "3", LLM_PROVIDER: "openai-compatible", LLM_BASE_URL: fakeOpenAi.url, LLM_MODEL: "m", LLM_MAX_RETRIES: "0" });
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

  it("counts /v1/ask, /v1/chat/completions and MCP's ask_papers as one LLM limit; other MCP calls are free", async () => {
    fakeOpenAi.behaviour = { kind: "reply", text: "Adam [1]." };
    const { url: base } = await serve({ RATE_LIMIT_PER_MINUTE: "3", LLM_PROVIDER: "openai-compatible", LLM_BASE_URL: fakeOpenAi.url, LLM_MODEL: "m", LLM_MAX_RETRIES: "0" });
    const chat = { model: "llmops-qa", messages: [{ role: "user", content: question }] };
    const mcp = (id: number, method: string, params: object = {}) =>
      postJson(base, "/mcp", { jsonrpc: "2.0", id, method, params }, { accept: "application/json, text/event-stream" });
    const init = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } };
    // MCP's handshake, listings and searches do not count, however many.
    for (let i = 0; i < 5; i++) expect((await mcp(i, "initialize", init)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await mcp(10 + i, "tools/list")).status).toBe(200);
    expect((await mcp(20, "tools/call", { name: "search_papers", arguments: { query: "adam" } })).status).toBe(200);

    expect((await postJson(base, "/v1/ask", { question })).status).toBe(200);
    expect((await postJson(base, "/v1/chat/completions", chat)).status).toBe(200);
    const asked = await mcp(30, "tools/call", { name: "ask_papers", arguments: { question } });
    expect(asked.status).toBe(200);
    expect(asked.body.result.structuredContent.mode).toBe("llm");
    // The fourth answer, whichever way, is refused; the chat route in OpenAI's error shape.
    const refused = await postJson(base, "/v1/chat/completions", chat);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect((await mcp(31, "tools/call", { name: "ask_papers", arguments: { question } })).status).toBe(429);
    expect((await postJson(base, "/v1/ask", { question })).status).toBe(429);
    expect((await mcp(32, "tools/list")).status).toBe(200);
  });

  it("limits the admin routes in extractive mode, and not the asks", async () => {
    const { url: base } = await serve({ RATE_LIMIT_PER_MINUTE: "2" });
    for (let i = 0; i < 5; i++) expect((await postJson(base, "/v1/ask", { question })).status).toBe(200);
    const admin = [];
    for (let i = 0; i < 3; i++) admin.push(await getJson(base, "/v1/admin/reindex/no-such-job", auth));
    expect(admin.map((r) => r.status)).toEqual([404, 404, 429]);
    expect(admin[2]!.body.error.code).toBe("RATE_LIMITED");
    expect(admin[2]!.headers.get("ratelimit-policy")).toMatch(/^"admin"; q=2; w=60;/);
  });

  it("API_RATE_LIMIT_PER_MINUTE caps every /v1 route, and nothing else", async () => {
    const { url: base } = await serve({ API_RATE_LIMIT_PER_MINUTE: "3" });
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

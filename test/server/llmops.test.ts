/**
 * LLMOps against a local OpenAI-compatible stand-in (test/helpers/fake-openai.ts): the answer cache,
 * checked citations, feedback, prompt rollouts, and OpenTelemetry traces (an in-memory exporter, and a
 * loopback OTLP/HTTP receiver in http/json and http/protobuf).
 */
import { readFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/index.js";
import { feedbackSet } from "../../src/eval/feedback.js";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { createLogger } from "../../src/server/logging.js";
import { askResponse } from "../../src/server/schemas.js";
import { JsonlFeedbackStore } from "../../src/service/index.js";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.js";
import { SAMPLE_DOCS, tempDir, testConfig, writeCorpus } from "../helpers/fixtures.js";
import { getJson, postJson, postSse } from "../helpers/http.js";
import { startOtlpReceiver } from "../helpers/otlp-receiver.js";

let llm: FakeOpenAi;
let dirs: { corpusDir: string; manifest: string; indexDir: string };
const running: RunningServer[] = [];

const LLM_ENV = {
  LLM_PROVIDER: "openai-compatible",
  LLM_MODEL: "test-model",
  LLM_TIMEOUT_MS: "2000",
  LLM_MAX_RETRIES: "0",
  PRICE_TABLE: JSON.stringify({ "test-model": { input: 1, output: 2 } }),
};
const config = (env: Record<string, string | undefined> = {}): Config => testConfig(dirs, { ...LLM_ENV, LLM_BASE_URL: llm.url, ...env });
async function serve(env: Record<string, string | undefined> = {}, opts: Parameters<typeof startServer>[1] = {}) {
  const s = await startServer(config(env), opts);
  running.push(s);
  return s;
}

beforeAll(async () => {
  llm = await startFakeOpenAi();
  dirs = { ...(await writeCorpus(SAMPLE_DOCS)), indexDir: await tempDir("index") };
  await ingestWithConfig(config());
});

afterEach(async () => {
  while (running.length) await running.pop()!.close();
});

afterAll(async () => {
  await llm?.close();
});

const FAITHFUL = "The Transformer was trained with the Adam optimizer [1].";
beforeEach(() => {
  llm.requests.length = 0;
  llm.behaviour = { kind: "reply", text: FAITHFUL, promptTokens: 300, completionTokens: 12 };
});

const question = "Which optimizer was used to train the Transformer?";
const metricsOf = async (s: RunningServer) => (await getJson(s.url, "/metrics")).body as string;

describe("answer cache", () => {
  it("serves a repeated question from the cache without a second LLM call, and counts the tokens saved", async () => {
    const s = await serve();
    const first = await postJson(s.url, "/v1/ask", { question });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("miss");
    expect(first.body.cached).toBe(false);
    expect(llm.requests).toHaveLength(1);

    // The same question, differently spelled (case, spacing, closing punctuation): the same key.
    const again = await postJson(s.url, "/v1/ask", { question: "  which OPTIMIZER was used to train the   Transformer " });
    expect(again.status).toBe(200);
    expect(again.headers.get("x-cache")).toBe("hit");
    expect(again.body.cached).toBe(true);
    expect(again.body.answer).toBe(first.body.answer);
    expect(again.body.answerId).not.toBe(first.body.answerId);
    expect(again.body.usage).toEqual({ promptTokens: 0, completionTokens: 0, costUsd: 0 });
    expect(again.body.savedUsage).toEqual(first.body.usage);
    expect(llm.requests).toHaveLength(1);
    expect(() => askResponse.parse(again.body)).not.toThrow();
    expect(() => askResponse.parse(first.body)).not.toThrow();

    // Another document scope is another key; cache: false neither reads nor fills it.
    const scoped = await postJson(s.url, "/v1/ask", { question, docs: ["transformer"] });
    expect(scoped.headers.get("x-cache")).toBe("miss");
    expect(llm.requests).toHaveLength(2);
    const bypass = await postJson(s.url, "/v1/ask", { question, cache: false });
    expect(bypass.body.cached).toBe(false);
    expect(llm.requests).toHaveLength(3);

    const m = await metricsOf(s);
    expect(m).toMatch(/rag_cache_hits_total 1\b/);
    expect(m).toMatch(/rag_cache_misses_total 2\b/);
    expect(m).toMatch(/rag_cache_tokens_saved_total\{model="test-model",kind="prompt"\} 300/);
    expect(m).toMatch(/rag_cache_tokens_saved_total\{model="test-model",kind="completion"\} 12/);
    expect(m).toMatch(/rag_answers_total\{mode="llm",grounded="true",prompt_version="qa-v1",cached="true"\} 1/);
  });

  it("a streamed repeat is served from the cache too, and another prompt version is another key", async () => {
    const s = await serve();
    await postJson(s.url, "/v1/ask", { question });
    const streamed = await postSse(s.url, "/v1/ask", { question, stream: true });
    const done = streamed.events.at(-1)!;
    expect(done.event).toBe("done");
    expect(done.data.cached).toBe(true);
    expect(streamed.events.filter((e) => e.event === "token").map((e) => e.data.delta).join("")).toBe(FAITHFUL);
    expect(llm.requests).toHaveLength(1);
    const v2 = await postJson(s.url, "/v1/ask", { question, promptVersion: "qa-v2" });
    expect(v2.body.cached).toBe(false);
    expect(v2.body.promptVersion).toBe("qa-v2");
    expect(llm.requests).toHaveLength(2);
  });

  it("an index swap (re-index) invalidates: the same question reaches the model again", async () => {
    const auth = { authorization: "Bearer t0ken-for-tests" };
    const s = await serve({ ADMIN_TOKEN: "t0ken-for-tests" });
    const before = (await getJson(s.url, "/readyz")).body.generation;
    await postJson(s.url, "/v1/ask", { question });
    expect((await postJson(s.url, "/v1/ask", { question })).body.cached).toBe(true);
    const job = await postJson(s.url, "/v1/admin/reindex", { force: true }, auth);
    expect(job.status).toBe(202);
    const until = Date.now() + 60_000;
    let status = "running";
    while (status === "running" && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await getJson(s.url, `/v1/admin/reindex/${job.body.jobId}`, auth)).body.status;
    }
    expect(status).toBe("succeeded");
    expect((await getJson(s.url, "/readyz")).body.generation).not.toBe(before);
    const after = await postJson(s.url, "/v1/ask", { question });
    expect(after.headers.get("x-cache")).toBe("miss");
    expect(llm.requests).toHaveLength(2);
  });

  it("is off with ANSWER_CACHE_SIZE=0: every ask calls the model", async () => {
    const s = await serve({ ANSWER_CACHE_SIZE: "0" });
    await postJson(s.url, "/v1/ask", { question });
    const r = await postJson(s.url, "/v1/ask", { question });
    expect(r.body.cached).toBe(false);
    expect(llm.requests).toHaveLength(2);
  });
});

describe("checked citations", () => {
  /** The passages the model is shown for the question: the one with the Adam sentence, the one with the warmup steps (maybe the same), and one about something else. */
  async function passages(s: RunningServer) {
    llm.behaviour = { kind: "reply", text: "placeholder" };
    const r = await postJson(s.url, "/v1/ask", { question, cache: false });
    const adam = r.body.citations.find((c: { text: string }) => /Adam optimizer/.test(c.text));
    const warm = r.body.citations.find((c: { text: string }) => /4000 steps/.test(c.text));
    const other = r.body.citations.find((c: { text: string }) => !/Adam|Transformer/.test(c.text));
    expect(adam, "a passage with the Adam sentence").toBeDefined();
    expect(warm, "a passage with the warmup steps").toBeDefined();
    expect(other, "a passage without them").toBeDefined();
    return { adam: adam.n as number, warm: warm.n as number, other: other.n as number };
  }
  const ask = async (s: RunningServer, text: string) => {
    llm.behaviour = { kind: "reply", text, promptTokens: 300, completionTokens: 20 };
    const r = await postJson(s.url, "/v1/ask", { question, cache: false });
    expect(r.status).toBe(200);
    expect(r.body.mode).toBe("llm");
    return r.body;
  };

  it("supports a faithful answer and flags a fabricated number, a wrong citation and a sentence with no citation", async () => {
    const s = await serve();
    const { adam, warm, other } = await passages(s);

    const faithful = await ask(s, `The Transformer was trained with the Adam optimizer [${adam}]. Its learning rate was warmed up over the first 4,000 steps [${warm}].`);
    expect(faithful.verification).toEqual({ checked: 2, supported: 2, unsupported: [], action: "flag" });

    const fabricated = await ask(s, `The Transformer was trained with the Adam optimizer [${adam}]. Its learning rate was warmed up over the first 8000 steps [${warm}].`);
    expect(fabricated.verification.checked).toBe(2);
    expect(fabricated.verification.supported).toBe(1);
    expect(fabricated.verification.unsupported).toEqual([
      { sentence: `Its learning rate was warmed up over the first 8000 steps [${warm}].`, cited: [warm], reason: expect.stringMatching(/number 8000/) },
    ]);
    // flag: the answer is returned as the model wrote it.
    expect(fabricated.answer).toContain("8000 steps");

    const wrongCitation = await ask(s, `The Transformer was trained with the Adam optimizer [${other}].`);
    expect(wrongCitation.verification.unsupported).toHaveLength(1);
    expect(wrongCitation.verification.unsupported[0].cited).toEqual([other]);

    const uncited = await ask(s, `The Transformer was trained with the Adam optimizer [${adam}]. It was the best model of its year.`);
    expect(uncited.verification.unsupported).toEqual([{ sentence: "It was the best model of its year.", cited: [], reason: "no citation" }]);

    // The abstention sentence is not a claim.
    const declined = await ask(s, "The documents do not cover this.");
    expect(declined.verification?.unsupported ?? []).toEqual([]);

    const m = await metricsOf(s);
    // Checked: "placeholder" 1, faithful 2, fabricated 2, wrong citation 1, uncited 2, declined 0;
    // unsupported: "placeholder" (no citation), the 8000, the wrong citation, the uncited sentence.
    expect(m).toMatch(/rag_verified_sentences_total\{prompt_version="qa-v1"\} 8\n/);
    expect(m).toMatch(/rag_unsupported_sentences_total\{prompt_version="qa-v1"\} 4\n/);
  });

  it("VERIFY_ACTION=drop removes the unsupported sentences; abstain declines", async () => {
    const fabricated = ({ adam, warm }: { adam: number; warm: number }) =>
      `The Transformer was trained with the Adam optimizer [${adam}]. Its learning rate was warmed up over the first 8000 steps [${warm}].`;
    const drop = await serve({ VERIFY_ACTION: "drop" });
    const found = await passages(drop);
    const { adam } = found;
    const dropped = await ask(drop, fabricated(found));
    expect(dropped.answer).toBe(`The Transformer was trained with the Adam optimizer [${adam}].`);
    expect(dropped.grounded).toBe(true);
    expect(dropped.verification.action).toBe("drop");
    await drop.close();
    running.length = 0;

    const abstain = await serve({ VERIFY_ACTION: "abstain" });
    const declined = await ask(abstain, fabricated(found));
    expect(declined.answer).toBe("The documents do not cover this.");
    expect(declined.grounded).toBe(false);
    expect(declined.verification.unsupported).toHaveLength(1);
  });
});

describe("feedback", () => {
  it("stores a rating with the answer it rates (JSONL), counts it, and turns it into a regression item", async () => {
    const s = await serve();
    const a = await postJson(s.url, "/v1/ask", { question });
    const r = await postJson(s.url, "/v1/feedback", { answerId: a.body.answerId, rating: "down", comment: "should mention beta2", expected: "Adam" });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ answerId: a.body.answerId, rating: "down", promptVersion: "qa-v1" });

    const file = `${dirs.indexDir}-data/feedback.jsonl`;
    const lines = (await readFile(file, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    const mine = lines.filter((l) => l.answerId === a.body.answerId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ rating: "down", expected: "Adam", question, answer: FAITHFUL, model: "test-model", promptVersion: "qa-v1", cited: [{ docId: "transformer" }] });

    const set = feedbackSet(await new JsonlFeedbackStore(file).all());
    const item = set.items.find((i) => i.id === `fb-${a.body.answerId.slice(0, 8)}`);
    expect(item).toMatchObject({ question, answers: ["Adam"], kind: "feedback" });

    expect(await metricsOf(s)).toMatch(/rag_feedback_total\{rating="down",prompt_version="qa-v1"\} 1/);
  });

  it("refuses feedback on an answer it never gave (404 UNKNOWN_ANSWER) and a bad rating (400)", async () => {
    const s = await serve();
    const unknown = await postJson(s.url, "/v1/feedback", { answerId: "00000000-0000-4000-8000-000000000000", rating: "up" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("UNKNOWN_ANSWER");
    const a = await postJson(s.url, "/v1/ask", { question });
    const bad = await postJson(s.url, "/v1/feedback", { answerId: a.body.answerId, rating: "meh" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
  });
});

describe("prompt rollouts", () => {
  it("PROMPT_ROLLOUT sends a sticky share of conversations to another prompt version, labelled in the answer and metrics", async () => {
    const s = await serve({ PROMPT_ROLLOUT: "qa-v2:50", ANSWER_CACHE_SIZE: "0" });
    const versions = new Map<string, string>();
    for (let i = 0; i < 12; i++) {
      const r = await postJson(s.url, "/v1/ask", { question, conversationId: `conv-${i}` });
      expect(r.status).toBe(200);
      expect(r.body.promptAssignment).toBe(r.body.promptVersion === "qa-v2" ? "rollout" : "default");
      versions.set(`conv-${i}`, r.body.promptVersion);
    }
    expect(new Set(versions.values())).toEqual(new Set(["qa-v1", "qa-v2"]));
    // Sticky: asking again in a conversation gets its version again.
    for (const [conv, version] of [...versions].slice(0, 4)) expect((await postJson(s.url, "/v1/ask", { question, conversationId: conv })).body.promptVersion).toBe(version);
    // A request naming a version gets that one.
    const named = await postJson(s.url, "/v1/ask", { question, promptVersion: "qa-v1", conversationId: [...versions].find(([, v]) => v === "qa-v2")![0] });
    expect(named.body).toMatchObject({ promptVersion: "qa-v1", promptAssignment: "requested" });
    const m = await metricsOf(s);
    expect(m).toMatch(/rag_answers_total\{mode="llm",grounded="true",prompt_version="qa-v2",cached="false"\} [1-9]/);
  });
});

describe("traces", () => {
  it("exports the request's spans (in-memory exporter) with GenAI attributes on the LLM span, traceparent and the trace id in the log", async () => {
    const exporter = new InMemorySpanExporter();
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).trim().split("\n")), cb()) });
    const s = await serve({ LOG_LEVEL: "info" }, { spanExporter: exporter, logger: createLogger("info", sink as any) });
    const r = await postJson(s.url, "/v1/ask", { question, history: [{ role: "user", content: "Tell me about the Transformer." }, { role: "assistant", content: "It uses attention [1]." }] });
    expect(r.status).toBe(200);
    const traceparent = r.headers.get("traceparent");
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = traceparent!.split("-")[1]!;

    await new Promise((res) => setTimeout(res, 50));
    const spans = exporter.getFinishedSpans().filter((sp) => sp.spanContext().traceId === traceId);
    const names = spans.map((sp) => sp.name);
    for (const n of ["POST /v1/ask", "qa.ask", "qa.rewrite", "qa.retrieve", "retrieval.lexical", "retrieval.dense", "retrieval.fusion", "retrieval.rerank", "qa.read", "qa.verify", "chat test-model"])
      expect(names, n).toContain(n);
    const chats = spans.filter((sp) => sp.name === "chat test-model");
    // The follow-up rewrite and the answer: two model calls, each its own span.
    expect(chats.map((c) => c.attributes["qa.llm.purpose"]).sort()).toEqual(["answer", "rewrite"]);
    const answer = chats.find((c) => c.attributes["qa.llm.purpose"] === "answer")!;
    expect(answer.attributes).toMatchObject({
      "gen_ai.request.model": "test-model",
      "gen_ai.usage.input_tokens": 300,
      "gen_ai.usage.output_tokens": 12,
      "gen_ai.response.finish_reasons": ["stop"],
      "qa.prompt.version": "qa-v1",
    });
    const generation = (await getJson(s.url, "/readyz")).body.generation;
    expect(answer.attributes["qa.index.generation"]).toBe(generation);
    expect(answer.attributes["qa.index.generation"]).toMatch(/^gen-/);
    // Parents: the LLM span sits under the ask span, under the HTTP span.
    const byId = new Map(spans.map((sp) => [sp.spanContext().spanId, sp]));
    const parentName = (sp: (typeof spans)[number]) => byId.get(sp.parentSpanContext?.spanId ?? "")?.name;
    expect(parentName(answer)).toBe("qa.ask");
    expect(parentName(spans.find((sp) => sp.name === "qa.ask")!)).toBe("POST /v1/ask");
    expect(spans.find((sp) => sp.name === "POST /v1/ask")!.attributes["http.response.status_code"]).toBe(200);

    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "answer");
    expect(logged.at(-1)?.traceId).toBe(traceId);
  });

  it("a streamed answer's LLM span has the usage and finish reason too", async () => {
    const exporter = new InMemorySpanExporter();
    const s = await serve({}, { spanExporter: exporter });
    const r = await postSse(s.url, "/v1/ask", { question, stream: true });
    expect(r.events.at(-1)!.event).toBe("done");
    await new Promise((res) => setTimeout(res, 50));
    const chat = exporter.getFinishedSpans().find((sp) => sp.name === "chat test-model");
    expect(chat?.attributes).toMatchObject({ "gen_ai.usage.input_tokens": 300, "gen_ai.usage.output_tokens": 12, "gen_ai.response.finish_reasons": ["stop"], "qa.usage.source": "server" });
  });

  it("continues the caller's trace from its traceparent header", async () => {
    const exporter = new InMemorySpanExporter();
    const s = await serve({}, { spanExporter: exporter });
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const r = await postJson(s.url, "/v1/search", { query: "Adam optimizer" }, { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` });
    expect(r.status).toBe(200);
    expect(r.headers.get("traceparent")).toMatch(new RegExp(`^00-${callerTrace}-`));
    await new Promise((res) => setTimeout(res, 50));
    expect(exporter.getFinishedSpans().some((sp) => sp.spanContext().traceId === callerTrace && sp.name === "POST /v1/search")).toBe(true);
  });

  for (const protocol of ["http/json", "http/protobuf"] as const)
    it(`reaches a loopback OTLP/HTTP receiver over ${protocol} with the GenAI attributes`, async () => {
      const receiver = await startOtlpReceiver();
      try {
        const s = await serve({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: "qa-under-test" });
        const r = await postJson(s.url, "/v1/ask", { question });
        const traceId = r.headers.get("traceparent")!.split("-")[1]!;
        await s.close(); // flushes the batch
        const spans = await receiver.waitFor((all) => all.some((sp) => sp.traceId === traceId && sp.name === "chat test-model"));
        expect(receiver.contentTypes[0]).toContain(protocol === "http/json" ? "application/json" : "application/x-protobuf");
        const chat = spans.find((sp) => sp.traceId === traceId && sp.name === "chat test-model")!;
        expect(chat.service).toBe("qa-under-test");
        expect(chat.kind).toBe(3); // SPAN_KIND_CLIENT
        expect(chat.attributes).toMatchObject({
          "gen_ai.request.model": "test-model",
          "gen_ai.usage.input_tokens": 300,
          "gen_ai.usage.output_tokens": 12,
          "gen_ai.response.finish_reasons": ["stop"],
          "qa.prompt.version": "qa-v1",
        });
        expect(spans.filter((sp) => sp.traceId === traceId).map((sp) => sp.name)).toEqual(expect.arrayContaining(["POST /v1/ask", "qa.retrieve", "qa.verify"]));
      } finally {
        await receiver.close();
      }
    });

  it("tracing off (no endpoint): no traceparent header, no trace id in the log", async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).trim().split("\n")), cb()) });
    const s = await serve({ LOG_LEVEL: "info" }, { logger: createLogger("info", sink as any) });
    const r = await postJson(s.url, "/v1/ask", { question });
    expect(r.status).toBe(200);
    expect(r.headers.get("traceparent")).toBeNull();
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "answer");
    expect(logged).toHaveLength(1);
    expect(logged[0].traceId).toBeUndefined();
  });
});

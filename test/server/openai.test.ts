/**
 * The OpenAI-compatible API against real servers on ephemeral loopback ports, through the clients people
 * use: the official `openai` npm client and LangChain's ChatOpenAI pointed at the service. Extractive
 * (plain, streaming with usage, a follow-up, refusals in OpenAI's error shape) and LLM mode (temperature
 * and max_tokens reach the upstream model, a local fake OpenAI server).
 */
import { ChatOpenAI } from "@langchain/openai";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
// "openai-client" is npm:openai@7 under another name: a root "openai@7" conflicts with the openai@4 peer
// that @langchain/community's optional stagehand peer pins, and npm ci refuses the tree.
import OpenAI from "openai-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.js";
import { indexedFixture, testConfig } from "../helpers/fixtures.js";
import { postJson } from "../helpers/http.js";

let server: RunningServer;
let llmServer: RunningServer;
let upstream: FakeOpenAi;
let client: OpenAI;

beforeAll(async () => {
  const { config, dirs } = await indexedFixture();
  server = await startServer(config);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  upstream = await startFakeOpenAi();
  llmServer = await startServer(
    testConfig(dirs, { LLM_PROVIDER: "openai-compatible", LLM_BASE_URL: upstream.url, LLM_MODEL: "up-model", LLM_MAX_RETRIES: "0" }),
  );
});

afterAll(async () => {
  await server?.close();
  await llmServer?.close();
  await upstream?.close();
});

const QUESTION = "Which optimizer was used to train the Transformer?";

describe("GET /v1/models", () => {
  it("lists the service as a model, one id per prompt version", async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["llmops-qa", "llmops-qa:qa-v1", "llmops-qa:qa-v2"]);
    const one = await client.models.retrieve("llmops-qa:qa-v2");
    expect(one).toMatchObject({ id: "llmops-qa:qa-v2", object: "model", owned_by: "llmops-qa" });
  });
});

describe("POST /v1/chat/completions with the openai client", () => {
  it("answers with [n] markers, a sources list on the local files, structured citations and usage", async () => {
    const r = await client.chat.completions.create({ model: "llmops-qa", messages: [{ role: "user", content: QUESTION }] });
    expect(r.object).toBe("chat.completion");
    expect(r.choices).toHaveLength(1);
    const content = r.choices[0]!.message.content!;
    expect(content).toContain("Adam");
    const markers = [...content.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(markers.length).toBeGreaterThan(0);
    const sources = content.slice(content.indexOf("\n\nSources:\n"));
    expect(sources).toMatch(new RegExp(`\\[\\d+\\] A Note on Transformers, p\\. \\d.* — ${server.url}/v1/documents/transformer/file#page=\\d`));
    const citations = (r as unknown as { citations: Array<{ n: number; url: string; sourceUrl: string; cited: boolean; docId: string }> }).citations;
    for (const n of markers) expect(citations.find((c) => c.n === n)?.cited).toBe(true);
    const first = citations.find((c) => c.cited)!;
    expect(first.url).toMatch(new RegExp(`^${server.url}/v1/documents/${first.docId}/file`));
    expect(first.sourceUrl).toMatch(/^https:\/\/example\.org\//);
    // Extractive: no model spent tokens, so they are counted (the messages in, the content out).
    expect(r.usage!.prompt_tokens).toBeGreaterThan(5);
    expect(r.usage!.completion_tokens).toBeGreaterThan(5);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  it("streams OpenAI chunks, honours stream_options.include_usage, and the raw stream ends with data: [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: "llmops-qa",
      messages: [{ role: "user", content: QUESTION }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(text).toContain("Adam");
    expect(text).toContain("\n\nSources:\n");
    const finish = chunks.find((c) => c.choices[0]?.finish_reason === "stop")!;
    expect((finish as unknown as { citations: unknown[] }).citations.length).toBeGreaterThan(0);
    // With include_usage: usage null on every chunk, then one last chunk with no choices and the usage.
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);

    const raw = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "llmops-qa", messages: [{ role: "user", content: QUESTION }], stream: true }),
    });
    expect(raw.headers.get("content-type")).toContain("text/event-stream");
    const events = (await raw.text()).split("\n\n").filter(Boolean);
    expect(events[events.length - 1]).toBe("data: [DONE]");
    // Without include_usage, no chunk carries usage.
    expect(events.slice(0, -1).every((e) => !("usage" in JSON.parse(e.slice("data: ".length))))).toBe(true);
  });

  it("turns earlier messages into history: a follow-up is rewritten into a standalone question", async () => {
    const first = await client.chat.completions.create({ model: "llmops-qa", messages: [{ role: "user", content: "Was the Transformer's learning rate warmed up?" }] });
    const answer = first.choices[0]!.message.content!;
    expect(answer).toContain("Sources:");
    const r = await client.chat.completions.create({
      model: "llmops-qa",
      messages: [
        { role: "system", content: "You are helpful." },
        { role: "user", content: "Was the Transformer's learning rate warmed up?" },
        { role: "assistant", content: answer },
        { role: "user", content: "Over how many training steps?" },
      ],
    });
    const qa = (r as unknown as { qa: { standalone_question: string } }).qa;
    expect(qa.standalone_question).toMatch(/learning rate/i);
    expect(r.choices[0]!.message.content).toMatch(/4000/);
  });

  it("refuses what it cannot do, and unknown models, in OpenAI's error shape", async () => {
    const tools = await client.chat.completions
      .create({
        model: "llmops-qa",
        messages: [{ role: "user", content: QUESTION }],
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      })
      .catch((e: unknown) => e);
    expect(tools).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tools as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("unsupported_parameter");
    expect((tools as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("tools");

    const model = await client.chat.completions.create({ model: "gpt-nope", messages: [{ role: "user", content: QUESTION }] }).catch((e: unknown) => e);
    expect(model).toBeInstanceOf(OpenAI.NotFoundError);
    expect((model as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");

    const raw = await postJson(server.url, "/v1/chat/completions", { model: "llmops-qa", messages: [{ role: "assistant", content: "hi" }] });
    expect(raw.status).toBe(400);
    expect(raw.body).toEqual({ error: { message: expect.stringContaining("last message"), type: "invalid_request_error", param: "messages.0.role", code: "validation_failed" } });
    // Fields the service has no use for are accepted and ignored.
    const ignored = await postJson(server.url, "/v1/chat/completions", { model: "llmops-qa", messages: [{ role: "user", content: QUESTION }], top_p: 0.5, user: "u1", seed: 3 });
    expect(ignored.status).toBe(200);
  });
});

describe("LLM mode", () => {
  it("passes temperature and max_tokens through to the model, and reports the model's usage", async () => {
    upstream.requests.length = 0;
    upstream.behaviour = { kind: "reply", text: "Adam was used [1].", promptTokens: 210, completionTokens: 7 };
    const llmClient = new OpenAI({ baseURL: `${llmServer.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const r = await llmClient.chat.completions.create({ model: "llmops-qa", messages: [{ role: "user", content: QUESTION }], temperature: 0.7, max_tokens: 33 });
    expect(r.choices[0]!.message.content).toMatch(/^Adam was used \[1\]\.\n\nSources:\n\[1\] /);
    expect(r.usage).toEqual({ prompt_tokens: 210, completion_tokens: 7, total_tokens: 217 });
    const answerCall = upstream.requests.at(-1);
    expect(answerCall.temperature).toBe(0.7);
    expect(answerCall.max_tokens ?? answerCall.max_completion_tokens).toBe(33);

    // Unset, the configured ones (LLM_TEMPERATURE 0, LLM_MAX_TOKENS 512).
    await llmClient.chat.completions.create({ model: "llmops-qa", messages: [{ role: "user", content: QUESTION }] });
    const plain = upstream.requests.at(-1);
    expect(plain.temperature).toBe(0);
    expect(plain.max_tokens ?? plain.max_completion_tokens).toBe(512);
  });

  it("keys the answer cache by the request's own temperature and max_tokens", async () => {
    upstream.behaviour = { kind: "reply", text: "Adam was used [1].", promptTokens: 210, completionTokens: 7 };
    const llmClient = new OpenAI({ baseURL: `${llmServer.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const q = QUESTION; // asked above at temperature 0.7 and at the defaults: 0.9 and 0.3 are new keys
    const ask = (extra: object) => llmClient.chat.completions.create({ model: "llmops-qa", messages: [{ role: "user", content: q }], ...extra });
    upstream.requests.length = 0;
    await ask({ temperature: 0.9 });
    const calls = upstream.requests.length;
    expect(calls).toBeGreaterThan(0);
    await ask({ temperature: 0.9 }); // the same settings: the cached answer, no model call
    expect(upstream.requests.length).toBe(calls);
    await ask({ temperature: 0.3 }); // other settings: another answer
    expect(upstream.requests.length).toBeGreaterThan(calls);
    expect(upstream.requests.at(-1).temperature).toBe(0.3);
  });
});

describe("LangChain's ChatOpenAI pointed at the service", () => {
  it("invokes and streams, with a follow-up", async () => {
    const chat = new ChatOpenAI({ model: "llmops-qa", apiKey: "unused", maxRetries: 0, configuration: { baseURL: `${server.url}/v1` } });
    const reply = await chat.invoke([new HumanMessage(QUESTION)]);
    expect(String(reply.content)).toContain("Adam");
    expect(String(reply.content)).toContain("/v1/documents/transformer/file#page=");

    let streamed = "";
    for await (const chunk of await chat.stream([
      new HumanMessage("Was the Transformer's learning rate warmed up?"),
      new AIMessage(String((await chat.invoke([new HumanMessage("Was the Transformer's learning rate warmed up?")])).content)),
      new HumanMessage("Over how many training steps?"),
    ]))
      streamed += String(chunk.content);
    expect(streamed).toMatch(/4000/);
    expect(streamed).toContain("Sources:");
  });
});

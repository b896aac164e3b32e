/**
 * The clients of issue 11 against `npm start` itself (a child process over the real corpus and the
 * index the global setup built, on a free loopback port): the official `openai` client, LangChain's
 * ChatOpenAI and the MCP SDK's client over Streamable HTTP, each asking a question the corpus answers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { ChatOpenAI } from "@langchain/openai";
import { HumanMessage } from "@langchain/core/messages";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// "openai-client" is npm:openai@7 under another name: a root "openai@7" conflicts with the openai@4 peer
// that @langchain/community's optional stagehand peer pins, and npm ci refuses the tree.
import OpenAI from "openai-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PROJECT_ROOT } from "../../src/config/index.js";
import { MIRROR } from "../global-setup.js";

const real = inject("realCorpus");
let child: ChildProcess;
let base: string;
let output = "";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn("npm", ["start"], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: String(port),
      HOST: "127.0.0.1",
      CORPUS_DIR: real.corpusDir,
      CORPUS_MANIFEST: real.manifest,
      CORPUS_MIRROR: MIRROR,
      INDEX_DIR: real.indexDir,
      LLM_PROVIDER: "extractive",
      LOG_LEVEL: "warn",
      WATCH_INDEX: "false",
      MAX_EVENT_LOOP_DELAY_MS: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout!.on("data", (b) => (output += b));
  child.stderr!.on("data", (b) => (output += b));
  const until = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
    const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > until) throw new Error(`npm start not ready in 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 150_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid, "SIGTERM"); // the process group: npm and the server it started
    await exited;
  }
});

const QUESTION = "Which optimizer was used to train the Transformer?";

describe("against npm start", () => {
  it("the openai client: a plain and a streamed completion, citing the Transformer paper at a page of the local PDF", async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "llmops-qa", messages: [{ role: "user", content: QUESTION }] });
    const content = r.choices[0]!.message.content!;
    expect(content).toContain("Adam");
    expect(content).toMatch(new RegExp(`— ${base}/v1/documents/attention/file#page=\\d+`));
    const pdf = await fetch(`${base}/v1/documents/attention/file`, { headers: { range: "bytes=0-4" } });
    expect(pdf.status).toBe(206);
    expect(await pdf.text()).toBe("%PDF-");

    let streamed = "";
    for await (const chunk of await client.chat.completions.create({ model: "llmops-qa", messages: [{ role: "user", content: QUESTION }], stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? "";
    }
    expect(streamed).toBe(content);
  });

  it("LangChain's ChatOpenAI", async () => {
    const chat = new ChatOpenAI({ model: "llmops-qa", apiKey: "unused", maxRetries: 0, configuration: { baseURL: `${base}/v1` } });
    const reply = await chat.invoke([new HumanMessage(QUESTION)]);
    expect(String(reply.content)).toContain("Adam");
  });

  it("the MCP client over Streamable HTTP", async () => {
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    try {
      const docs = await client.callTool({ name: "list_documents", arguments: {} });
      expect((docs.structuredContent as { documents: unknown[] }).documents).toHaveLength(9);
      const r = await client.callTool({ name: "ask_papers", arguments: { question: QUESTION } });
      const out = r.structuredContent as { answer: string; citations: Array<{ document: string; cited: boolean }> };
      expect(out.answer).toContain("Adam");
      expect(out.citations.filter((c) => c.cited).map((c) => c.document)).toContain("attention");
    } finally {
      await client.close();
    }
  });
});

/**
 * The MCP server through the official SDK's client, over both transports: Streamable HTTP against a real
 * server at /mcp, and stdio against `npm run --silent mcp` started as a process (as Claude Desktop or
 * Cursor start it). The same checks on each: the tools and their results, the documents as resources.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/config/index.js";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { SAMPLE_DOCS, tempDir, testConfig, writeCorpus } from "../helpers/fixtures.js";

let server: RunningServer;
let dirs: { corpusDir: string; manifest: string; indexDir: string };

beforeAll(async () => {
  const corpus = await writeCorpus(SAMPLE_DOCS);
  dirs = { ...corpus, indexDir: await tempDir("index") };
  await ingestWithConfig(testConfig(dirs));
  server = await startServer(testConfig(dirs));
});

afterAll(async () => {
  await server?.close();
});

type Connect = () => Promise<{ client: Client; linkBase: string | undefined; close(): Promise<void> }>;

const transports: Array<[string, Connect]> = [
  [
    "Streamable HTTP (/mcp)",
    async () => {
      const client = new Client({ name: "test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      return { client, linkBase: server.url, close: () => client.close() };
    },
  ],
  [
    "stdio (npm run --silent mcp)",
    async () => {
      const client = new Client({ name: "test", version: "1.0.0" });
      const transport = new StdioClientTransport({
        command: "npm",
        args: ["run", "--silent", "mcp"],
        cwd: PROJECT_ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          CORPUS_DIR: dirs.corpusDir,
          CORPUS_MANIFEST: dirs.manifest,
          INDEX_DIR: dirs.indexDir,
          LLM_PROVIDER: "extractive",
          LOG_LEVEL: "silent",
          WATCH_INDEX: "false",
          EMBED_WORKERS: "1",
          PUBLIC_URL: "http://qa.example.test",
        },
        stderr: "pipe",
      });
      await client.connect(transport);
      return { client, linkBase: "http://qa.example.test", close: () => client.close() };
    },
  ],
];

describe.each(transports)("MCP over %s", (_name, connect) => {
  let c: Awaited<ReturnType<Connect>>;
  beforeAll(async () => {
    c = await connect();
  }, 120_000);
  afterAll(async () => {
    await c?.close();
  });

  it("lists the three tools", async () => {
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["ask_papers", "list_documents", "search_papers"]);
    const search = tools.find((t) => t.name === "search_papers")!;
    expect(Object.keys(search.inputSchema.properties ?? {}).sort()).toEqual(["docs", "k", "query"]);
  });

  it("search_papers returns passages with document, page and text", async () => {
    const r = await c.client.callTool({ name: "search_papers", arguments: { query: "Which optimizer was used to train the Transformer?", k: 3 } });
    expect(r.isError).toBeFalsy();
    const { results } = r.structuredContent as { results: Array<{ document: string; page: number | null; text: string; url: string }> };
    expect(results.length).toBeGreaterThan(0);
    expect(results.length).toBeLessThanOrEqual(3);
    expect(results[0]!.document).toBe("transformer");
    expect(results[0]!.text).toContain("Adam");
    expect(typeof results[0]!.page).toBe("number");
    expect(results[0]!.url).toBe(`${c.linkBase}/v1/documents/transformer/file#page=${results[0]!.page}`);
    expect((r.content as Array<{ text: string }>)[0]!.text).toContain("Adam");
  });

  it("search_papers honours docs", async () => {
    const r = await c.client.callTool({ name: "search_papers", arguments: { query: "cost of a prediction", docs: ["ops"] } });
    const { results } = r.structuredContent as { results: Array<{ document: string }> };
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((x) => x.document === "ops")).toBe(true);
  });

  it("ask_papers answers with citations", async () => {
    const r = await c.client.callTool({ name: "ask_papers", arguments: { question: "Which optimizer was used to train the Transformer?" } });
    const out = r.structuredContent as { answer: string; grounded: boolean; citations: Array<{ n: number; document: string; page: number; cited: boolean; url: string }> };
    expect(out.grounded).toBe(true);
    expect(out.answer).toContain("Adam");
    const cited = out.citations.filter((x) => x.cited);
    expect(cited.length).toBeGreaterThan(0);
    for (const m of out.answer.matchAll(/\[(\d+)\]/g)) expect(cited.some((x) => x.n === Number(m[1]))).toBe(true);
    expect(cited[0]!.url).toMatch(new RegExp(`^${c.linkBase}/v1/documents/${cited[0]!.document}/file`));
    expect((r.content as Array<{ text: string }>)[0]!.text).toContain("Sources:");
  });

  it("ask_papers says so when the documents do not cover a question, and reports an unknown document as a tool error", async () => {
    const none = await c.client.callTool({ name: "ask_papers", arguments: { question: "What is the boiling point of tungsten in kelvin?" } });
    expect((none.structuredContent as { grounded: boolean }).grounded).toBe(false);
    const bad = await c.client.callTool({ name: "ask_papers", arguments: { question: "Adam?", docs: ["nope"] } });
    expect(bad.isError).toBe(true);
    expect((bad.content as Array<{ text: string }>)[0]!.text).toMatch(/^UNKNOWN_DOCUMENT: /);
  });

  it("list_documents and the documents as resources", async () => {
    const r = await c.client.callTool({ name: "list_documents", arguments: {} });
    const { documents } = r.structuredContent as { documents: Array<{ id: string; resource: string }> };
    expect(documents.map((d) => d.id).sort()).toEqual(["ops", "rlhf", "transformer"]);
    const { resources } = await c.client.listResources();
    expect(resources.map((x) => x.uri).sort()).toEqual(documents.map((d) => d.resource).sort());
    const md = await c.client.readResource({ uri: "papers://documents/ops" });
    expect(md.contents[0]!.mimeType).toBe("text/markdown");
    expect((md.contents[0] as { text: string }).text).toContain("distillation");
    const pdf = await c.client.readResource({ uri: "papers://documents/transformer" });
    expect(pdf.contents[0]!.mimeType).toBe("application/pdf");
    expect(Buffer.from((pdf.contents[0] as { blob: string }).blob, "base64").subarray(0, 5).toString()).toBe("%PDF-");
  });
});

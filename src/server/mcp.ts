/**
 * The service as a Model Context Protocol server (the official @modelcontextprotocol/sdk), for MCP
 * clients (Claude Desktop, Cursor, the SDK's own client, any agent framework):
 *   tools      search_papers {query, k?, docs?}       -> passages with document, page, section, text, link
 *              ask_papers    {question, docs?, k?, history?} -> the answer with its citations
 *              list_documents {}                      -> the indexed documents
 *   resources  papers://documents/{id}                the indexed copy of each document (a PDF as a
 *                                                      blob, markdown and HTML as text)
 * over Streamable HTTP at POST /mcp (stateless: a server per request, JSON responses) and over stdio
 * (`npm run --silent mcp`, src/cli/mcp.ts). Every tool calls the QaService facade, as the HTTP routes do.
 */
import { readFile } from "node:fs/promises";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Router } from "express";
import { z } from "zod";
import { AppError } from "../errors.js";
import { documentFilePath, documentId, type QaService } from "../service/index.js";
import { absolute, baseUrl, linkCitations } from "./links.js";
import { sourcesText } from "./routes/openai.js";

export const RESOURCE_PREFIX = "papers://documents/";

export interface McpOptions {
  /** Where links point (citations, files): the request's address over HTTP, PUBLIC_URL over stdio (else paths). */
  linkBase?: string;
  version?: string;
}

const docsArg = z.array(documentId).max(50).optional().describe("only these document ids (list_documents gives them)");

const passage = z.object({
  document: z.string().describe("document id"),
  title: z.string(),
  page: z.number().int().nullable().describe("PDF page, null for documents without pages"),
  section: z.string().nullable(),
  text: z.string(),
  score: z.number(),
  url: z.string().describe("the indexed copy at the passage"),
});

const citationOut = passage.omit({ score: true }).extend({
  n: z.number().int(),
  cited: z.boolean().describe("whether the answer cites it as [n]"),
  sourceUrl: z.string().describe("the original"),
});

export function createMcpServer(service: QaService, opts: McpOptions = {}): McpServer {
  const server = new McpServer({ name: "llmops-qa", title: "Papers on transformers, GPT, RLHF and LLMOps", version: opts.version ?? "0.1.0" });
  const link = (url: string) => absolute(opts.linkBase, url);

  server.registerTool(
    "search_papers",
    {
      title: "Search the papers",
      description: "Hybrid (BM25 + vector) search over the indexed papers and posts; returns the best passages with their document, page and section.",
      inputSchema: { query: z.string().min(1).max(2000), k: z.number().int().min(1).max(50).optional().describe("passages to return (5)"), docs: docsArg },
      outputSchema: { results: z.array(passage) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ query, k, docs }) =>
      guard(async () => {
        const { results } = await service.search(query, k ?? 5, docs);
        const out = {
          results: results.map((r) => ({
            document: r.docId,
            title: r.title,
            page: r.page,
            section: r.section,
            text: r.text,
            score: r.score,
            url: link(`${documentFilePath(r.docId)}${r.page ? `#page=${r.page}` : ""}`),
          })),
        };
        const text = out.results.map((r, i) => `[${i + 1}] ${r.title}${r.page ? `, p. ${r.page}` : ""}${r.section ? `, ${r.section}` : ""}\n${r.text}`).join("\n\n");
        return { content: [{ type: "text", text: text || "No passages found." }], structuredContent: out };
      }),
  );

  server.registerTool(
    "ask_papers",
    {
      title: "Ask the papers",
      description:
        'Answers a question from the indexed papers with [n] citations (document and page), or says "The documents do not cover this." when they do not.',
      inputSchema: {
        question: z.string().min(1).max(2000),
        docs: docsArg,
        k: z.number().int().min(1).max(20).optional(),
        history: z
          .array(z.object({ role: z.enum(["user", "assistant"]), content: z.string().min(1).max(8000) }))
          .max(20)
          .optional()
          .describe("earlier turns: a follow-up is rewritten into a standalone question"),
      },
      outputSchema: {
        answer: z.string(),
        grounded: z.boolean(),
        standaloneQuestion: z.string(),
        mode: z.enum(["llm", "extractive"]),
        citations: z.array(citationOut),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ question, docs, k, history }) =>
      guard(async () => {
        const result = await service.ask({ question, docs, k, history });
        const citations = linkCitations(result.citations, opts.linkBase);
        const out = {
          answer: result.answer,
          grounded: result.grounded,
          standaloneQuestion: result.standaloneQuestion,
          mode: result.mode,
          citations: citations.map((c) => ({ n: c.n, document: c.docId, title: c.title, page: c.page, section: c.section, text: c.text, url: c.url, sourceUrl: c.sourceUrl, cited: c.cited })),
        };
        return { content: [{ type: "text", text: `${result.answer}${sourcesText(citations)}` }], structuredContent: out };
      }),
  );

  server.registerTool(
    "list_documents",
    {
      title: "List the documents",
      description: "The indexed documents: id (for the docs filter), title, authors, year, pages, links.",
      inputSchema: {},
      outputSchema: {
        documents: z.array(
          z.object({
            id: z.string(),
            title: z.string(),
            authors: z.array(z.string()),
            year: z.number().int().nullable(),
            kind: z.string(),
            pages: z.number().int().nullable(),
            chunks: z.number().int(),
            url: z.string().describe("the original"),
            fileUrl: z.string().describe("the indexed copy"),
            resource: z.string().describe("the MCP resource URI"),
          }),
        ),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () =>
      guard(async () => {
        const documents = service.documents().map((d) => ({
          id: d.id,
          title: d.title,
          authors: d.authors,
          year: d.year,
          kind: d.kind,
          pages: d.pages,
          chunks: d.chunks,
          url: d.url,
          fileUrl: link(documentFilePath(d.id)),
          resource: `${RESOURCE_PREFIX}${d.id}`,
        }));
        const text = documents.map((d) => `${d.id}: ${d.title} (${d.year ?? "n.d."}${d.pages ? `, ${d.pages} pages` : ""})`).join("\n");
        return { content: [{ type: "text", text }], structuredContent: { documents } };
      }),
  );

  server.registerResource(
    "document",
    new ResourceTemplate(`${RESOURCE_PREFIX}{id}`, {
      list: async () => ({
        resources: service.documents().map((d) => ({
          uri: `${RESOURCE_PREFIX}${d.id}`,
          name: d.id,
          title: d.title,
          description: `${d.title} (${d.year ?? "n.d."}), the indexed copy`,
          mimeType: mediaTypeOf(d.file),
        })),
      }),
    }),
    { title: "An indexed document", description: "The file each citation points into: a PDF, markdown or HTML." },
    async (uri, { id }) => {
      const file = await service.documentFile(String(id));
      const data = await readFile(file.path);
      const contents =
        file.format === "pdf"
          ? [{ uri: uri.href, mimeType: file.mediaType, blob: data.toString("base64") }]
          : [{ uri: uri.href, mimeType: file.mediaType, text: data.toString("utf8") }];
      return { contents };
    },
  );

  return server;
}

const mediaTypeOf = (file: string) => (/\.pdf$/i.test(file) ? "application/pdf" : /\.html?$/i.test(file) ? "text/html" : "text/markdown");

/** A service error becomes a tool error the model can read (`CODE: message`), not a protocol error. */
async function guard(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AppError) return { isError: true, content: [{ type: "text", text: `${err.code}: ${err.message}` }] };
    throw err;
  }
}

/** POST /mcp: Streamable HTTP, stateless (no sessions: each request gets its own server and transport). */
export function mcpRoutes(service: QaService): Router {
  const r = Router();
  r.post("/mcp", async (req, res) => {
    const server = createMcpServer(service, { linkBase: baseUrl(req, service.config.publicUrl) });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  // Stateless: no server-initiated stream to GET, no session to DELETE.
  const notAllowed = (_req: unknown, res: import("express").Response) => {
    res.status(405).set("Allow", "POST").json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed: this MCP endpoint is stateless; POST JSON-RPC requests" }, id: null });
  };
  r.get("/mcp", notAllowed);
  r.delete("/mcp", notAllowed);
  return r;
}

/**
 * The OpenAPI 3.1 document (GET /openapi.json), generated from the zod schemas the routes validate
 * requests with and type their responses by (schemas.ts, routes/openai.ts, mcp.ts), through zod v4's
 * own JSON Schema output (z.toJSONSchema, draft 2020-12, the dialect OpenAPI 3.1 uses). Every route
 * is here with its errors; Server-Sent Events list their events' schemas in `x-sse-events`.
 * A test requests every route and checks each real response against this document.
 */
import { z } from "zod";
import type { ErrorCode } from "../errors.js";
import { HTTP_STATUS } from "./errors.js";
import { chatCompletion, chatCompletionBody, chatCompletionChunk, model, modelList, openAiError } from "./routes/openai.js";
import * as s from "./schemas.js";

type Json = Record<string, unknown>;

const requests = z.registry<{ id: string }>();
const responses = z.registry<{ id: string }>();
const add = (registry: typeof requests, entries: Record<string, z.ZodType>) => {
  for (const [id, schema] of Object.entries(entries)) registry.add(schema, { id });
};
add(requests, {
  SearchRequest: s.searchBody,
  AskRequest: s.askBody,
  FeedbackRequest: s.feedbackBody,
  ReindexRequest: s.reindexBody,
  AddDocumentByUrl: s.addDocumentUrlBody,
  AddDocumentUpload: s.addDocumentUpload,
  ChatCompletionRequest: chatCompletionBody,
});
add(responses, {
  Error: s.errorResponse,
  Health: s.healthResponse,
  Ready: s.readyResponse,
  Documents: s.documentsResponse,
  Prompts: s.promptsResponse,
  SearchResponse: s.searchResponse,
  AskResponse: s.askResponse,
  AskCitationsEvent: s.askEvents.citations,
  AskTokenEvent: s.askEvents.token,
  ReindexStarted: s.reindexStarted,
  ReindexJob: s.reindexJob,
  DocumentAdded: s.documentAdded,
  DocumentRemoved: s.documentRemoved,
  FeedbackRecorded: s.feedbackRecorded,
  ChatCompletion: chatCompletion,
  ChatCompletionChunk: chatCompletionChunk,
  Model: model,
  ModelList: modelList,
  OpenAiError: openAiError,
  JsonRpcMessage: z.looseObject({ jsonrpc: z.literal("2.0"), id: z.union([z.string(), z.number(), z.null()]).optional(), method: z.string().optional() }),
});

const uri = (id: string) => `#/components/schemas/${id}`;

/** Component schemas without `$schema` and `$id` (the document declares the dialect once; components are addressed by their path). */
function components(registry: typeof requests, io: "input" | "output"): Record<string, Json> {
  const out = z.toJSONSchema(registry, { target: "draft-2020-12", io, uri, unrepresentable: "any" }) as { schemas: Record<string, Json> };
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).filter(([k]) => k !== "$schema" && k !== "$id").map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return Object.fromEntries(Object.entries(out.schemas).map(([k, v]) => [k, strip(v) as Json]));
}

const ref = (id: string) => ({ $ref: uri(id) });
const json = (id: string) => ({ "application/json": { schema: ref(id) } });

/** Which catalogue codes each status carries (for the error descriptions). */
const codesFor = (status: number) => (Object.entries(HTTP_STATUS) as Array<[ErrorCode, number]>).filter(([, st]) => st === status).map(([c]) => c);

function errors(statuses: number[], schema = "Error"): Json {
  return Object.fromEntries(statuses.map((st) => [String(st), { description: `error: ${codesFor(st).join(", ")}`, content: json(schema) }]));
}

/** What any route may answer: rate limits (API_RATE_LIMIT_PER_MINUTE), internal errors. */
const COMMON = [429, 500];
const WORK = [400, 413, 415, 429, 500, 503];

function op(summary: string, parts: Json): Json {
  return { summary, ...parts };
}

const pathParam = (name: string, description: string) => ({ name, in: "path", required: true, schema: { type: "string" }, description });
const admin = [{ bearer: [] }];

export function openApiDocument(version = "0.1.0"): Json {
  const schemas = { ...components(requests, "input"), ...components(responses, "output") };
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "llmops-qa",
      version,
      description:
        "Retrieval-augmented question answering over papers and posts on transformers, GPT, RLHF and LLMOps: search, answers with page-level citations, the indexed documents, an OpenAI-compatible chat API and an MCP endpoint.",
    },
    servers: [{ url: "/" }],
    tags: [{ name: "answers" }, { name: "documents" }, { name: "openai" }, { name: "mcp" }, { name: "admin" }, { name: "operations" }],
    paths: {
      "/healthz": { get: op("Liveness", { tags: ["operations"], responses: { 200: { description: "alive", content: json("Health") } } }) },
      "/readyz": {
        get: op("Readiness", { tags: ["operations"], responses: { 200: { description: "an index is loaded", content: json("Ready") }, 503: { description: "no index, or shutting down", content: json("Ready") } } }),
      },
      "/metrics": { get: op("Prometheus metrics", { tags: ["operations"], responses: { 200: { description: "text exposition format", content: { "text/plain": { schema: { type: "string" } } } } } }) },
      "/v1/documents": {
        get: op("The indexed documents", { tags: ["documents"], responses: { 200: { description: "the documents", content: json("Documents") }, ...errors([...COMMON, 503]) } }),
      },
      "/v1/documents/{id}/file": {
        get: op("The indexed copy of a document (what citations link to)", {
          tags: ["documents"],
          description:
            "A PDF as application/pdf (range requests, ETag, Last-Modified, Cache-Control); markdown and HTML as a sanitised page with an anchor per section (`?raw` gives the file as text/plain). Citation URLs add `#page=N` (PDF) or `#<section anchor>`.",
          parameters: [pathParam("id", "document id"), { name: "raw", in: "query", required: false, schema: { type: "string" }, description: "markdown and HTML: the file itself, as text/plain" }],
          responses: {
            200: {
              description: "the document",
              headers: { ETag: { schema: { type: "string" } }, "Cache-Control": { schema: { type: "string" } } },
              content: { "application/pdf": { schema: { type: "string", contentMediaType: "application/pdf" } }, "text/html": { schema: { type: "string" } }, "text/plain": { schema: { type: "string" } } },
            },
            206: { description: "a byte range of the PDF", headers: { "Content-Range": { schema: { type: "string" } } }, content: { "application/pdf": { schema: { type: "string" } } } },
            304: { description: "not modified (If-None-Match / If-Modified-Since)" },
            ...errors([404, 409, 416, ...COMMON, 503]),
          },
        }),
      },
      "/v1/prompts": { get: op("Prompt versions", { tags: ["answers"], responses: { 200: { description: "versions and the default", content: json("Prompts") }, ...errors(COMMON) } }) },
      "/v1/search": {
        post: op("Search passages", {
          tags: ["answers"],
          requestBody: { required: true, content: json("SearchRequest") },
          responses: { 200: { description: "ranked passages", content: json("SearchResponse") }, ...errors(WORK) },
        }),
      },
      "/v1/ask": {
        post: op("Ask a question", {
          tags: ["answers"],
          requestBody: { required: true, content: json("AskRequest") },
          responses: {
            200: {
              description: "the answer (JSON), or with stream:true / Accept: text/event-stream the events citations, token…, done (or error)",
              content: { ...json("AskResponse"), "text/event-stream": { schema: { type: "string" } } },
              "x-sse-events": { citations: ref("AskCitationsEvent"), token: ref("AskTokenEvent"), done: ref("AskResponse"), error: ref("Error") },
            },
            ...errors(WORK),
          },
        }),
      },
      "/v1/feedback": {
        post: op("Rate an answer (by its answerId)", {
          tags: ["answers"],
          requestBody: { required: true, content: json("FeedbackRequest") },
          responses: { 201: { description: "recorded", content: json("FeedbackRecorded") }, ...errors([400, 404, 413, 415, ...COMMON]) },
        }),
      },
      "/v1/models": { get: op("Models (OpenAI-compatible)", { tags: ["openai"], responses: { 200: { description: "one per prompt version", content: json("ModelList") }, ...errors(COMMON, "OpenAiError") } }) },
      "/v1/models/{model}": {
        get: op("A model (OpenAI-compatible)", {
          tags: ["openai"],
          parameters: [pathParam("model", "model id")],
          responses: { 200: { description: "the model", content: json("Model") }, ...errors([404, ...COMMON], "OpenAiError") },
        }),
      },
      "/v1/chat/completions": {
        post: op("Chat completion (OpenAI-compatible)", {
          tags: ["openai"],
          requestBody: { required: true, content: json("ChatCompletionRequest") },
          responses: {
            200: {
              description: "the completion, or with stream:true `data:` chunks ending with `data: [DONE]`",
              content: { ...json("ChatCompletion"), "text/event-stream": { schema: { type: "string" } } },
              "x-sse-events": { message: ref("ChatCompletionChunk"), error: ref("OpenAiError") },
            },
            ...errors([...WORK, 404], "OpenAiError"),
          },
        }),
      },
      "/mcp": {
        post: op("Model Context Protocol (Streamable HTTP, stateless)", {
          tags: ["mcp"],
          description: "JSON-RPC 2.0 messages of MCP: tools search_papers, ask_papers, list_documents; resources papers://documents/{id}.",
          requestBody: { required: true, content: json("JsonRpcMessage") },
          responses: {
            200: { description: "a JSON-RPC response", content: json("JsonRpcMessage") },
            202: { description: "a notification accepted" },
            400: { description: "not a JSON-RPC message", content: json("JsonRpcMessage") },
            406: { description: "Accept lacks application/json and text/event-stream", content: json("JsonRpcMessage") },
            ...errors([413, 415, 429, 500, 503]),
          },
        }),
        get: op("Not allowed (stateless endpoint)", { tags: ["mcp"], responses: { 405: { description: "POST only", content: json("JsonRpcMessage") } } }),
        delete: op("Not allowed (stateless endpoint)", { tags: ["mcp"], responses: { 405: { description: "POST only", content: json("JsonRpcMessage") } } }),
      },
      "/v1/admin/reindex": {
        post: op("Start a re-index job", {
          tags: ["admin"],
          security: admin,
          requestBody: { required: false, content: json("ReindexRequest") },
          responses: { 202: { description: "started", content: json("ReindexStarted") }, ...errors([400, 401, 403, 409, ...COMMON]) },
        }),
      },
      "/v1/admin/reindex/{jobId}": {
        get: op("A re-index job", {
          tags: ["admin"],
          security: admin,
          parameters: [pathParam("jobId", "job id")],
          responses: { 200: { description: "the job", content: json("ReindexJob") }, ...errors([401, 403, 404, ...COMMON]) },
        }),
      },
      "/v1/admin/documents": {
        post: op("Add a document (upload, or a URL to download)", {
          tags: ["admin"],
          security: admin,
          description:
            "A URL is fetched only from public addresses (after DNS resolution and on every redirect; ALLOWED_FETCH_HOSTS lists exceptions), within FETCH_TIMEOUT_MS and UPLOAD_LIMIT_MB; otherwise 400 URL_NOT_ALLOWED.",
          requestBody: { required: true, content: { ...json("AddDocumentByUrl"), "multipart/form-data": { schema: ref("AddDocumentUpload") } } },
          responses: { 202: { description: "stored; the re-index job started", content: json("DocumentAdded") }, ...errors([400, 401, 403, 409, 413, 415, 422, ...COMMON, 503]) },
        }),
      },
      "/v1/admin/documents/{id}": {
        delete: op("Remove a document", {
          tags: ["admin"],
          security: admin,
          parameters: [pathParam("id", "document id")],
          responses: { 202: { description: "removed; the re-index job started", content: json("DocumentRemoved") }, ...errors([401, 403, 404, 409, ...COMMON]) },
        }),
      },
      "/openapi.json": { get: op("This document", { tags: ["operations"], responses: { 200: { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } } }) },
      "/docs": { get: op("The API docs page (Swagger UI, served locally)", { tags: ["operations"], responses: { 200: { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } } }) },
      "/": { get: op("The web page (chat over the API)", { tags: ["operations"], responses: { 200: { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } } }) },
    },
    components: {
      schemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN" } },
    },
  };
}

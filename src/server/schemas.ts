/**
 * The API's shapes, in zod: request bodies (validated on arrival; a failure becomes VALIDATION_FAILED
 * naming each bad field, text and issues) and responses (each route's body is typed by its schema).
 * The OpenAPI document (openapi.ts) is generated from these same schemas, and a test checks real
 * responses against it.
 */
import { z } from "zod";
import { ERROR_CODES, invalidInput, type ErrorCode } from "../errors.js";
import { documentId } from "../service/index.js";

const docs = z.array(documentId).max(50).optional().describe("only passages of these document ids");

// ---------------------------------------------------------------------------------------------
// Requests

export const searchBody = z.strictObject({
  query: z.string().trim().min(1).max(2000),
  k: z.number().int().min(1).max(50).default(5),
  docs,
});

export const historyTurn = z.strictObject({ role: z.enum(["user", "assistant"]), content: z.string().min(1).max(8000) });

export const askBody = z.strictObject({
  question: z.string().trim().min(1).max(2000),
  k: z.number().int().min(1).max(20).optional(),
  docs,
  promptVersion: z.string().min(1).max(64).optional(),
  history: z.array(historyTurn).max(20).optional().describe("the conversation so far: a follow-up is rewritten into a standalone question"),
  stream: z.boolean().optional().describe("answer as Server-Sent Events (also with Accept: text/event-stream)"),
  /** false: do not use the answer cache for this request. */
  cache: z.boolean().optional(),
  /** Keeps a conversation on one prompt version under PROMPT_ROLLOUT (else X-Client-Id, else the client address). */
  conversationId: z.string().regex(/^[\w.:-]{1,128}$/, "1-128 letters, digits, _ . : -").optional(),
});

export const feedbackBody = z.strictObject({
  answerId: z.uuid(),
  rating: z.enum(["up", "down"]),
  comment: z.string().trim().min(1).max(2000).optional(),
  /** What the answer should have said: short, the key phrase (it becomes the expected answer of a regression question). */
  expected: z.string().trim().min(1).max(500).optional(),
});

export const reindexBody = z.strictObject({ force: z.boolean().optional() });

export const addDocumentUrlBody = z.strictObject({
  // Any URL parses here; the download guard refuses what is not http(s) with URL_NOT_ALLOWED (service/fetch-guard.ts).
  url: z.url().max(2000).describe("an http(s) URL on a public address (ALLOWED_FETCH_HOSTS lists exceptions)"),
  id: documentId.optional(),
  title: z.string().min(1).max(300).optional(),
});

export const addDocumentUpload = z.object({
  file: z.string().meta({ format: "binary" }).describe("the document: PDF, markdown or HTML (type checked by content)"),
  id: documentId.optional(),
  title: z.string().min(1).max(300).optional(),
});

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  throw invalidInput("VALIDATION_FAILED", "invalid request body", r.error);
}

// ---------------------------------------------------------------------------------------------
// Responses

export const errorResponse = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

export const healthResponse = z.object({ status: z.literal("ok") });

export const readyResponse = z.union([
  z.object({ ready: z.literal(true), generation: z.string(), loadedAt: z.string() }),
  z.object({ ready: z.literal(false), error: errorResponse.shape.error }),
]);

export const documentInfo = z.object({
  id: z.string(),
  title: z.string(),
  authors: z.array(z.string()),
  year: z.number().int().nullable(),
  kind: z.string(),
  url: z.string().describe("the original"),
  fileUrl: z.string().describe("the indexed copy this server serves (GET /v1/documents/{id}/file)"),
  pages: z.number().int().nullable(),
  chunks: z.number().int(),
});
export const documentsResponse = z.object({ documents: z.array(documentInfo) });

export const promptsResponse = z.object({ default: z.string(), versions: z.array(z.string()) });

export const hitView = z.object({
  id: z.string(),
  docId: z.string(),
  title: z.string(),
  page: z.number().int().nullable(),
  section: z.string().nullable(),
  text: z.string(),
  score: z.number(),
});
export const searchResponse = z.object({ query: z.string(), results: z.array(hitView), tookMs: z.number() });

export const citation = hitView.extend({
  n: z.number().int().min(1),
  url: z.string().describe("the indexed copy at the passage: /v1/documents/{id}/file#page=N (PDF) or #<section anchor>"),
  sourceUrl: z.string().describe("the original (#page=N for a PDF)"),
  cited: z.boolean(),
});

export const usage = z.object({ promptTokens: z.number().int().min(0), completionTokens: z.number().int().min(0), costUsd: z.number().min(0) });

/** The answer as POST /v1/ask returns it (JSON, and the SSE `done` event): the contract tests check responses against it. */
export const askResponse = z.strictObject({
  answerId: z.uuid(),
  answer: z.string(),
  grounded: z.boolean(),
  mode: z.enum(["llm", "extractive"]),
  model: z.string(),
  promptVersion: z.string(),
  /** How the prompt version was chosen: asked for, a PROMPT_ROLLOUT share, or the default. */
  promptAssignment: z.enum(["requested", "rollout", "default"]),
  standaloneQuestion: z.string(),
  citations: z.array(citation.strict()),
  usage,
  timings: z.strictObject({ retrievalMs: z.number(), generationMs: z.number(), totalMs: z.number() }),
  cached: z.boolean(),
  savedUsage: usage.optional(),
  verification: z
    .strictObject({
      checked: z.number().int().min(0),
      supported: z.number().int().min(0),
      unsupported: z.array(z.strictObject({ sentence: z.string(), cited: z.array(z.number().int()), reason: z.string() })),
      action: z.enum(["flag", "drop", "abstain"]),
    })
    .optional(),
  warning: z.string().optional(),
});

/** The SSE events of a streamed answer, by event name. */
export const askEvents = {
  citations: z.object({ citations: z.array(citation) }),
  token: z.object({ delta: z.string() }),
  done: askResponse,
  error: errorResponse,
};

const jobProgress = z.object({
  documents: z.number().int(),
  documentsDone: z.number().int(),
  chunks: z.number().int(),
  chunksToEmbed: z.number().int(),
  chunksEmbedded: z.number().int(),
  phase: z.enum(["queued", "loading", "embedding", "writing", "swapping", "done"]),
});

export const reindexStarted = z.object({ jobId: z.string(), status: z.enum(["running", "succeeded", "failed"]) });

export const reindexJob = z.object({
  jobId: z.string(),
  /** What started it: a re-index, a document added, a document removed. */
  kind: z.enum(["reindex", "upload", "remove"]),
  status: z.enum(["running", "succeeded", "failed"]),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /** What the job was asked to do. */
  params: z.object({ force: z.boolean().optional(), document: z.string().optional() }).optional(),
  /** The process running it ("hostname:pid"; durable job stores). */
  owner: z.string().optional(),
  progress: jobProgress,
  result: z
    .object({
      documents: z.number().int(),
      pages: z.number().int(),
      chunks: z.number().int(),
      embedded: z.number().int(),
      skipped: z.array(z.object({ id: z.string(), file: z.string(), reason: z.string() })),
      missing: z.array(z.object({ id: z.string(), file: z.string() })),
      seconds: z.number(),
      upToDate: z.boolean(),
    })
    .optional(),
  error: z.string().optional(),
});

export const documentAdded = z.object({
  document: z.object({ id: z.string(), title: z.string(), file: z.string(), mediaType: z.string(), sha256: z.string().nullable() }),
  jobId: z.string(),
});

export const documentRemoved = z.object({ removed: z.string(), jobId: z.string() });

export const feedbackRecorded = z.object({ answerId: z.uuid(), rating: z.enum(["up", "down"]), promptVersion: z.string(), at: z.string() });

/** A response body as its schema describes it (what a handler passes to res.json). */
export type Body<T extends z.ZodType> = z.input<T>;

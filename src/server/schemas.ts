/** Request bodies, validated with zod; a failure becomes VALIDATION_FAILED naming each bad field (text and issues). */
import { z } from "zod";
import { invalidInput } from "../errors.js";
import { documentId } from "../service/index.js";

const docs = z.array(documentId).max(50).optional();

export const searchBody = z.strictObject({
  query: z.string().trim().min(1).max(2000),
  k: z.number().int().min(1).max(50).default(5),
  docs,
});

export const askBody = z.strictObject({
  question: z.string().trim().min(1).max(2000),
  k: z.number().int().min(1).max(20).optional(),
  docs,
  promptVersion: z.string().min(1).max(64).optional(),
  history: z
    .array(z.strictObject({ role: z.enum(["user", "assistant"]), content: z.string().min(1).max(8000) }))
    .max(20)
    .optional(),
  stream: z.boolean().optional(),
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

const usage = z.object({ promptTokens: z.number().int().min(0), completionTokens: z.number().int().min(0), costUsd: z.number().min(0) });

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
  citations: z.array(
    z.strictObject({
      n: z.number().int().min(1),
      id: z.string(),
      docId: z.string(),
      title: z.string(),
      page: z.number().int().nullable(),
      section: z.string().nullable(),
      text: z.string(),
      score: z.number(),
      url: z.string(),
      cited: z.boolean(),
    }),
  ),
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

export const reindexBody = z.strictObject({ force: z.boolean().optional() });

export const addDocumentUrlBody = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  id: documentId.optional(),
  title: z.string().min(1).max(300).optional(),
});

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  throw invalidInput("VALIDATION_FAILED", "invalid request body", r.error);
}

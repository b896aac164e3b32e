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

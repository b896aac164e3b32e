/**
 * The OpenAI-compatible chat API, so any OpenAI client (the `openai` SDK, LangChain's ChatOpenAI,
 * Open WebUI) can ask the documents:
 *   GET  /v1/models                the service as models: `llmops-qa` (the default prompt) and
 *                                  `llmops-qa:<prompt version>` for each version;
 *   GET  /v1/models/:model         one of them;
 *   POST /v1/chat/completions      the last user message is the question, the messages before it
 *                                  the history (a follow-up is rewritten into a standalone question,
 *                                  as POST /v1/ask does); `stream: true` answers in OpenAI's chunk
 *                                  format ending with `data: [DONE]`.
 * It is the same QaService.ask as /v1/ask: nothing is retrieved or answered differently.
 *
 * Citations reach every client twice: as `[n]` markers in the content with a "Sources:" list
 * appended, and structured in an extra top-level `citations` field (on the last chunk when
 * streaming). `usage` is the LLM's tokens when an LLM answered; otherwise (extractive answers,
 * declined questions) the messages' and the reply's tokens counted with o200k_base. `temperature`
 * and `max_tokens` (or `max_completion_tokens`) reach the LLM. Fields this service cannot honour
 * are refused with 400 `unsupported_parameter` (tools, n > 1, non-text content or response formats,
 * logprobs, audio); the other sampling and bookkeeping fields are accepted and ignored (top_p, stop,
 * penalties, seed, user, metadata, store …). A system message is ignored: the prompt is the service's.
 * Errors use OpenAI's shape, `{error: {message, type, param, code}}` (openAiErrors below).
 */
import { randomUUID } from "node:crypto";
import { Router, type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import { AppError } from "../../errors.js";
import type { AskResult, Citation, QaService } from "../../service/index.js";
import { HTTP_STATUS, toAppError } from "../errors.js";
import { baseUrl, linkCitations } from "../links.js";
import { askBody, citation, parseBody } from "../schemas.js";

export const MODEL_PREFIX = "llmops-qa";

// ---------------------------------------------------------------------------------------------
// Schemas (also the OpenAPI document's)

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const chatMessage = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});

/** Unknown fields are accepted (and ignored): OpenAI clients send many this service has no use for. */
export const chatCompletionBody = z.looseObject({
  model: z.string().min(1).max(200).describe("an id from GET /v1/models"),
  messages: z.array(chatMessage).min(1).max(200),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional().describe("passed to the LLM (LLM mode)"),
  max_tokens: z.number().int().min(1).max(100_000).nullable().optional().describe("passed to the LLM (LLM mode)"),
  max_completion_tokens: z.number().int().min(1).max(100_000).nullable().optional().describe("the same as max_tokens"),
  n: z.number().int().min(1).nullable().optional().describe("1 only"),
  docs: z.array(z.string()).max(50).optional().describe("extension: only passages of these document ids"),
  k: z.number().int().min(1).max(20).optional().describe("extension: passages to retrieve"),
});
type ChatBody = z.infer<typeof chatCompletionBody>;

export const chatCitation = citation;

const completionUsage = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() });

/** What the service adds about the answer (not OpenAI's). */
const qaInfo = z.object({
  grounded: z.boolean(),
  mode: z.enum(["llm", "extractive"]),
  answer_model: z.string(),
  prompt_version: z.string(),
  standalone_question: z.string(),
  cost_usd: z.number(),
  warning: z.string().optional(),
});

/** What a completion and each of its stream's chunks share. */
const completionHead = z.object({
  id: z.string(),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.null(),
});

export const chatCompletion = completionHead.extend({
  object: z.literal("chat.completion"),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
      logprobs: z.null(),
      finish_reason: z.literal("stop"),
    }),
  ),
  usage: completionUsage,
  citations: z.array(chatCitation),
  qa: qaInfo,
});

export const chatCompletionChunk = completionHead.extend({
  object: z.literal("chat.completion.chunk"),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal("assistant").optional(), content: z.string().optional() }),
      logprobs: z.null(),
      finish_reason: z.literal("stop").nullable(),
    }),
  ),
  usage: completionUsage.nullable().optional().describe("null on every chunk but the last when stream_options.include_usage is set"),
  citations: z.array(chatCitation).optional().describe("on the chunk with finish_reason"),
  qa: qaInfo.optional(),
});

export const model = z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() });
export const modelList = z.object({ object: z.literal("list"), data: z.array(model) });

export const openAiError = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
});

// ---------------------------------------------------------------------------------------------
// Routes

export function openAiRoutes(service: QaService): Router {
  const r = Router();
  const created = Math.floor(service.startedAt.getTime() / 1000);

  const models = async (): Promise<Array<z.input<typeof model> & { promptVersion: string }>> => {
    const { default: def, versions } = await service.promptVersions();
    const entry = (id: string, promptVersion: string) => ({ id, object: "model" as const, created, owned_by: MODEL_PREFIX, promptVersion });
    return [entry(MODEL_PREFIX, def), ...versions.map((v) => entry(`${MODEL_PREFIX}:${v}`, v))];
  };
  const findModel = async (id: string) => {
    const found = (await models()).find((m) => m.id === id);
    if (!found) throw new AppError("MODEL_NOT_FOUND", `The model '${id}' does not exist; GET /v1/models lists ${MODEL_PREFIX} and ${MODEL_PREFIX}:<prompt version>`);
    return found;
  };
  const view = ({ promptVersion: _p, ...m }: Awaited<ReturnType<typeof models>>[number]): z.input<typeof model> => m;

  r.get("/v1/models", async (_req, res) => {
    res.json({ object: "list", data: (await models()).map(view) } satisfies z.input<typeof modelList>);
  });

  r.get("/v1/models/:model", async (req, res) => {
    res.json(view(await findModel(String(req.params.model))) satisfies z.input<typeof model>);
  });

  r.post("/v1/chat/completions", async (req, res) => {
    const body = parseBody(chatCompletionBody, req.body);
    refuseUnsupported(body);
    const { promptVersion } = await findModel(body.model);
    const { question, history, promptText } = conversation(body);
    const ask = parseBody(askBody, { question, history: history.length ? history : undefined, docs: body.docs, k: body.k, promptVersion });
    const generation = {
      ...(typeof body.temperature === "number" ? { temperature: body.temperature } : {}),
      ...(body.max_completion_tokens || body.max_tokens ? { maxTokens: (body.max_completion_tokens ?? body.max_tokens)! } : {}),
    };
    // Readiness, documents and prompt version are checked before anything is sent (a plain JSON error, streamed or not).
    const prepared = await service.prepareAsk({ ...ask, generation });
    const base = baseUrl(req, service.config.publicUrl);
    const id = `chatcmpl-${randomUUID().replaceAll("-", "")}`;
    const stamp = Math.floor(Date.now() / 1000);
    const head = { id, created: stamp, model: body.model, system_fingerprint: null };

    const finish = (result: AskResult, streamed: string) => {
      const citations = linkCitations(result.citations, base);
      const tail = sourcesText(citations);
      const content = streamed + tail;
      const llmTokens = result.usage.promptTokens + result.usage.completionTokens > 0;
      const prompt = llmTokens ? result.usage.promptTokens : service.countTokens(promptText);
      const completion = llmTokens ? result.usage.completionTokens : service.countTokens(content);
      const qa = {
        grounded: result.grounded,
        mode: result.mode,
        answer_model: result.model,
        prompt_version: result.promptVersion,
        standalone_question: result.standaloneQuestion,
        cost_usd: result.usage.costUsd,
        ...(result.warning ? { warning: result.warning } : {}),
      };
      return { citations, tail, content, usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }, qa };
    };

    if (!body.stream) {
      const result = await prepared.run();
      const f = finish(result, result.answer);
      res.json({
        ...head,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: f.content, refusal: null }, logprobs: null, finish_reason: "stop" }],
        usage: f.usage,
        citations: f.citations,
        qa: f.qa,
      } satisfies z.input<typeof chatCompletion>);
      return;
    }

    // From here on errors are stream events (`data: {error}`).
    const includeUsage = body.stream_options?.include_usage === true;
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    res.status(200).set({ "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    res.flushHeaders();
    const write = (data: unknown) => {
      if (!res.writableEnded) res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
    };
    const chunk = (delta: { role?: "assistant"; content?: string }, finishReason: "stop" | null, extra: Partial<z.input<typeof chatCompletionChunk>> = {}) =>
      write({
        ...head,
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
        ...extra,
      } satisfies z.input<typeof chatCompletionChunk>);
    try {
      chunk({ role: "assistant", content: "" }, null);
      let streamed = "";
      const result = await prepared.run({
        signal: abort.signal,
        onToken: (delta) => {
          streamed += delta;
          chunk({ content: delta }, null);
        },
      });
      const f = finish(result, streamed);
      if (f.tail) chunk({ content: f.tail }, null);
      chunk({}, "stop", { citations: f.citations, qa: f.qa });
      if (includeUsage) write({ ...head, object: "chat.completion.chunk", choices: [], usage: f.usage } satisfies z.input<typeof chatCompletionChunk>);
      write("[DONE]");
    } catch (err) {
      const e = toAppError(err);
      if (e.code === "INTERNAL") req.log.error({ err }, "chat completion stream failed");
      write(openAiBody(e));
    } finally {
      if (!res.writableEnded) res.end();
    }
  });

  return r;
}

/** 400 unsupported_parameter for what this service cannot do (and would otherwise silently not do). */
function refuseUnsupported(body: ChatBody): void {
  const refuse = (param: string, why: string) => {
    throw new AppError("UNSUPPORTED_PARAMETER", `${param}: ${why}`, { details: { issues: [{ path: param, message: why }] } });
  };
  const b = body as Record<string, unknown>;
  if ((body.n ?? 1) > 1) refuse("n", "this service returns one answer per request (n: 1)");
  if (Array.isArray(b.tools) && b.tools.length) refuse("tools", "this model answers from its documents and calls no tools");
  if (Array.isArray(b.functions) && b.functions.length) refuse("functions", "this model answers from its documents and calls no functions");
  if (b.tool_choice !== undefined && b.tool_choice !== null && b.tool_choice !== "none" && b.tool_choice !== "auto") refuse("tool_choice", "no tools can be called");
  const format = b.response_format as { type?: unknown } | null | undefined;
  if (format && format.type !== "text") refuse("response_format", "answers are text with [n] citations; JSON output is not supported");
  if (b.logprobs === true || (typeof b.top_logprobs === "number" && b.top_logprobs > 0)) refuse("logprobs", "log probabilities are not available");
  if (b.audio || (Array.isArray(b.modalities) && b.modalities.some((m) => m !== "text"))) refuse("modalities", "text only");
  body.messages.forEach((m, i) => {
    if (m.role === "tool" || m.role === "function") refuse(`messages[${i}].role`, `${m.role} messages are not supported: no tools are called`);
    if (Array.isArray(m.content))
      m.content.forEach((p, j) => {
        if (p.type !== "text") refuse(`messages[${i}].content[${j}].type`, `${p.type} content is not supported, only text`);
      });
  });
}

const SOURCES = "\n\nSources:\n";

/** The question (the last user message), the history before it (user and assistant turns), and all of it as text. */
function conversation(body: ChatBody): { question: string; history: Array<{ role: "user" | "assistant"; content: string }>; promptText: string } {
  const text = (m: ChatBody["messages"][number]) =>
    typeof m.content === "string" ? m.content : Array.isArray(m.content) ? m.content.map((p) => p.text ?? "").join("\n") : "";
  const last = body.messages[body.messages.length - 1]!;
  if (last.role !== "user")
    throw new AppError("VALIDATION_FAILED", "messages: the last message must be the user's question", {
      details: { issues: [{ path: `messages.${body.messages.length - 1}.role`, message: "must be user" }] },
    });
  const turns = body.messages
    .slice(0, -1)
    .filter((m) => m.role === "user" || m.role === "assistant")
    .map((m) => {
      let content = text(m);
      // Our own answers come back with their sources appended: the history needs the answer only.
      if (m.role === "assistant" && content.includes(SOURCES)) content = content.slice(0, content.lastIndexOf(SOURCES));
      return { role: m.role as "user" | "assistant", content: content.trim().slice(0, 8000) };
    })
    .filter((t) => t.content.length > 0);
  return { question: text(last), history: turns.slice(-20), promptText: body.messages.map(text).join("\n") };
}

/** "Sources:" and one line per cited passage: `[n] Title, p. N, Section — url`. Empty when nothing is cited. */
export function sourcesText(citations: readonly Pick<Citation, "n" | "title" | "page" | "section" | "url" | "cited">[]): string {
  const cited = citations.filter((c) => c.cited);
  if (!cited.length) return "";
  const line = (c: (typeof cited)[number]) => `[${c.n}] ${[c.title, c.page ? `p. ${c.page}` : "", c.section ?? ""].filter(Boolean).join(", ")} — ${c.url}`;
  return `${SOURCES}${cited.map(line).join("\n")}`;
}

// ---------------------------------------------------------------------------------------------
// Errors in OpenAI's shape

const OPENAI_CODES: Partial<Record<string, string>> = { RATE_LIMITED: "rate_limit_exceeded" };

function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

export function openAiBody(e: AppError): z.input<typeof openAiError> {
  const issues = (e.details as { issues?: Array<{ path?: string }> } | undefined)?.issues;
  const param = e.code === "MODEL_NOT_FOUND" ? "model" : (Array.isArray(issues) ? issues[0]?.path : undefined) || null;
  return { error: { message: e.message, type: errorType(HTTP_STATUS[e.code]), param, code: OPENAI_CODES[e.code] ?? e.code.toLowerCase() } };
}

/** The error handler for the OpenAI-compatible routes (mounted before the general one, which keeps its shape for the rest). */
export function openAiErrors() {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toAppError(err);
    if (e.code === "INTERNAL") req.log?.error({ err }, "unhandled error");
    else req.log?.info({ code: e.code }, e.message);
    if (res.headersSent) return res.end();
    res.status(HTTP_STATUS[e.code]).json(openAiBody(e));
  };
}

/**
 * Chat models through @langchain/openai's ChatOpenAI: OpenAI itself, or any OpenAI-compatible server
 * (Ollama, vLLM, llama.cpp server, LM Studio) by base URL. Timeouts and bounded retries come from the
 * client; usage comes from the server when it reports it, otherwise it is counted with the tokenizer.
 */
import type { AIMessageChunk } from "@langchain/core/messages";
import type { ChatOpenAI } from "@langchain/openai";
import type { Config } from "../config/index.js";
import { inSpan, markError, SpanKind } from "../telemetry/index.js";
import { countTokens } from "./tokens.js";

export interface LlmReply {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** Why the model stopped ("stop", "length", ...), when the server says. */
  finishReason?: string;
  /** The model the server says answered, when it says. */
  responseModel?: string;
  /** Whether the token counts came from the server or were counted here with the tokenizer. */
  usageSource?: "server" | "counted";
}

export interface CompleteOptions {
  onToken?: (delta: string) => void;
  signal?: AbortSignal;
  /** This call's sampling temperature and completion cap; unset: the configured LLM_TEMPERATURE, LLM_MAX_TOKENS. */
  temperature?: number;
  maxTokens?: number;
}

export interface ChatModel {
  readonly model: string;
  /** For traces (GenAI semantic conventions): the provider and the request settings, when known. */
  readonly provider?: string;
  readonly temperature?: number;
  readonly maxTokens?: number;
  complete(system: string, user: string, opts?: CompleteOptions): Promise<LlmReply>;
}

/** What a trace records beside the model call: why it was made, with which prompt, over which index. */
export interface CallLabels {
  purpose: "answer" | "rewrite";
  promptVersion: string;
  generation?: string;
}

/**
 * Every model call goes through here: a CLIENT span named "chat <model>" with the OpenTelemetry GenAI
 * semantic-convention attributes (gen_ai.request.model, gen_ai.usage.input_tokens/output_tokens,
 * gen_ai.response.finish_reasons, ...), the prompt version and the index generation.
 */
export function callModel(
  llm: ChatModel,
  system: string,
  user: string,
  opts: CompleteOptions,
  labels: CallLabels,
): Promise<LlmReply> {
  return inSpan(
    `chat ${llm.model}`,
    async (span) => {
      const reply = await llm.complete(system, user, opts);
      span?.setAttributes({
        "gen_ai.usage.input_tokens": reply.promptTokens,
        "gen_ai.usage.output_tokens": reply.completionTokens,
        "gen_ai.response.finish_reasons": [reply.finishReason ?? "unknown"],
        ...(reply.responseModel ? { "gen_ai.response.model": reply.responseModel } : {}),
        ...(reply.usageSource ? { "qa.usage.source": reply.usageSource } : {}),
      });
      if (reply.finishReason === "length") markError(span, "the answer was cut at LLM_MAX_TOKENS");
      return reply;
    },
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": llm.provider ?? "openai",
        "gen_ai.provider.name": llm.provider ?? "openai",
        "gen_ai.request.model": llm.model,
        // This call's settings: a request's own (the OpenAI-compatible API's temperature, max_tokens), else the model's.
        ...((opts.temperature ?? llm.temperature) !== undefined ? { "gen_ai.request.temperature": (opts.temperature ?? llm.temperature)! } : {}),
        ...((opts.maxTokens ?? llm.maxTokens) !== undefined ? { "gen_ai.request.max_tokens": (opts.maxTokens ?? llm.maxTokens)! } : {}),
        "qa.llm.purpose": labels.purpose,
        "qa.prompt.version": labels.promptVersion,
        ...(labels.generation ? { "qa.index.generation": labels.generation } : {}),
      },
    },
  );
}

export class OpenAiChatModel implements ChatModel {
  readonly model: string;
  /** One client per (temperature, max tokens): the configured pair, and any a request asked for. */
  private readonly clients = new Map<string, Promise<ChatOpenAI>>();
  readonly provider: string;
  readonly temperature: number;
  readonly maxTokens: number;
  private readonly timeoutMs: number;

  constructor(private readonly cfg: Config["llm"]) {
    this.model = cfg.model;
    this.timeoutMs = cfg.timeoutMs;
    this.temperature = cfg.temperature;
    this.maxTokens = cfg.maxTokens;
    // GenAI semantic conventions name the provider; a compatible server is named by what it imitates.
    this.provider = "openai";
  }

  /**
   * The LangChain client, loaded on the first call: an extractive-only process never loads the OpenAI SDK.
   * Temperature and max tokens are fields of the client, not call options, hence a client per pair
   * (bounded: the oldest is dropped past 16).
   */
  private chat(temperature = this.cfg.temperature, maxTokens = this.cfg.maxTokens): Promise<ChatOpenAI> {
    const cfg = this.cfg;
    const key = `${temperature}|${maxTokens}`;
    const known = this.clients.get(key);
    if (known) return known;
    if (this.clients.size >= 16) this.clients.delete(this.clients.keys().next().value!);
    const client = import("@langchain/openai").then(
      ({ ChatOpenAI }) =>
        new ChatOpenAI({
          model: cfg.model,
          temperature,
          maxTokens,
          timeout: cfg.timeoutMs,
          maxRetries: cfg.maxRetries,
          apiKey: cfg.apiKey ?? "not-needed",
          streamUsage: true,
          configuration: cfg.baseUrl ? { baseURL: cfg.baseUrl } : undefined,
        }),
    );
    this.clients.set(key, client);
    return client;
  }

  async complete(system: string, user: string, opts: CompleteOptions = {}): Promise<LlmReply> {
    const client = await this.chat(opts.temperature, opts.maxTokens);
    const { HumanMessage, SystemMessage } = await import("@langchain/core/messages");
    const messages = [new SystemMessage(system), new HumanMessage(user)];
    const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs);
    let text = "";
    let usage: { input_tokens: number; output_tokens: number } | undefined;
    let meta: Record<string, unknown> | undefined;
    if (opts.onToken) {
      let final: AIMessageChunk | undefined;
      for await (const chunk of await client.stream(messages, { signal })) {
        const delta = typeof chunk.content === "string" ? chunk.content : "";
        if (delta) {
          text += delta;
          opts.onToken(delta);
        }
        final = final ? final.concat(chunk) : chunk;
      }
      usage = final?.usage_metadata;
      meta = final?.response_metadata;
    } else {
      const reply = await client.invoke(messages, { signal });
      text = typeof reply.content === "string" ? reply.content : JSON.stringify(reply.content);
      usage = reply.usage_metadata;
      meta = reply.response_metadata;
    }
    const finishReason = typeof meta?.finish_reason === "string" ? meta.finish_reason : undefined;
    const responseModel = typeof meta?.model_name === "string" ? meta.model_name : typeof meta?.model === "string" ? meta.model : undefined;
    return {
      text: text.trim(),
      promptTokens: usage?.input_tokens || countTokens(system) + countTokens(user),
      completionTokens: usage?.output_tokens || countTokens(text),
      usageSource: usage?.input_tokens && usage.output_tokens ? "server" : "counted",
      ...(finishReason ? { finishReason } : {}),
      ...(responseModel ? { responseModel } : {}),
    };
  }
}

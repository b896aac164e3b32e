/**
 * Chat models through @langchain/openai's ChatOpenAI: OpenAI itself, or any OpenAI-compatible server
 * (Ollama, vLLM, llama.cpp server, LM Studio) by base URL. Timeouts and bounded retries come from the
 * client; usage comes from the server when it reports it, otherwise it is counted with the tokenizer.
 */
import type { AIMessageChunk } from "@langchain/core/messages";
import type { ChatOpenAI } from "@langchain/openai";
import type { Config } from "../config/index.js";
import { countTokens } from "./tokens.js";

export interface LlmReply {
  text: string;
  promptTokens: number;
  completionTokens: number;
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
  complete(system: string, user: string, opts?: CompleteOptions): Promise<LlmReply>;
}

export class OpenAiChatModel implements ChatModel {
  readonly model: string;
  /** One client per (temperature, max tokens): the configured pair, and any a request asked for. */
  private readonly clients = new Map<string, Promise<ChatOpenAI>>();
  private readonly timeoutMs: number;

  constructor(private readonly cfg: Config["llm"]) {
    this.model = cfg.model;
    this.timeoutMs = cfg.timeoutMs;
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
    } else {
      const reply = await client.invoke(messages, { signal });
      text = typeof reply.content === "string" ? reply.content : JSON.stringify(reply.content);
      usage = reply.usage_metadata;
    }
    return {
      text: text.trim(),
      promptTokens: usage?.input_tokens || countTokens(system) + countTokens(user),
      completionTokens: usage?.output_tokens || countTokens(text),
    };
  }
}

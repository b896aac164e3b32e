/** OpenAI embeddings (or any OpenAI-compatible /v1/embeddings server) through @langchain/openai. */
import { OpenAIEmbeddings } from "@langchain/openai";
import { OPENAI_DIMENSIONS, type Embedder } from "./types.js";


export interface OpenAiEmbedderOptions {
  model: string;
  apiKey: string | undefined;
  baseUrl: string | undefined;
  dimensions?: number;
}

export class OpenAiEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private readonly client: OpenAIEmbeddings;

  constructor(opts: OpenAiEmbedderOptions) {
    this.dimensions = opts.dimensions ?? OPENAI_DIMENSIONS[opts.model] ?? 1536;
    this.id = `openai:${opts.model}`;
    this.client = new OpenAIEmbeddings({
      model: opts.model,
      apiKey: opts.apiKey ?? "not-needed",
      batchSize: 128,
      maxRetries: 3,
      configuration: opts.baseUrl ? { baseURL: opts.baseUrl } : undefined,
    });
  }

  async embedDocuments(texts: string[], onProgress?: (done: number) => void): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += 128) {
      out.push(...(await this.client.embedDocuments(texts.slice(i, i + 128))));
      onProgress?.(out.length);
    }
    return out;
  }

  embedQuery(text: string): Promise<number[]> {
    return this.client.embedQuery(text);
  }

  async close(): Promise<void> {}
}

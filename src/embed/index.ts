import type { Config } from "../config/index.js";
import { LsaEmbedder } from "./lsa.js";
import { OPENAI_DIMENSIONS, type Embedder } from "./types.js";

export type { Embedder } from "./types.js";

/**
 * An embedder whose implementation is imported on first use: the bundled encoder (TensorFlow.js) and the
 * OpenAI SDK stay out of a process that never embeds with them.
 */
class LazyEmbedder implements Embedder {
  private impl: Promise<Embedder> | undefined;
  constructor(
    readonly id: string,
    readonly dimensions: number,
    private readonly load: () => Promise<Embedder>,
  ) {}
  private get(): Promise<Embedder> {
    return (this.impl ??= this.load());
  }
  async embedDocuments(texts: string[], onProgress?: (done: number) => void): Promise<number[][]> {
    return (await this.get()).embedDocuments(texts, onProgress);
  }
  async embedQuery(text: string): Promise<number[]> {
    return (await this.get()).embedQuery(text);
  }
  async close(): Promise<void> {
    if (this.impl) await (await this.impl).close();
  }
}

/** The embedder the configuration selects (EMBEDDER=lsa|use|openai). */
export function createEmbedder(config: Pick<Config, "embedder">): Embedder {
  const e = config.embedder;
  if (e.kind === "openai")
    return new LazyEmbedder(`openai:${e.model}`, OPENAI_DIMENSIONS[e.model] ?? 1536, async () => {
      const { OpenAiEmbedder } = await import("./openai.js");
      return new OpenAiEmbedder({ model: e.model, apiKey: e.apiKey, baseUrl: e.baseUrl });
    });
  if (e.kind === "use")
    return new LazyEmbedder("use-lite-512", 512, async () => {
      const { UseEmbedder } = await import("./use.js");
      return new UseEmbedder(e.workers);
    });
  return new LsaEmbedder(e.dimensions);
}

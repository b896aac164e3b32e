import type { Config } from "../config/index.js";
import { OpenAiEmbedder } from "./openai.js";
import type { Embedder } from "./types.js";
import { UseEmbedder } from "./use.js";

export type { Embedder } from "./types.js";

/** The embedder the configuration selects (EMBEDDER=use|openai). */
export function createEmbedder(config: Pick<Config, "embedder">): Embedder {
  const e = config.embedder;
  if (e.kind === "openai") return new OpenAiEmbedder({ model: e.model, apiKey: e.apiKey, baseUrl: e.baseUrl });
  return new UseEmbedder(e.workers);
}

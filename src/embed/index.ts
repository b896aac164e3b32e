import type { Config } from "../config/index.js";
import { LsaEmbedder } from "./lsa.js";
import { OpenAiEmbedder } from "./openai.js";
import type { Embedder } from "./types.js";
import { UseEmbedder } from "./use.js";

export type { Embedder } from "./types.js";

/** The embedder the configuration selects (EMBEDDER=lsa|use|openai). */
export function createEmbedder(config: Pick<Config, "embedder">): Embedder {
  const e = config.embedder;
  if (e.kind === "openai") return new OpenAiEmbedder({ model: e.model, apiKey: e.apiKey, baseUrl: e.baseUrl });
  if (e.kind === "use") return new UseEmbedder(e.workers);
  return new LsaEmbedder(e.dimensions);
}

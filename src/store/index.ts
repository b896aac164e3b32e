/**
 * The store layer's public surface: the port (types.ts) and the store the configuration selects.
 * Retrieval, ingestion and the service depend on the port only; the file store is one implementation.
 */
import { FileIndexStore } from "./file/store.js";
import type { IndexStore } from "./types.js";

export * from "./types.js";
export { LangChainVectorStore } from "./langchain.js";

/** The index store for the configuration (INDEX_DIR: files with hnswlib). */
export function createIndexStore(config: { indexDir: string }): IndexStore {
  return new FileIndexStore(config.indexDir);
}

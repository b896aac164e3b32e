/**
 * The store layer's public surface: the port (types.ts) and the store the configuration selects.
 * Retrieval, ingestion and the service depend on the port only; the file store and the Postgres store
 * are its implementations.
 */
import { FileIndexStore } from "./file/store.js";
import { PostgresFeedbackTable } from "./postgres/feedback.js";
import { PostgresIndexStore } from "./postgres/store.js";
import type { IndexStore } from "./types.js";

export * from "./types.js";
export { isSchemaTooNew, isStoreUnavailable, jobConflict, schemaTooNew, storeUnavailable } from "./errors.js";
export { MemoryJobStore } from "./jobs.js";
export { LangChainVectorStore } from "./langchain.js";
export type { FeedbackRow, PostgresFeedbackTable } from "./postgres/feedback.js";

export interface StoreConfig {
  indexDir: string;
  store?: { kind: "file" | "postgres"; databaseUrl?: string; poolMax: number; poolWaitMs: number; statementTimeoutMs: number; pollMs: number };
}

/** The index store for the configuration: INDEX_STORE=file (INDEX_DIR, hnswlib) or postgres (DATABASE_URL, pgvector). */
export function createIndexStore(config: StoreConfig): IndexStore {
  const s = config.store;
  if (s?.kind === "postgres") {
    if (!s.databaseUrl) throw new Error("INDEX_STORE=postgres needs DATABASE_URL");
    return PostgresIndexStore.connect({ ...s, databaseUrl: s.databaseUrl });
  }
  return new FileIndexStore(config.indexDir);
}

/** The feedback table when the configuration puts the store in Postgres (on its pool); undefined otherwise. */
export function createFeedbackTable(config: StoreConfig): PostgresFeedbackTable | undefined {
  const s = config.store;
  if (s?.kind !== "postgres") return undefined;
  if (!s.databaseUrl) throw new Error("INDEX_STORE=postgres needs DATABASE_URL");
  return PostgresFeedbackTable.connect({ ...s, databaseUrl: s.databaseUrl });
}

/** Ingestion with the configured corpus, embedder and chunking: what the CLI, `npm start` and re-index use. */
import type { Config } from "../config/index.js";
import { loadCorpusEntries } from "../corpus/catalog.js";
import { createEmbedder, type Embedder } from "../embed/index.js";
import { createIndexStore, type IndexStore } from "../store/index.js";
import { ingest, type IngestEvent, type IngestResult } from "./pipeline.js";

export interface IngestRunOptions {
  force?: boolean;
  onEvent?: (e: IngestEvent) => void;
  /**
   * The process's embedder (a serving process re-indexing): used and left open, its creator closes it.
   * Without one, this run creates the configured embedder and closes it when done.
   */
  embedder?: Embedder;
  /** The process's store (a serving process re-indexing): used and left open. Without one, the configured store, closed when done. */
  store?: IndexStore;
}

export async function ingestWithConfig(config: Config, opts: IngestRunOptions = {}): Promise<IngestResult> {
  const embedder = opts.embedder ?? createEmbedder(config);
  const store = opts.store ?? createIndexStore(config);
  try {
    return await ingest({
      corpusDir: config.corpusDir,
      store,
      entries: await loadCorpusEntries(config),
      embedder,
      chunking: config.chunking,
      force: opts.force,
      onEvent: opts.onEvent,
    });
  } finally {
    // Only what this run created: a given embedder belongs to its creator.
    if (!opts.embedder) await embedder.close();
    if (!opts.store) await store.close?.();
  }
}

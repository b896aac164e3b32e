/** Ingestion with the configured corpus, embedder and chunking: what the CLI, `npm start` and re-index use. */
import type { Config } from "../config/index.js";
import { loadCorpusEntries } from "../corpus/catalog.js";
import { createEmbedder } from "../embed/index.js";
import { createIndexStore } from "../store/index.js";
import { ingest, type IngestEvent, type IngestResult } from "./pipeline.js";

export async function ingestWithConfig(config: Config, opts: { force?: boolean; onEvent?: (e: IngestEvent) => void } = {}): Promise<IngestResult> {
  const embedder = createEmbedder(config);
  try {
    return await ingest({
      corpusDir: config.corpusDir,
      store: createIndexStore(config),
      entries: await loadCorpusEntries(config),
      embedder,
      chunking: config.chunking,
      force: opts.force,
      onEvent: opts.onEvent,
    });
  } finally {
    await embedder.close();
  }
}

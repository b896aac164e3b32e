/**
 * npm start: everything a fresh clone needs, then serve.
 *   1. documents missing from CORPUS_DIR are fetched (from CORPUS_MIRROR when set, else their URLs);
 *   2. an index is built when INDEX_DIR has none (an existing one is updated only by `npm run ingest`
 *      or the admin API, so a restart is fast);
 *   3. the server starts.
 * A document that cannot be fetched is reported and skipped; the service starts on what it has.
 */
import { ConfigError, loadConfig } from "../config/index.js";
import { loadCorpusEntries } from "../corpus/catalog.js";
import { fetchCorpus } from "../corpus/fetch.js";
import { readManifest } from "../index/store.js";
import { ingestWithConfig } from "../ingest/run.js";
import { handleSignals, startServer } from "../server/index.js";
import { isMain } from "./is-main.js";
import { ingestReporter } from "./progress.js";

export async function start(): Promise<void> {
  const config = loadConfig();
  const entries = await loadCorpusEntries(config);
  const report = await fetchCorpus({ entries, corpusDir: config.corpusDir, mirrorDir: config.corpusMirror });
  for (const r of report.results)
    if (r.status !== "present") console.error(`corpus: ${r.id} ${r.status}${r.reason ? `: ${r.reason}` : ""}`);
  if (!(await readManifest(config.indexDir).catch(() => null))) {
    console.error(`no index in ${config.indexDir}: building it (first start only)`);
    const r = await ingestWithConfig(config, { onEvent: ingestReporter() });
    console.error(`index ready: ${r.documents} documents, ${r.chunks} chunks in ${r.seconds.toFixed(1)} s`);
  }
  handleSignals(await startServer(config));
}

if (isMain(import.meta.url)) {
  start().catch((err) => {
    console.error(err instanceof ConfigError ? err.message : `failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
}

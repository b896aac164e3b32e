/**
 * npm start: everything a fresh clone needs, then serve.
 *   1. documents missing from CORPUS_DIR are fetched: their mirror editions from CORPUS_MIRROR when
 *      it is set, else their original editions from their URLs (see src/corpus/fetch.ts);
 *   2. an index is built when the store has none (an existing one is updated only by `npm run ingest`
 *      or the admin API, so a restart is fast): in process for files; with Postgres, as a re-index job
 *      once the server listens, so that of several replicas starting together only one builds it (the
 *      others serve it when it is switched in); with the database unreachable, the server starts
 *      anyway and /readyz answers 503 until it is back;
 *   3. the server starts.
 * A document that cannot be fetched is reported and skipped; the service starts on what it has.
 */
import { loadConfig, type Config } from "../config/index.js";
import { loadCorpusDocuments } from "../corpus/catalog.js";
import { fetchCorpus, type FetchReport } from "../corpus/fetch.js";
import { createEmbedder } from "../embed/index.js";
import { isAppError } from "../errors.js";
import { createIndexStore, isStoreUnavailable } from "../store/index.js";
import { ingestWithConfig } from "../ingest/run.js";
import { handleSignals, startServer } from "../server/index.js";
import { firstUseNote, formatResult } from "./fetch.js";
import { isMain } from "./is-main.js";
import { ingestReporter } from "./progress.js";

/** Step 1: fetches what is missing and reports, on stderr, every document that was not already present. */
export async function fetchMissingDocuments(config: Config, fetchImpl?: typeof fetch): Promise<FetchReport> {
  const documents = await loadCorpusDocuments(config);
  const report = await fetchCorpus({ documents, corpusDir: config.corpusDir, mirrorDir: config.corpusMirror, fetchImpl });
  for (const r of report.results) if (r.status !== "present" || r.checksum === "first-use") console.error(`corpus: ${formatResult(r)}`);
  const note = firstUseNote(report);
  if (note) console.error(`corpus: ${note}`);
  return report;
}

export async function start(): Promise<void> {
  const config = loadConfig();
  await fetchMissingDocuments(config);
  // One embedder for the process: the first-start build and the server (and its re-index jobs) share
  // it; this function created it, so it closes it, after the server has drained.
  const embedder = createEmbedder(config);
  const store = createIndexStore(config);
  let missing = false;
  try {
    await store.init?.();
    missing = (await store.current().catch((err) => (isStoreUnavailable(err) ? Promise.reject(err) : null))) === null;
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    console.error(`${err.message}: starting without it (/readyz answers 503 until it is reachable)`);
  }
  const postgres = config.store.kind === "postgres";
  if (missing && !postgres) {
    console.error(`no index in ${store.location}: building it (first start only)`);
    const r = await ingestWithConfig(config, { onEvent: ingestReporter(), embedder, store });
    console.error(`index ready: ${r.documents} documents, ${r.chunks} chunks in ${r.seconds.toFixed(1)} s`);
  }
  const running = await startServer(config, { embedder, store });
  if (missing && postgres) {
    // Exactly one replica wins the job; the others are told one runs and serve what it switches in.
    await running.service.startReindex({ kind: "reindex" }).then(
      (job) => console.error(`no index in ${store.location}: building it as re-index job ${job.jobId} (first start only)`),
      (err: Error) => console.error(`no index in ${store.location} yet: ${err.message}`),
    );
  }
  handleSignals({
    ...running,
    close: async () => {
      await running.close();
      await embedder.close();
      await store.close?.();
    },
  });
}

if (isMain(import.meta.url)) {
  start().catch((err) => {
    // Configuration, manifest, lock and schema errors say what and where on their own.
    const known = isAppError(err, "CONFIG_INVALID", "MANIFEST_INVALID", "CORPUS_LOCK_INVALID", "SCHEMA_TOO_NEW");
    console.error(known ? err.message : `failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
}

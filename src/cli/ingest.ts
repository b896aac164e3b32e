/**
 * npm run ingest [-- --force]
 * Builds (or incrementally updates) the index in INDEX_DIR from the documents in CORPUS_DIR.
 * Exit codes: 0 index written or already up to date; 1 nothing could be indexed or bad configuration.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config/index.js";
import { isAppError } from "../errors.js";
import { ingestWithConfig } from "../ingest/run.js";
import { isMain } from "./is-main.js";
import { ingestReporter } from "./progress.js";

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { force: { type: "boolean", default: false } } });
  const config = loadConfig();
  try {
    const r = await ingestWithConfig(config, { force: values.force, onEvent: ingestReporter() });
    const where = config.store.kind === "postgres" ? `generation ${r.manifest?.generation} in Postgres` : config.indexDir;
    const verb = r.upToDate ? "index up to date (nothing changed)" : `index written to ${where}`;
    console.log(
      `${verb}: ${r.documents} documents, ${r.pages} pages, ${r.chunks} chunks, ${r.embedded} embedded, ` +
        `${r.skipped.length} skipped, ${r.missing.length} missing, ${r.seconds.toFixed(2)} s`,
    );
    return 0;
  } catch (err) {
    if (isAppError(err, "NOTHING_TO_INDEX")) {
      console.error(`ingest failed: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`ingest failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

/**
 * node --import tsx src/cli/baseline.ts [--no-cache] [--corpus DIR]
 * Builds the LangChain tutorial recipe's index (src/eval/baseline.ts) and prints one JSON line: chunks,
 * pages, seconds, maxRssKb. bench/run.ts runs it in a child process to time a cold build.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { loadConfig } from "../config/index.js";
import { loadCorpusEntries } from "../corpus/catalog.js";
import { buildBaseline, inProcessEncoder } from "../eval/baseline.js";
import { isMain } from "./is-main.js";

/** A build (cold unless the cache has it), reported as one JSON line on stdout. */
async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { "no-cache": { type: "boolean", default: false }, corpus: { type: "string" } } });
  const config = loadConfig();
  const corpusDir = values.corpus ? path.resolve(values.corpus) : config.corpusDir;
  const embedder = inProcessEncoder();
  try {
    const build = await buildBaseline({
      corpusDir,
      entries: await loadCorpusEntries(config),
      embedder,
      cacheRoot: values["no-cache"] ? null : undefined,
      onStage: (stage, info) => process.stderr.write(`baseline: ${stage}${info ? ` ${JSON.stringify(info)}` : ""}\n`),
    });
    const probe = await build.store.similaritySearchWithScore("attention", 1);
    process.stdout.write(
      `${JSON.stringify({
        chunks: build.chunks,
        pages: build.pages,
        missing: build.missing,
        seconds: build.seconds,
        fromCache: build.fromCache,
        probe: probe.length,
        maxRssKb: process.resourceUsage().maxRSS,
      })}\n`,
    );
    return 0;
  } finally {
    await embedder.close();
  }
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`baseline failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

/**
 * Builds the index over the real corpus once per test run, for the integration and quality tests:
 * documents are copied from ../shared/corpus (as .ci/run does) into .cache/test-corpus and indexed
 * into .cache/test-index. Incremental, so a second run takes seconds. Fails loudly without the mirror.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { loadConfig, PROJECT_ROOT } from "../src/config/index.js";
import { fetchCorpus } from "../src/corpus/fetch.js";
import { loadCorpusManifest } from "../src/corpus/manifest.js";
import { ingestWithConfig } from "../src/ingest/run.js";

export const MIRROR = path.resolve(PROJECT_ROOT, "../shared/corpus");

declare module "vitest" {
  export interface ProvidedContext {
    realCorpus: { corpusDir: string; indexDir: string; manifest: string; buildSeconds: number };
  }
}

export default async function setup(project: TestProject): Promise<void> {
  if (!existsSync(MIRROR)) throw new Error(`the corpus mirror ${MIRROR} is missing: the integration tests need ../shared/corpus beside the project`);
  const corpusDir = path.join(PROJECT_ROOT, ".cache/test-corpus");
  const indexDir = path.join(PROJECT_ROOT, ".cache/test-index");
  const manifest = path.join(PROJECT_ROOT, "corpus/manifest.json");
  const documents = await loadCorpusManifest(manifest);
  const fetched = await fetchCorpus({ documents, corpusDir, mirrorDir: MIRROR, fetchImpl: () => Promise.reject(new Error("offline test run")) });
  const failed = fetched.results.filter((r) => r.status === "missing" || r.status === "checksum-mismatch");
  if (failed.length) throw new Error(`the corpus mirror ${MIRROR} lacks documents: ${failed.map((r) => `${r.id} (${r.reason})`).join("; ")}`);
  const config = loadConfig({ CORPUS_DIR: corpusDir, INDEX_DIR: indexDir, CORPUS_MANIFEST: manifest, LLM_PROVIDER: "extractive" });
  const t0 = performance.now();
  process.stderr.write(`global setup: indexing the real corpus into ${indexDir} (first run ~1-3 min)\n`);
  await ingestWithConfig(config);
  const buildSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(`global setup: index ready in ${buildSeconds.toFixed(1)} s\n`);
  project.provide("realCorpus", { corpusDir, indexDir, manifest, buildSeconds });
}

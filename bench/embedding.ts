/**
 * The cost of embedding a query: the default embedder (LSA, restored from the bench's index) and the
 * bundled Universal Sentence Encoder on the calling thread, over the same questions, after a warm-up.
 * Issue 8: the default must embed a query in at most 2 ms on this machine.
 */
import { loadConfig } from "../src/config/index.js";
import { createEmbedder } from "../src/embed/index.js";
import type { Embedder } from "../src/embed/types.js";
import { inProcessEncoder } from "../src/eval/baseline.js";
import { createIndexStore } from "../src/store/index.js";

export interface EmbeddingCost {
  embedder: string;
  /** Median and p95 milliseconds per query. */
  p50Ms: number;
  p95Ms: number;
}

async function time(embedder: Embedder, questions: string[]): Promise<EmbeddingCost> {
  for (const q of questions.slice(0, 10)) await embedder.embedQuery(q);
  const ms: number[] = [];
  for (let round = 0; round < 3; round++)
    for (const q of questions) {
      const t0 = performance.now();
      await embedder.embedQuery(q);
      ms.push(performance.now() - t0);
    }
  ms.sort((a, b) => a - b);
  const at = (p: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]! * 1000) / 1000;
  return { embedder: embedder.id, p50Ms: at(0.5), p95Ms: at(0.95) };
}

export async function queryEmbeddingCost(indexDir: string, questions: string[], withEncoder: boolean): Promise<EmbeddingCost[]> {
  const config = loadConfig({ ...process.env, INDEX_DIR: indexDir });
  const base = createEmbedder(config);
  const index = await createIndexStore(config).open({ embedder: base, ef: config.retrieval.ef });
  const ours = index.embedderModel && base.withModel ? base.withModel(index.embedderModel) : base;
  const out = [await time(ours, questions)];
  if (withEncoder) {
    const encoder = inProcessEncoder();
    try {
      out.push(await time(encoder, questions));
    } finally {
      await encoder.close();
    }
  }
  await base.close();
  return out;
}

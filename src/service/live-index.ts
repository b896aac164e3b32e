/**
 * The index a running service answers from. Loading builds a complete new Retriever first and then
 * replaces the reference in one assignment, so a request sees either the old index or the new one,
 * never a mix; a load that fails leaves the previous index serving and records why.
 */
import { watch, type FSWatcher } from "node:fs";
import type { Embedder } from "../embed/types.js";
import { IndexLoadError, loadIndex, readManifest } from "../index/store.js";
import { Retriever, type RetrievalParams } from "../retrieval/retriever.js";

export type IndexStatus = { ready: true; generation: string; loadedAt: string } | { ready: false; reason: string; code: string };

export class LiveIndex {
  private retriever: Retriever | null = null;
  private lastError: { code: string; reason: string } = { code: "INDEX_LOADING", reason: "the index has not been loaded yet" };
  private loadedAt = "";
  private watcher: FSWatcher | undefined;
  private loading: Promise<boolean> | undefined;
  /** Called after every successful swap (metrics, logs). */
  onSwap: (generation: string) => void = () => {};
  onLoadError: (err: Error) => void = () => {};

  constructor(
    readonly dir: string,
    private readonly embedder: Embedder,
    private readonly params: RetrievalParams & { ef: number },
    /** How an index is read from disk (evaluation sweeps pass a memoised loader). */
    private readonly load: typeof loadIndex = loadIndex,
  ) {}

  current(): Retriever | null {
    return this.retriever;
  }

  status(): IndexStatus {
    if (this.retriever) return { ready: true, generation: this.retriever.index.manifest.generation, loadedAt: this.loadedAt };
    return { ready: false, ...this.lastError };
  }

  /** Loads the index on disk if it differs from the one serving. Resolves true when a new index was swapped in. */
  reload(): Promise<boolean> {
    // Serialise loads: a watcher event during a load queues one more check afterwards.
    const run = async (): Promise<boolean> => {
      const manifest = await readManifest(this.dir).catch(() => null);
      if (manifest && manifest.generation === this.retriever?.index.manifest.generation) return false;
      try {
        const index = await this.load(this.dir, { embedder: this.embedder, ef: this.params.ef });
        // A corpus-fitted embedder (LSA) embeds queries in the space stored with this index.
        const embedder = index.embedderModel && this.embedder.withModel ? this.embedder.withModel(index.embedderModel) : this.embedder;
        this.retriever = new Retriever(index, embedder, this.params);
        warmPassages(this.retriever);
        this.loadedAt = new Date().toISOString();
        this.onSwap(index.manifest.generation);
        return true;
      } catch (err) {
        const e = err as Error;
        this.lastError = { code: err instanceof IndexLoadError ? err.code : "INDEX_INVALID", reason: e.message };
        this.onLoadError(e);
        return false;
      }
    };
    const next = (this.loading ?? Promise.resolve(false)).then(run, run);
    this.loading = next;
    return next;
  }

  /** Picks up indexes rebuilt by another process (`npm run ingest`): watches manifest.json's folder. */
  watch(): void {
    if (this.watcher) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      this.watcher = watch(this.dir, (_event, name) => {
        if (name !== "manifest.json") return;
        clearTimeout(timer);
        timer = setTimeout(() => void this.reload(), 200);
      });
      this.watcher.on("error", () => this.unwatch());
    } catch {
      // The folder may not exist yet; SIGHUP still triggers a reload.
    }
  }

  unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

/**
 * Analyses every passage of a new index in the background, 64 at a time between other work, so the
 * first queries do not pay for it (about 0.5 ms a passage, once per index).
 */
function warmPassages(retriever: Retriever): void {
  const n = retriever.index.chunks.length;
  let next = 0;
  const step = () => {
    const end = Math.min(n, next + 64);
    for (; next < end; next++) retriever.passage(next);
    if (next < n) setImmediate(step);
  };
  setImmediate(step);
}

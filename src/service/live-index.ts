/**
 * The index a running service answers from. Loading opens a complete new generation from the index
 * store and builds its Retriever first, then replaces the reference in one assignment, so a request
 * sees either the old index or the new one, never a mix; a load that fails leaves the previous index
 * serving and records why.
 */
import type { Embedder } from "../embed/types.js";
import { Retriever, type RetrievalParams } from "../retrieval/retriever.js";
import { isAppError, type ReadinessCode } from "../errors.js";
import type { IndexSnapshot, IndexStore, OpenOptions } from "../store/index.js";

/** Readiness: the generation serving, or the catalogue code and the reason why none is. */
export type IndexStatus = { ready: true; generation: string; loadedAt: string } | { ready: false; code: ReadinessCode; reason: string };

/** Opens a generation (evaluation sweeps pass a memoised one over the store's open). */
export type OpenIndex = (opts: OpenOptions) => Promise<IndexSnapshot>;

export class LiveIndex {
  private retriever: Retriever | null = null;
  private lastError: { code: ReadinessCode; reason: string } = { code: "INDEX_LOADING", reason: "the index has not been loaded yet" };
  private loadedAt = "";
  private unwatchStore: (() => void) | undefined;
  private loading: Promise<boolean> | undefined;
  /** Called after every successful swap (metrics, logs). */
  onSwap: (generation: string) => void = () => {};
  onLoadError: (err: Error) => void = () => {};

  constructor(
    readonly store: IndexStore,
    private readonly embedder: Embedder,
    private readonly params: RetrievalParams & { ef: number },
    private readonly open: OpenIndex = (opts) => store.open(opts),
  ) {}

  current(): Retriever | null {
    return this.retriever;
  }

  status(): IndexStatus {
    // A snapshot whose store cannot be reached answers nothing (its searches run in the database).
    const health = this.store.health?.();
    if (health && !health.available) return { ready: false, code: "STORE_UNAVAILABLE", reason: health.reason ?? "the store is unavailable" };
    if (this.retriever) return { ready: true, generation: this.retriever.index.manifest.generation, loadedAt: this.loadedAt };
    return { ready: false, ...this.lastError };
  }

  /** Loads the store's current generation if it differs from the one serving. Resolves true when a new index was swapped in. */
  reload(): Promise<boolean> {
    // Serialise loads: a watcher event during a load queues one more check afterwards.
    const run = async (): Promise<boolean> => {
      const manifest = await this.store.current().catch(() => null);
      if (manifest && manifest.generation === this.retriever?.index.manifest.generation) return false;
      try {
        const index = await this.open({ embedder: this.embedder, ef: this.params.ef });
        // A corpus-fitted embedder (LSA) embeds queries in the space stored with this index.
        const embedder = index.embedderModel && this.embedder.withModel ? this.embedder.withModel(index.embedderModel) : this.embedder;
        this.retriever = new Retriever(index, embedder, this.params);
        warmPassages(this.retriever);
        this.loadedAt = new Date().toISOString();
        this.onSwap(index.manifest.generation);
        return true;
      } catch (err) {
        const e = err as Error;
        // A schema newer than the code is an index this build cannot use (INDEX_INVALID, the reason says so).
        this.lastError = { code: isAppError(err, "INDEX_MISSING", "INDEX_INVALID", "STORE_UNAVAILABLE") ? err.code : "INDEX_INVALID", reason: e.message };
        this.onLoadError(e);
        return false;
      }
    };
    const next = (this.loading ?? Promise.resolve(false)).then(run, run);
    this.loading = next;
    return next;
  }

  /** Picks up generations made current by another process (`npm run ingest`). */
  watch(): void {
    this.unwatchStore ??= this.store.watch(() => void this.reload());
  }

  unwatch(): void {
    this.unwatchStore?.();
    this.unwatchStore = undefined;
  }
}

/**
 * Analyses every passage of a new index in the background, 64 at a time between other work, so the
 * first queries do not pay for it (about 0.5 ms a passage, once per index).
 */
function warmPassages(retriever: Retriever): void {
  const chunks = retriever.index.chunks.all();
  let next = 0;
  const step = () => {
    const end = Math.min(chunks.length, next + 64);
    for (; next < end; next++) retriever.passage(chunks[next]!.id);
    if (next < chunks.length) setImmediate(step);
  };
  setImmediate(step);
}

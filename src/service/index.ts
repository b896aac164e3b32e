/**
 * The question-answering service behind the HTTP API: the live index, search, ask, documents,
 * re-index jobs. It knows nothing of HTTP; the server is a thin layer over it.
 */
import type { Config } from "../config/index.js";
import { PromptLibrary, PromptNotFoundError } from "../answer/prompts.js";
import { OpenAiChatModel, type ChatModel } from "../answer/llm.js";
import { ask, type AskHooks, type AskRequest, type AskResult } from "../answer/service.js";
import { createEmbedder, type Embedder } from "../embed/index.js";
import type { IngestEvent } from "../ingest/pipeline.js";
import type { IndexedDocument } from "../index/types.js";
import type { Retriever } from "../retrieval/retriever.js";
import { AppError } from "../errors.js";
import { DEFAULT_SENTENCE_WEIGHTS, type SentenceWeights } from "../retrieval/sentence-score.js";
import type { loadIndex } from "../index/store.js";
import { LiveIndex } from "./live-index.js";
import { Reindexer } from "./reindex.js";

export interface SearchResultItem {
  id: string;
  docId: string;
  title: string;
  page: number | null;
  section: string | null;
  text: string;
  score: number;
}

export interface ServiceOptions {
  /** Replaces the configured LLM (tests). */
  llm?: ChatModel | null;
  /** An embedder shared with other services (evaluation sweeps); its owner closes it, not this service. */
  embedder?: Embedder;
  /** Reads an index from disk (evaluation sweeps share one loaded index between services). */
  loadIndex?: typeof loadIndex;
}

function sentenceWeights(config: Config): SentenceWeights {
  const r = config.reader;
  return { ...DEFAULT_SENTENCE_WEIGHTS, context: r.contextWeight, candidate: r.candidateWeight, length: r.lengthCost };
}

export class QaService {
  readonly live: LiveIndex;
  readonly prompts: PromptLibrary;
  readonly reindexer: Reindexer;
  readonly llm: ChatModel | undefined;
  private readonly embedder: Embedder;
  /** Whether this service created its embedder (and so closes it); a given one belongs to the caller. */
  private readonly ownsEmbedder: boolean;

  constructor(
    readonly config: Config,
    opts: ServiceOptions = {},
  ) {
    this.embedder = opts.embedder ?? createEmbedder(config);
    this.ownsEmbedder = opts.embedder === undefined;
    this.live = new LiveIndex(config.indexDir, this.embedder, { ...config.retrieval, sentence: sentenceWeights(config) }, opts.loadIndex);
    this.prompts = new PromptLibrary(config.promptsDir);
    this.llm = opts.llm === null ? undefined : (opts.llm ?? (config.llm.provider === "extractive" ? undefined : new OpenAiChatModel(config.llm)));
    this.reindexer = new Reindexer(
      // Loaded on the first re-index: a serving process never needs the PDF parser otherwise.
      async (onEvent: (e: IngestEvent) => void, opts) => (await import("../ingest/run.js")).ingestWithConfig(config, { onEvent, force: opts.force }),
      () => this.live.reload(),
    );
  }

  /** Loads the index (if any) and starts watching for rebuilt ones. Never throws: readiness tells. */
  async start(): Promise<void> {
    await this.live.reload();
    if (this.config.http.watchIndex) this.live.watch();
  }

  async close(): Promise<void> {
    this.live.unwatch();
    await this.reindexer.idle();
    if (this.ownsEmbedder) await this.embedder.close();
  }

  private retriever(): Retriever {
    const r = this.live.current();
    if (!r) {
      const s = this.live.status();
      throw new AppError("INDEX_NOT_READY", `no index is loaded: ${s.ready ? "" : s.reason}`);
    }
    return r;
  }

  private checkDocs(retriever: Retriever, docs: string[] | undefined): void {
    if (!docs?.length) return;
    const known = new Set(retriever.index.manifest.documents.map((d) => d.id));
    const unknown = docs.filter((d) => !known.has(d));
    if (unknown.length)
      throw new AppError("UNKNOWN_DOCUMENT", `unknown document id(s): ${unknown.join(", ")}; GET /v1/documents lists the indexed ones`);
  }

  async search(query: string, k: number, docs?: string[]): Promise<{ results: SearchResultItem[]; tookMs: number }> {
    const t0 = performance.now();
    const retriever = this.retriever();
    this.checkDocs(retriever, docs);
    const { hits } = await retriever.search(query, { k, docs });
    const results = hits.map(({ chunk: c, score }) => ({
      id: c.id,
      docId: c.docId,
      title: c.title,
      page: c.page,
      section: c.section,
      text: c.text,
      score: Math.round(score * 1e4) / 1e4,
    }));
    return { results, tookMs: Math.round((performance.now() - t0) * 10) / 10 };
  }

  async ask(req: AskRequest, hooks?: AskHooks): Promise<AskResult> {
    const retriever = this.retriever();
    this.checkDocs(retriever, req.docs);
    try {
      return await ask(
        {
          retriever,
          prompts: this.prompts,
          llm: this.llm,
          settings: {
            defaultK: 5,
            promptVersion: this.config.prompt.version,
            tokenBudget: this.config.prompt.tokenBudget,
            evidence: {
              threshold: this.config.retrieval.abstainThreshold,
              minCandidate: this.config.retrieval.abstainMinCandidate,
              maxNovelty: this.config.retrieval.abstainMaxNovelty,
              maxNamedNovelty: this.config.retrieval.abstainMaxNamedNovelty,
            },
            readerPrior: this.config.reader.prior,
            prices: this.config.prices,
          },
        },
        req,
        hooks,
      );
    } catch (err) {
      if (err instanceof PromptNotFoundError) throw new AppError("UNKNOWN_PROMPT_VERSION", err.message);
      throw err;
    }
  }

  documents(): IndexedDocument[] {
    return this.retriever().index.manifest.documents;
  }
}

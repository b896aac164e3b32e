/**
 * The question-answering service behind the HTTP API: the live index, search, ask, documents,
 * re-index jobs. It knows nothing of HTTP; the server is a thin layer over it.
 */
import type { Config } from "../config/index.js";
import { PromptLibrary } from "../answer/prompts.js";
import { OpenAiChatModel, type ChatModel } from "../answer/llm.js";
import { AnswerCache } from "../answer/cache.js";
import { ask, promptFor, type AnswerContext, type AskHooks, type AskRequest, type AskResult, type CachedAnswer } from "../answer/service.js";
import { inSpan } from "../telemetry/index.js";
import { LRUCache } from "lru-cache";
import { createEmbedder, type Embedder } from "../embed/index.js";
import type { IngestEvent } from "../ingest/pipeline.js";
import type { IndexedDocument } from "../store/index.js";
import { viewHit, type HitView, type Retriever } from "../retrieval/retriever.js";
import { AppError } from "../errors.js";
import { DEFAULT_SENTENCE_WEIGHTS, type SentenceWeights } from "../retrieval/sentence-score.js";
import { createIndexStore, isStoreUnavailable, type IndexStore } from "../store/index.js";
import { EventEmitter } from "node:events";
import type { CorpusEntry } from "../corpus/manifest.js";
import { addDocument, downloadDocument, removeDocument, type NewDocument } from "./documents.js";
import { LocalFiles, type DocumentFile, type DocumentPage } from "./files.js";
import type { GuardDeps } from "./fetch-guard.js";
import { countTokens } from "../answer/tokens.js";
import { LiveIndex, type IndexStatus, type OpenIndex } from "./live-index.js";
import { Reindexer, type JobKind, type ReindexJob } from "./reindex.js";
import { createFeedbackStore, type FeedbackRecord, type FeedbackStore } from "./feedback.js";
import { assignPrompt, type PromptAssignment } from "./rollout.js";

export type { AnswerVerification, AskHooks, AskRequest, AskResult, Citation, VerifyAction } from "../answer/service.js";
export type { FeedbackRecord, FeedbackStore } from "./feedback.js";
export { createFeedbackStore, JsonlFeedbackStore, PostgresFeedbackStore } from "./feedback.js";
export type { PromptAssignment } from "./rollout.js";
export type { IndexStatus } from "./live-index.js";
export type { ReindexJob } from "./reindex.js";
export type { NewDocument } from "./documents.js";
export type { DocumentFile, DocumentPage } from "./files.js";
export type { Resolver, GuardFetch } from "./fetch-guard.js";
export { documentFilePath } from "../answer/service.js";
/** The document-id schema (corpus/manifest.ts), for hosts that validate requests (the HTTP schemas). */
export { documentId } from "../corpus/manifest.js";

/** One search result: the same view of a hit as a citation's (retrieval/retriever.ts viewHit). */
export type SearchResultItem = HitView;

export interface ServiceOptions {
  /** Replaces the configured LLM (tests). */
  llm?: ChatModel | null;
  /** An embedder shared with other services (evaluation sweeps); its owner closes it, not this service. */
  embedder?: Embedder;
  /** Where the index lives (default: the store INDEX_DIR configures). */
  store?: IndexStore;
  /** Opens a generation (evaluation sweeps share one opened index between services). */
  openIndex?: OpenIndex;
  /** How downloads by URL resolve names and connect (tests map names to addresses without DNS; default: the system's). */
  fetchGuard?: GuardDeps;
  /** Where feedback is kept (default: the feedback table with INDEX_STORE=postgres, else DATA_DIR/feedback.jsonl). */
  feedback?: FeedbackStore;
}

/** A question as a host hands it to the service: the answer request and who asks (for sticky prompt rollouts). */
export interface AskInput extends AskRequest {
  /** A client or conversation id: the same one always gets the same prompt version under PROMPT_ROLLOUT. */
  clientId?: string;
}

/** The ask result as the service returns it: how its prompt version was chosen. */
export interface ServiceAskResult extends AskResult {
  promptAssignment: PromptAssignment;
}

export interface FeedbackInput {
  answerId: string;
  rating: "up" | "down";
  comment?: string;
  expected?: string;
}

/** Answers remembered for feedback (by answerId): the latest ones since the service started. */
export const REMEMBERED_ANSWERS = 10_000;

function sentenceWeights(config: Config): SentenceWeights {
  const r = config.reader;
  return { ...DEFAULT_SENTENCE_WEIGHTS, context: r.contextWeight, candidate: r.candidateWeight, length: r.lengthCost };
}

/** An ask request that passed its checks (QaService.prepareAsk), ready to answer. */
export interface PreparedAsk {
  run(hooks?: AskHooks): Promise<ServiceAskResult>;
}

/** What the service tells its host (the HTTP server logs and counts these). */
export interface ServiceEvents {
  indexLoaded: [info: { generation: string; documents: number; chunks: number }];
  indexLoadFailed: [reason: string];
  reindexFinished: [job: ReindexJob];
  /** Every answer, whichever host asked (metrics count these). */
  answered: [result: ServiceAskResult, info: { cache: "hit" | "miss" | "bypass" | "off" }];
  feedback: [record: FeedbackRecord];
  /** Jobs found running with a dead worker (no heartbeat), now marked failed. */
  jobsReaped: [jobs: ReindexJob[]];
  /** The store's backend went away or came back (Postgres). */
  storeHealth: [health: { available: boolean; reason?: string }];
}

/**
 * The one facade the HTTP layer (and any other host) talks to: readiness, search, ask, documents,
 * prompts, re-index jobs and document administration. Its parts (the live index, the job runner, the
 * prompt library) stay private.
 */
export class QaService extends EventEmitter<ServiceEvents> {
  private readonly live: LiveIndex;
  private readonly prompts: PromptLibrary;
  private readonly reindexer: Reindexer;
  readonly llm: ChatModel | undefined;
  private readonly embedder: Embedder;
  /** Whether this service created its embedder (and so closes it); a given one belongs to the caller. */
  private readonly ownsEmbedder: boolean;
  private readonly guard: GuardDeps;
  private readonly files: LocalFiles;
  /** When the service started (the OpenAI-compatible model list's `created`). */
  readonly startedAt = new Date();
  private readonly cache: AnswerCache<CachedAnswer>;
  /** Recent answers by id, for feedback. */
  private readonly answers = new LRUCache<string, { result: ServiceAskResult; req: Pick<AskInput, "question" | "docs">; generation: string }>({ max: REMEMBERED_ANSWERS });
  readonly feedbackStore: FeedbackStore;
  private readonly store: IndexStore;
  /** Whether this service created its store (and so closes it). */
  private readonly ownsStore: boolean;
  /** Whether this service created its feedback store (and so closes it). */
  private readonly ownsFeedback: boolean;
  private readonly unwatchHealth: (() => void) | undefined;

  constructor(
    readonly config: Config,
    opts: ServiceOptions = {},
  ) {
    super();
    this.embedder = opts.embedder ?? createEmbedder(config);
    this.ownsEmbedder = opts.embedder === undefined;
    this.guard = opts.fetchGuard ?? {};
    this.files = new LocalFiles(config.corpusDir);
    this.store = opts.store ?? createIndexStore(config);
    this.ownsStore = opts.store === undefined;
    this.live = new LiveIndex(this.store, this.embedder, { ...config.retrieval, sentence: sentenceWeights(config) }, opts.openIndex);
    this.prompts = new PromptLibrary(config.promptsDir);
    this.llm = opts.llm === null ? undefined : (opts.llm ?? (config.llm.provider === "extractive" ? undefined : new OpenAiChatModel(config.llm)));
    this.reindexer = new Reindexer(
      // Loaded on the first re-index: a serving process never needs the PDF parser otherwise. The job
      // embeds with the service's one embedder (no second worker pool or model) and leaves it open.
      async (onEvent: (e: IngestEvent) => void, opts) =>
        (await import("../ingest/run.js")).ingestWithConfig(config, { onEvent, force: opts.force, embedder: this.embedder, store: this.store }),
      () => this.live.reload(),
      this.store.jobs,
      { heartbeatMs: config.jobs.heartbeatMs, onReaped: (jobs) => this.emit("jobsReaped", jobs) },
    );
    this.cache = new AnswerCache<CachedAnswer>(config.cache);
    this.feedbackStore = opts.feedback ?? createFeedbackStore(config);
    this.ownsFeedback = opts.feedback === undefined;
    this.live.onSwap = (generation) => {
      // Keys hold the generation, so old answers could never be served again: free their memory now.
      this.cache.clear();
      const index = this.live.current()?.index;
      this.emit("indexLoaded", { generation, documents: index?.manifest.documents.length ?? 0, chunks: index?.chunks.size ?? 0 });
    };
    this.live.onLoadError = (err) => this.emit("indexLoadFailed", err.message);
    this.unwatchHealth = this.store.watchHealth?.((health) => this.emit("storeHealth", health));
    this.reindexer.onFinish = (job) => this.emit("reindexFinished", job);
  }

  /** Where the index lives, for logs ("files in ./index", "postgres at postgres://..."). */
  get storeLocation(): string {
    return this.store.location;
  }

  /** Readiness: the generation serving, or why none is. */
  status(): IndexStatus {
    return this.live.status();
  }

  /** Loads the store's current generation if it changed (SIGHUP). */
  reload(): Promise<boolean> {
    return this.live.reload();
  }

  /** The prompt versions a request may ask for, and the default. */
  async promptVersions(): Promise<{ default: string; versions: string[] }> {
    return { default: this.config.prompt.version, versions: (await this.prompts.list()).filter((v) => v.startsWith("qa-")) };
  }

  /** Throws UNKNOWN_PROMPT_VERSION unless the version exists (a check before a long run). */
  async checkPromptVersion(version: string): Promise<void> {
    await this.prompts.get(version);
  }

  /** Starts a re-index job; REINDEX_RUNNING while one runs (on any replica sharing the job store). `force` parses every document again. */
  async startReindex(opts: { force?: boolean; kind?: JobKind; document?: string } = {}): Promise<ReindexJob> {
    return this.reindexer.start(opts);
  }

  /** A job by id; NOT_FOUND when it is unknown. */
  async job(jobId: string): Promise<ReindexJob> {
    const job = await this.reindexer.get(jobId);
    if (!job)
      throw new AppError(
        "NOT_FOUND",
        `no re-index job ${jobId}${this.store.jobs?.durable ? "" : " (with INDEX_STORE=file, jobs are kept in memory until the server restarts)"}`,
      );
    return job;
  }

  /** Adds a document (uploaded bytes, or a URL to download) and starts the re-index that makes it searchable. */
  async addDocument(doc: NewDocument | { url: string; id?: string; title?: string }): Promise<{ document: CorpusEntry; job: ReindexJob }> {
    await this.notWhileReindexing();
    const upload = "data" in doc ? doc : { ...(await downloadDocument(doc.url, this.config.fetch, this.guard)), id: doc.id, title: doc.title, url: doc.url };
    const document = await addDocument(this.config, upload);
    return { document, job: await this.startReindex({ kind: "upload", document: document.id }) };
  }

  /** Removes a document from the corpus and starts the re-index that drops it. */
  async removeDocument(id: string): Promise<ReindexJob> {
    await this.notWhileReindexing();
    await removeDocument(this.config, id);
    return this.startReindex({ kind: "remove", document: id });
  }

  private async notWhileReindexing(): Promise<void> {
    if (await this.reindexer.isRunning()) throw new AppError("REINDEX_RUNNING", "a re-index job is running; retry when it has finished");
  }

  /**
   * Prepares the store (Postgres: migrations), loads the index (if any) and starts watching for rebuilt
   * ones. Throws only when the database's schema is newer than this build (the process must not serve
   * it); an unreachable database is reported (storeHealth) and readiness says so until it is back.
   */
  async start(): Promise<void> {
    try {
      await this.store.init?.();
    } catch (err) {
      // SCHEMA_TOO_NEW (and anything unexpected) stops the start; an unreachable database does not.
      if (!isStoreUnavailable(err)) throw err;
      this.emit("storeHealth", { available: false, reason: err.message });
    }
    await this.live.reload();
    // Files: WATCH_INDEX. A store with a backend shared by replicas (Postgres) is always followed: its
    // watch is how every replica moves to a new generation and how one started without its database
    // finds it.
    if (this.config.http.watchIndex || this.store.health) this.live.watch();
    await this.reindexer.startReaping();
  }

  async close(): Promise<void> {
    this.live.unwatch();
    this.unwatchHealth?.();
    this.reindexer.stopReaping();
    await this.reindexer.idle();
    if (this.ownsEmbedder) await this.embedder.close();
    if (this.ownsStore) await this.store.close?.();
    if (this.ownsFeedback) await this.feedbackStore.close?.();
  }

  private retriever(): Retriever {
    const r = this.live.current();
    if (!r) {
      const s = this.live.status();
      throw new AppError("INDEX_NOT_READY", `no index is loaded: ${s.ready ? "" : s.reason}`, s.ready ? {} : { details: { reason: s.code } });
    }
    return r;
  }

  private checkDocs(retriever: Retriever, docs: string[] | undefined): void {
    if (!docs?.length) return;
    const known = new Set(retriever.index.manifest.documents.map((d) => d.id));
    const unknown = docs.filter((d) => !known.has(d));
    if (unknown.length)
      throw new AppError("UNKNOWN_DOCUMENT", `unknown document id(s): ${unknown.join(", ")}; GET /v1/documents lists the indexed ones`, {
        details: { unknown },
      });
  }

  async search(query: string, k: number, docs?: string[]): Promise<{ results: SearchResultItem[]; tookMs: number }> {
    const t0 = performance.now();
    const retriever = this.retriever();
    this.checkDocs(retriever, docs);
    const { hits } = await retriever.search(query, { k, docs });
    const results = hits.map(viewHit);
    return { results, tookMs: Math.round((performance.now() - t0) * 10) / 10 };
  }

  /** The answer context for the live index. */
  private answerContext(retriever: Retriever): AnswerContext {
    return {
      retriever,
      prompts: this.prompts,
      llm: this.llm,
      cache: this.cache,
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
        verifyAction: this.config.verify.action,
      },
    };
  }

  /**
   * Checks an ask request before any answering work: an index is serving (INDEX_NOT_READY), the
   * documents exist (UNKNOWN_DOCUMENT), the prompt version exists (UNKNOWN_PROMPT_VERSION), the one
   * the request names or the one the rollout (PROMPT_ROLLOUT) assigns its client. The run it resolves
   * to answers from the index it checked, so a swap in between changes nothing. A host that streams
   * calls this before it commits to a response.
   *
   * The run answers (answer/service.ts ask) with the answer cache and citation checks, remembers the
   * answer by answerId for feedback, and emits "answered" (metrics count every host's answers).
   */
  async prepareAsk(req: AskInput): Promise<PreparedAsk> {
    const retriever = this.retriever();
    this.checkDocs(retriever, req.docs);
    const generation = retriever.index.manifest.generation;
    const { version, assignment } = assignPrompt(this.config.prompt.rollout, this.config.prompt.version, req);
    await this.prompts.get(version);
    const { clientId: _client, ...request } = req;
    const context = this.answerContext(retriever);
    const run = (hooks?: AskHooks) =>
      inSpan(
        "qa.ask",
        async (span) => {
          const answered = await ask(context, { ...request, promptVersion: version }, hooks);
          const result: ServiceAskResult = { ...answered, promptAssignment: assignment };
          span?.setAttributes({
            "qa.answer_id": result.answerId,
            "qa.mode": result.mode,
            "qa.grounded": result.grounded,
            "qa.cached": result.cached,
            ...(result.verification ? { "qa.verify.unsupported": result.verification.unsupported.length } : {}),
          });
          this.answers.set(result.answerId, { result, req: { question: req.question, docs: req.docs }, generation });
          const cache = result.cached ? "hit" : !this.cache.enabled ? "off" : req.cache === false ? "bypass" : "miss";
          this.emit("answered", result, { cache });
          return result;
        },
        { attributes: { "qa.prompt.version": version, "qa.prompt.assignment": assignment, "qa.index.generation": generation, "qa.k": req.k ?? 5 } },
      );
    return { run };
  }

  async ask(req: AskInput, hooks?: AskHooks): Promise<ServiceAskResult> {
    return (await this.prepareAsk(req)).run(hooks);
  }

  /** Records feedback on an answer this service gave (UNKNOWN_ANSWER once it is forgotten); emits "feedback". */
  async feedback(input: FeedbackInput): Promise<FeedbackRecord> {
    const known = this.answers.get(input.answerId);
    if (!known)
      throw new AppError("UNKNOWN_ANSWER", `no answer ${input.answerId}: feedback is taken on the last ${REMEMBERED_ANSWERS} answers since the server started`);
    const { result: r, req, generation } = known;
    const record: FeedbackRecord = {
      answerId: r.answerId,
      rating: input.rating,
      ...(input.comment ? { comment: input.comment } : {}),
      ...(input.expected ? { expected: input.expected } : {}),
      at: new Date().toISOString(),
      question: req.question,
      standaloneQuestion: r.standaloneQuestion,
      ...(req.docs?.length ? { docs: req.docs } : {}),
      answer: r.answer,
      grounded: r.grounded,
      mode: r.mode,
      model: r.model,
      promptVersion: r.promptVersion,
      promptAssignment: r.promptAssignment,
      generation,
      cached: r.cached,
      cited: r.citations.filter((c) => c.cited).map((c) => ({ docId: c.docId, page: c.page })),
      ...(r.verification ? { unsupportedSentences: r.verification.unsupported.length } : {}),
    };
    await this.feedbackStore.add(record);
    this.emit("feedback", record);
    return record;
  }

  /** The prompt an LLM would get for a question, without calling one (npm run cost). */
  async promptFor(req: AskRequest): Promise<{ grounded: boolean; system: string; user: string; passages: number; promptVersion: string }> {
    const retriever = this.retriever();
    this.checkDocs(retriever, req.docs);
    return promptFor(this.answerContext(retriever), req);
  }

  documents(): IndexedDocument[] {
    return this.retriever().index.manifest.documents;
  }

  /** The indexed copy of a document: where its file is and what it is; NOT_FOUND or DOCUMENT_CHANGED otherwise. */
  documentFile(id: string): Promise<DocumentFile> {
    return this.files.file(this.indexedDocument(id));
  }

  /** A markdown or HTML document's readable page (sanitised, an anchor per section), what its citations open. */
  documentPage(id: string): Promise<DocumentPage> {
    return this.files.page(this.indexedDocument(id));
  }

  private indexedDocument(id: string): IndexedDocument {
    const doc = this.documents().find((d) => d.id === id);
    if (!doc) throw new AppError("NOT_FOUND", `no indexed document "${id}"; GET /v1/documents lists them`);
    return doc;
  }

  /** Tokens in a text (o200k_base): usage for clients that count tokens when no model spent any. */
  countTokens(text: string): number {
    return countTokens(text);
  }
}

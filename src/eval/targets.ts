/**
 * What an evaluation runs against: a QaService in this process (the same code the HTTP API serves), a
 * running server through its HTTP API, or any pair of search/ask functions (the LangChain baseline).
 */
import type { AskResult } from "../answer/service.js";
import { loadConfig, type Config } from "../config/index.js";
import { AppError } from "../errors.js";
import type { Embedder } from "../embed/types.js";
import { QaService } from "../service/index.js";
import type { OpenIndex } from "../service/live-index.js";
import { createIndexStore, type IndexSnapshot, type StoreConfig } from "../store/index.js";

/** Opens each (index, embedder, ef) once: settings that only change query-time knobs share it. */
export function memoizedOpen(config: StoreConfig): OpenIndex {
  const store = createIndexStore(config);
  const cache = new Map<string, Promise<IndexSnapshot>>();
  return async (opts) => {
    const key = `${opts.embedder.id}\0${opts.ef}`;
    let opened = cache.get(key);
    if (!opened) cache.set(key, (opened = store.open(opts)));
    return opened;
  };
}

export interface RetrievedPassage {
  id?: string;
  docId: string;
  page?: number | null;
  text: string;
  score?: number;
}

export interface EvalAnswer {
  answer: string;
  /** False when the answerer declined ("the documents do not cover this"). */
  grounded: boolean;
  promptTokens?: number;
  completionTokens?: number;
  costUsd?: number;
  mode?: string;
  /** Documents of the passages the answer cites. */
  citedDocs?: string[];
}

export type SearchFn = (question: string, k: number) => Promise<RetrievedPassage[]>;
export type AskFn = (question: string, opts: { promptVersion?: string; k?: number }) => Promise<EvalAnswer>;

export interface EvalTarget {
  search: SearchFn;
  ask: AskFn;
}

/** The parts of an answer (in-process AskResult or the same JSON over HTTP) that the evaluation scores. */
function toEvalAnswer(r: Pick<AskResult, "answer" | "grounded" | "usage" | "mode" | "citations">): EvalAnswer {
  return {
    answer: r.answer,
    grounded: r.grounded,
    promptTokens: r.usage.promptTokens,
    completionTokens: r.usage.completionTokens,
    costUsd: r.usage.costUsd,
    mode: r.mode,
    citedDocs: r.citations.filter((c) => c.cited).map((c) => c.docId),
  };
}

/** A running server as an evaluation target, through its HTTP API (POST /v1/search, POST /v1/ask). */
export function httpTarget(baseUrl: string): EvalTarget {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(new URL(path, baseUrl), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const json = (await res.json()) as any;
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${json?.error?.code ?? ""} ${json?.error?.message ?? ""}`.trim());
    return json;
  };
  return {
    search: async (question, k) => (await post("/v1/search", { query: question, k })).results,
    ask: async (question, { promptVersion, k }) =>
      toEvalAnswer(await post("/v1/ask", { question, ...(promptVersion ? { promptVersion } : {}), ...(k ? { k } : {}) })),
  };
}

/** A QaService as an evaluation target: exactly the calls the API's /v1/search and /v1/ask make. */
export function serviceTarget(service: QaService): EvalTarget {
  return {
    search: async (question, k) => (await service.search(question, k)).results,
    ask: async (question, { promptVersion, k }) =>
      toEvalAnswer(await service.ask({ question, ...(promptVersion ? { promptVersion } : {}), ...(k ? { k } : {}) })),
  };
}

export function settingsOf(config: Config): Record<string, unknown> {
  return {
    indexDir: config.indexDir,
    store: config.store.kind,
    embedder: config.embedder.kind,
    chunking: config.chunking,
    retrieval: config.retrieval,
    llm: { provider: config.llm.provider, model: config.llm.model },
    prompt: config.prompt.version,
  };
}

// ---------------------------------------------------------------------------------------------
// Services built for evaluation: loadConfig() over the environment plus overrides.

/** Environment overrides (KEY=VALUE as in .env) applied over process.env. */
export type EnvOverrides = Record<string, string | undefined>;

export interface EvalServiceOptions {
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Reuse one embedder across services (sweeps); the caller closes it, not the services. */
  embedder?: Embedder;
  /** Reuse opened indexes across services (sweeps): see memoizedOpen(). */
  openIndex?: OpenIndex;
}

/**
 * A started QaService over the configured index (loadConfig(env + overrides); the index watcher off).
 * Throws EVAL_SETUP when no index can be loaded, saying why (missing: run `npm run ingest`).
 */
export async function createEvalService(overrides: EnvOverrides = {}, opts: EvalServiceOptions = {}): Promise<QaService> {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), WATCH_INDEX: "false" };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const config = loadConfig(env);
  const service = new QaService(config, { ...(opts.embedder ? { embedder: opts.embedder } : {}), ...(opts.openIndex ? { openIndex: opts.openIndex } : {}) });
  await service.start();
  const status = service.status();
  if (!status.ready) {
    await service.close();
    const hint = status.code === "INDEX_MISSING" ? " (run: npm run ingest)" : "";
    throw new AppError("EVAL_SETUP", `cannot load the index in ${service.storeLocation}: ${status.reason}${hint}`, { details: { reason: status.code } });
  }
  return service;
}


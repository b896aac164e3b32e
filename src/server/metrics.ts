/** Prometheus metrics (prom-client), one registry per server. */
import client from "prom-client";
import type { FeedbackRecord, ServiceAskResult } from "../service/index.js";

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    requests: new client.Counter({ name: "http_requests_total", help: "HTTP requests by route and status", labelNames: ["method", "route", "status"], registers: [registry] }),
    requestSeconds: new client.Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request latency by route and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    inFlight: new client.Gauge({ name: "http_requests_in_flight", help: "Work requests (search, ask, uploads) being served now", registers: [registry] }),
    shed: new client.Counter({
      name: "http_requests_shed_total",
      help: "Work requests refused with 503 OVERLOADED, by route and reason (in_flight: MAX_IN_FLIGHT reached; event_loop_delay: MAX_EVENT_LOOP_DELAY_MS passed)",
      labelNames: ["route", "reason"],
      registers: [registry],
    }),
    retrievalSeconds: new client.Histogram({ name: "rag_retrieval_duration_seconds", help: "Retrieval latency", buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] }),
    generationSeconds: new client.Histogram({ name: "rag_generation_duration_seconds", help: "Answer generation latency by mode", labelNames: ["mode"], buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    tokens: new client.Counter({ name: "rag_tokens_total", help: "LLM tokens by model and kind (prompt, completion)", labelNames: ["model", "kind"], registers: [registry] }),
    costUsd: new client.Counter({ name: "rag_cost_usd_total", help: "Estimated LLM cost in USD by model", labelNames: ["model"], registers: [registry] }),
    answers: new client.Counter({
      name: "rag_answers_total",
      help: "Answers by mode, grounded (false = abstained), prompt version and whether the answer cache served them",
      labelNames: ["mode", "grounded", "prompt_version", "cached"],
      registers: [registry],
    }),
    cacheHits: new client.Counter({ name: "rag_cache_hits_total", help: "Answers served from the answer cache", registers: [registry] }),
    cacheMisses: new client.Counter({ name: "rag_cache_misses_total", help: "Answers looked up in the answer cache and not found (made, then cached)", registers: [registry] }),
    cacheTokensSaved: new client.Counter({ name: "rag_cache_tokens_saved_total", help: "LLM tokens the cached answers cost when they were made, by model and kind", labelNames: ["model", "kind"], registers: [registry] }),
    cacheCostSaved: new client.Counter({ name: "rag_cache_cost_saved_usd_total", help: "Estimated USD the cached answers cost when they were made, by model", labelNames: ["model"], registers: [registry] }),
    sentencesChecked: new client.Counter({ name: "rag_verified_sentences_total", help: "Sentences of LLM answers checked against the passages they cite, by prompt version", labelNames: ["prompt_version"], registers: [registry] }),
    sentencesUnsupported: new client.Counter({
      name: "rag_unsupported_sentences_total",
      help: "Sentences of LLM answers their cited passages do not support, by prompt version",
      labelNames: ["prompt_version"],
      registers: [registry],
    }),
    feedback: new client.Counter({ name: "rag_feedback_total", help: "Feedback on answers by rating and prompt version", labelNames: ["rating", "prompt_version"], registers: [registry] }),
    llmFallbacks: new client.Counter({ name: "rag_llm_fallbacks_total", help: "Answers that fell back to extractive after an LLM failure", registers: [registry] }),
    indexDocuments: new client.Gauge({ name: "rag_index_documents", help: "Documents in the live index", registers: [registry] }),
    indexChunks: new client.Gauge({ name: "rag_index_chunks", help: "Chunks in the live index", registers: [registry] }),
    indexSwaps: new client.Counter({ name: "rag_index_swaps_total", help: "Index generations swapped in", registers: [registry] }),
    reindexJobs: new client.Counter({ name: "rag_reindex_jobs_total", help: "Re-index jobs by outcome", labelNames: ["outcome"], registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Counts one answer (the service's "answered" event: every host's answers, not only /v1/ask's). */
export function recordAnswer(m: Metrics, result: ServiceAskResult, info: { cache: "hit" | "miss" | "bypass" | "off" }, llmConfigured: boolean): void {
  if (!result.cached) {
    m.retrievalSeconds.observe(result.timings.retrievalMs / 1000);
    m.generationSeconds.observe({ mode: result.mode }, result.timings.generationMs / 1000);
  }
  m.answers.inc({ mode: result.mode, grounded: String(result.grounded), prompt_version: result.promptVersion, cached: String(result.cached) });
  if (result.usage.promptTokens + result.usage.completionTokens > 0) {
    m.tokens.inc({ model: result.model, kind: "prompt" }, result.usage.promptTokens);
    m.tokens.inc({ model: result.model, kind: "completion" }, result.usage.completionTokens);
    m.costUsd.inc({ model: result.model }, result.usage.costUsd);
  }
  if (info.cache === "hit") {
    m.cacheHits.inc();
    const saved = result.savedUsage;
    if (saved) {
      m.cacheTokensSaved.inc({ model: result.model, kind: "prompt" }, saved.promptTokens);
      m.cacheTokensSaved.inc({ model: result.model, kind: "completion" }, saved.completionTokens);
      m.cacheCostSaved.inc({ model: result.model }, saved.costUsd);
    }
  } else if (info.cache === "miss") m.cacheMisses.inc();
  // A cached answer's sentences were counted when it was made.
  if (result.verification && !result.cached) {
    m.sentencesChecked.inc({ prompt_version: result.promptVersion }, result.verification.checked);
    m.sentencesUnsupported.inc({ prompt_version: result.promptVersion }, result.verification.unsupported.length);
  }
  if (result.warning && result.mode === "extractive" && llmConfigured) m.llmFallbacks.inc();
}

export function recordFeedback(m: Metrics, record: FeedbackRecord): void {
  m.feedback.inc({ rating: record.rating, prompt_version: record.promptVersion });
}

/** Prometheus metrics (prom-client), one registry per server. */
import client from "prom-client";

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
    answers: new client.Counter({ name: "rag_answers_total", help: "Answers by mode and grounded (false = abstained)", labelNames: ["mode", "grounded"], registers: [registry] }),
    llmFallbacks: new client.Counter({ name: "rag_llm_fallbacks_total", help: "Answers that fell back to extractive after an LLM failure", registers: [registry] }),
    indexDocuments: new client.Gauge({ name: "rag_index_documents", help: "Documents in the live index", registers: [registry] }),
    indexChunks: new client.Gauge({ name: "rag_index_chunks", help: "Chunks in the live index", registers: [registry] }),
    indexSwaps: new client.Counter({ name: "rag_index_swaps_total", help: "Index generations swapped in", registers: [registry] }),
    reindexJobs: new client.Counter({ name: "rag_reindex_jobs_total", help: "Re-index jobs by outcome", labelNames: ["outcome"], registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

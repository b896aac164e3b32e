/**
 * What `npm run bench` holds the service to (issue 8). A missed target is printed, not an error:
 * the bench exits non-zero only when something failed (a step, an error response, a dead server).
 */
import type { LoadResult } from "./lib.js";

export interface Target {
  measure: string;
  /** The measured value in `unit`, or null when the bench did not measure it (a step failed or was skipped). */
  value: number | null;
  unit: "x" | "s" | "ms" | "req/s" | "MB";
  op: "<=" | ">=";
  limit: number;
  pass: boolean | null;
}

export interface Measured {
  /** Cold ingest wall time, ours / the LangChain tutorial recipe. */
  coldIngestRatio: number | null;
  reingestSeconds: number | null;
  /** Median milliseconds to embed a query with the default embedder. */
  queryEmbeddingMs: number | null;
  load: LoadResult[];
  idleRssKb: number | null;
  peakRssUnderLoadKb: number | null;
}

function target(measure: string, value: number | null, unit: Target["unit"], op: Target["op"], limit: number): Target {
  return { measure, value, unit, op, limit, pass: value === null ? null : op === "<=" ? value <= limit : value >= limit };
}

const step = (load: LoadResult[], path: string, connections: number) => load.find((r) => r.endpoint === `POST ${path}` && r.connections === connections);

export function evaluateTargets(m: Measured): Target[] {
  const at = (path: string, c: number) => step(m.load, path, c);
  const mb = (kb: number | null) => (kb === null ? null : Math.round(kb / 1024));
  return [
    target("cold ingest, ours / LangChain recipe (wall time)", m.coldIngestRatio, "x", "<=", 0.25),
    target("re-ingest, nothing changed (wall time)", m.reingestSeconds, "s", "<=", 2),
    target("query embedding, default embedder (p50)", m.queryEmbeddingMs, "ms", "<=", 2),
    target("search p50 at 1 connection", at("/v1/search", 1)?.p50 ?? null, "ms", "<=", 10),
    target("search accepted req/s at 16 connections", at("/v1/search", 16)?.acceptedRps ?? null, "req/s", ">=", 200),
    target("search accepted p99 at 64 connections", at("/v1/search", 64)?.p99 ?? null, "ms", "<=", 1000),
    target("ask (extractive) p50 at 1 connection", at("/v1/ask", 1)?.p50 ?? null, "ms", "<=", 30),
    target("ask (extractive) accepted req/s at 16 connections", at("/v1/ask", 16)?.acceptedRps ?? null, "req/s", ">=", 100),
    target("ask (extractive) accepted p99 at 64 connections", at("/v1/ask", 64)?.p99 ?? null, "ms", "<=", 1000),
    target("server RSS idle after warm-up (VmRSS)", mb(m.idleRssKb), "MB", "<=", 350),
    target("server peak RSS through the load (VmHWM)", mb(m.peakRssUnderLoadKb), "MB", "<=", 450),
  ];
}

/**
 * Per-client rate limits (express-rate-limit, in memory, keyed by client address).
 *
 *   RATE_LIMIT_PER_MINUTE (default 120) protects money: it applies, as one count, to every way to an
 *   answer when an LLM is configured (every answer may be a paid call): POST /v1/ask, POST
 *   /v1/chat/completions and MCP's ask_papers calls on POST /mcp; and to the admin routes (downloads,
 *   re-embedding, token guessing). Extractive answers and search are free and fast: overload, not a rate limit,
 *   protects them (see overload.ts), so a plain `npm run eval -- --url` is never refused.
 *   API_RATE_LIMIT_PER_MINUTE (default off) is an optional cap on every /v1 route, for a server
 *   exposed to clients that should not scrape it.
 *
 * Each limit keeps its own count, and a refused request gets 429 RATE_LIMITED with the standard
 * RateLimit / RateLimit-Policy headers (IETF draft 8) and Retry-After.
 */
import express, { Router } from "express";
import { rateLimit } from "express-rate-limit";
import type { Config } from "../config/index.js";
import { AppError } from "../errors.js";

function limiter(perMinute: number, name: string, what: string, setting: string) {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    identifier: name,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (_req, _res, next) =>
      next(new AppError("RATE_LIMITED", `more than ${perMinute} requests a minute from this address to ${what} (${setting}); retry after the seconds in the Retry-After header`)),
  });
}

/** Whether a JSON-RPC message (or batch) calls MCP's ask_papers tool. */
function asksTheLlm(body: unknown): boolean {
  const calls = Array.isArray(body) ? body : [body];
  return calls.some((m) => (m as { method?: unknown })?.method === "tools/call" && (m as { params?: { name?: unknown } }).params?.name === "ask_papers");
}

export function rateLimits(http: Config["http"], opts: { llmConfigured: boolean }): Router {
  const r = Router();
  if (http.apiRateLimitPerMinute > 0) r.use("/v1", limiter(http.apiRateLimitPerMinute, "api", "the API", "API_RATE_LIMIT_PER_MINUTE"));
  if (http.rateLimitPerMinute > 0) {
    // One count for every way to an LLM answer: /v1/ask, the OpenAI-compatible chat, MCP's ask_papers
    // (only that tool's calls: an MCP client's initialize, listings and searches cost nothing). The MCP
    // body is parsed here for that; the app's JSON parser then finds it parsed and leaves it.
    if (opts.llmConfigured) {
      const llm = limiter(http.rateLimitPerMinute, "llm", "answers by the LLM", "RATE_LIMIT_PER_MINUTE");
      r.post(["/v1/ask", "/v1/chat/completions"], llm);
      r.post("/mcp", express.json({ limit: http.bodyLimit, type: ["application/json", "application/*+json"] }), (req, res, next) =>
        asksTheLlm(req.body) ? llm(req, res, next) : next(),
      );
    }
    r.use("/v1/admin", limiter(http.rateLimitPerMinute, "admin", "the admin routes", "RATE_LIMIT_PER_MINUTE"));
  }
  return r;
}

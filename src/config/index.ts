/**
 * All configuration is read and validated here, once, from environment variables.
 * Every variable, its default and its meaning is listed in README.md ("Configuration").
 * Nothing else in src/ reads process.env.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { invalidInput } from "../errors.js";

/** The project's root folder (the nearest one up with a package.json), from src/ or a build in dist/. */
export const PROJECT_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const price = z.object({ input: z.number().min(0), output: z.number().min(0) });
const priceTable = z.record(z.string(), price);

/**
 * The one price file (pricing/prices.json, or PRICES_FILE): hosted models in USD per 1M tokens with the
 * tokenizer that counts their tokens, self-hosted options from a GPU-hour price and a stated throughput,
 * the date and the sources. Answers are costed from its hosted part; `npm run cost` reads all of it.
 */
export const pricingSchema = z.object({
  currency: z.literal("USD"),
  asOf: z.string().min(4),
  note: z.string().optional(),
  sources: z.record(z.string(), z.string()),
  hosted: z.record(
    z.string(),
    price.extend({
      vendor: z.string(),
      /** js-tiktoken encoding for OpenAI models; "approx" elsewhere (see npm run cost). */
      tokenizer: z.enum(["o200k_base", "cl100k_base", "approx"]),
      kind: z.enum(["chat", "embedding"]).default("chat"),
    }),
  ),
  selfHosted: z.record(
    z.string(),
    z.object({
      model: z.string(),
      gpus: z.number().int().min(1),
      gpuHourUsd: z.number().positive(),
      prefillTokensPerSecond: z.number().positive(),
      decodeTokensPerSecond: z.number().positive(),
      utilization: z.number().gt(0).max(1),
      tokenizer: z.enum(["o200k_base", "cl100k_base", "approx"]),
    }),
  ),
});

export type Pricing = z.output<typeof pricingSchema>;

export const DEFAULT_PRICES_FILE = path.join(PROJECT_ROOT, "pricing/prices.json");

/** Reads and validates a price file; the message names the file and the bad field. */
export function loadPricing(file: string): Pricing {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const withoutComments = json && typeof json === "object" ? stripComments(json as Record<string, unknown>) : json;
  const parsed = pricingSchema.safeParse(withoutComments);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/** "$comment" keys document the file; they are not entries. */
function stripComments(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([k]) => k !== "$comment")
      .map(([k, v]) => [k, v && typeof v === "object" && !Array.isArray(v) ? stripComments(v as Record<string, unknown>) : v]),
  );
}

/** A prompt rollout: `qa-v2:10` (10% of clients get qa-v2), several separated by commas. */
const rolloutSpec = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return [];
    const out: Array<{ version: string; percent: number }> = [];
    for (const part of v.split(",").map((p) => p.trim()).filter(Boolean)) {
      const m = /^([a-z0-9][a-z0-9.-]*):(\d+(?:\.\d+)?)$/.exec(part);
      if (!m || Number(m[2]) <= 0 || Number(m[2]) > 100) {
        ctx.addIssue({ code: "custom", message: `expected VERSION:PERCENT with 0 < PERCENT <= 100, comma-separated (e.g. qa-v2:10); got "${part}"` });
        return z.NEVER;
      }
      out.push({ version: m[1]!, percent: Number(m[2]) });
    }
    if (out.reduce((s, r) => s + r.percent, 0) > 100) ctx.addIssue({ code: "custom", message: "the rollout shares add up to more than 100%" });
    return out;
  });

/** The environment variables, each with its default and its own validation. */
export const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  INDEX_DIR: z.string().default("./index"),
  CORPUS_DIR: z.string().default("./corpus"),
  CORPUS_MIRROR: optionalString,
  CORPUS_MANIFEST: optionalString,
  PROMPTS_DIR: optionalString,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

  EMBEDDER: z.enum(["lsa", "use", "openai"]).default("lsa"),
  LSA_DIMENSIONS: int(8, 1024).default(128),
  EMBEDDING_MODEL: z.string().default("text-embedding-3-small"),
  EMBEDDING_BASE_URL: optionalString,
  EMBED_WORKERS: int(1, 16).default(2),
  OPENAI_API_KEY: optionalString,

  CHUNK_SIZE: int(200, 8000).default(900),
  CHUNK_OVERLAP: int(0, 4000).default(150),
  CHUNK_PREFIX: bool.default(true),

  RETRIEVAL_LEXICAL_WEIGHT: num(0, 10).default(1),
  RETRIEVAL_DENSE_WEIGHT: num(0, 10).default(0.3),
  RETRIEVAL_RRF_K: int(1, 1000).default(20),
  RETRIEVAL_CANDIDATES: int(5, 500).default(50),
  RETRIEVAL_RERANK_WEIGHT: num(0, 10).default(0.5),
  RETRIEVAL_NAMED_DOC_BOOST: num(0, 10).default(0.3),
  RETRIEVAL_RERANK_DEPTH: int(0, 500).default(20),
  HNSW_EF: int(10, 5000).default(200),
  ABSTAIN_THRESHOLD: num(0, 1).default(0.3),
  ABSTAIN_MIN_CANDIDATE: num(0, 3).default(0),
  ABSTAIN_MAX_NOVELTY: num(0, 1).default(0.25),
  ABSTAIN_MAX_NAMED_NOVELTY: num(0, 1).default(0.35),
  READER_CONTEXT_WEIGHT: num(0, 10).default(0.5),
  READER_CANDIDATE_WEIGHT: num(0, 10).default(0.6),
  READER_LENGTH_COST: num(0, 10).default(0.1),
  READER_PRIOR: num(0, 10).default(0.6),

  LLM_PROVIDER: z.enum(["auto", "openai", "openai-compatible", "extractive"]).default("auto"),
  LLM_MODEL: optionalString,
  LLM_BASE_URL: optionalString,
  LLM_API_KEY: optionalString,
  LLM_TEMPERATURE: num(0, 2).default(0),
  LLM_MAX_TOKENS: int(16, 16384).default(512),
  LLM_TIMEOUT_MS: int(100, 600_000).default(30_000),
  LLM_MAX_RETRIES: int(0, 10).default(2),
  PROMPT_VERSION: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/).default("qa-v1"),
  PROMPT_TOKEN_BUDGET: int(200, 100_000).default(2500),
  PRICE_TABLE: optionalString,
  PRICES_FILE: optionalString,
  PROMPT_ROLLOUT: rolloutSpec,

  ANSWER_CACHE_SIZE: int(0, 1_000_000).default(1000),
  ANSWER_CACHE_TTL_SECONDS: int(1, 30 * 86_400).default(3600),
  VERIFY_ACTION: z.enum(["flag", "drop", "abstain"]).default("flag"),
  DATA_DIR: z.string().default("./data"),

  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString,
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(["http/protobuf", "http/json", "grpc"]).default("http/protobuf"),
  OTEL_SERVICE_NAME: z.string().default("llmops-qa"),
  OTEL_SDK_DISABLED: bool.default(false),

  ADMIN_TOKEN: optionalString,
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(120),
  API_RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(0),
  MAX_IN_FLIGHT: int(0, 100_000).default(32),
  MAX_EVENT_LOOP_DELAY_MS: int(0, 600_000).default(200),
  CORS_ORIGINS: z.string().default(""),
  PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL like https://qa.example.org" }).optional()),
  ALLOWED_FETCH_HOSTS: z.string().default(""),
  FETCH_TIMEOUT_MS: int(100, 600_000).default(60_000),
  FETCH_MAX_REDIRECTS: int(0, 20).default(5),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i).default("100kb"),
  UPLOAD_LIMIT_MB: int(1, 500).default(25),
  REQUEST_TIMEOUT_MS: int(1000, 600_000).default(60_000),
  SHUTDOWN_GRACE_MS: int(0, 120_000).default(10_000),
  WATCH_INDEX: bool.default(true),

  INDEX_STORE: z.enum(["file", "postgres"]).default("file"),
  DATABASE_URL: optionalString,
  PG_POOL_MAX: int(1, 1000).default(10),
  PG_POOL_WAIT_MS: int(10, 600_000).default(2000),
  PG_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(10_000),
  PG_POLL_MS: int(100, 600_000).default(2000),
  JOB_HEARTBEAT_MS: int(50, 600_000).default(2000),
});

export type Env = z.infer<typeof envSchema>;

/** The name of every setting (the bench reports which ones the environment sets). */
export const SETTING_NAMES = Object.keys(envSchema.shape) as (keyof Env)[];


export type LlmProvider = "openai" | "openai-compatible" | "extractive";

function resolveProvider(env: Env): LlmProvider {
  if (env.LLM_PROVIDER !== "auto") return env.LLM_PROVIDER;
  if (env.LLM_BASE_URL) return "openai-compatible";
  if (env.OPENAI_API_KEY || env.LLM_API_KEY) return "openai";
  return "extractive";
}

/**
 * The environment, validated field by field (envSchema), then checked across fields and turned into the
 * nested configuration the code reads. The one definition of both: `Config` is this schema's output type.
 * The cross-field checks run only when every variable parsed; each names its variable.
 */
const configSchema = envSchema.transform((env, ctx) => {
  const issue = (variable: keyof Env, message: string) => ctx.addIssue({ code: "custom", path: [variable], message, input: env[variable] });
  if (env.CHUNK_OVERLAP >= env.CHUNK_SIZE) issue("CHUNK_OVERLAP", "must be smaller than CHUNK_SIZE");
  const provider = resolveProvider(env);
  if (provider === "openai-compatible" && !env.LLM_BASE_URL)
    issue("LLM_BASE_URL", "required when LLM_PROVIDER=openai-compatible (e.g. http://localhost:11434/v1 for Ollama)");
  if (provider === "openai" && !env.OPENAI_API_KEY && !env.LLM_API_KEY) issue("OPENAI_API_KEY", "required when LLM_PROVIDER=openai");
  if (env.EMBEDDER === "openai" && !env.OPENAI_API_KEY && !env.EMBEDDING_BASE_URL)
    issue("OPENAI_API_KEY", "required when EMBEDDER=openai (or set EMBEDDING_BASE_URL for a compatible server)");
  let pricing: Pricing | undefined;
  try {
    pricing = loadPricing(env.PRICES_FILE ? path.resolve(env.PRICES_FILE) : DEFAULT_PRICES_FILE);
  } catch (err) {
    issue("PRICES_FILE", `the price file is unreadable or invalid: ${(err as Error).message}`);
  }
  let prices: z.infer<typeof priceTable> = Object.fromEntries(Object.entries(pricing?.hosted ?? {}).map(([m, p]) => [m, { input: p.input, output: p.output }]));
  if (env.PRICE_TABLE) {
    try {
      prices = { ...prices, ...priceTable.parse(JSON.parse(env.PRICE_TABLE)) };
    } catch (err) {
      issue("PRICE_TABLE", `must be JSON like {"model":{"input":0.15,"output":0.6}} (USD per 1M tokens): ${(err as Error).message.split("\n")[0]}`);
    }
  }
  const promptsDir = path.resolve(env.PROMPTS_DIR ?? path.join(PROJECT_ROOT, "prompts"));
  for (const r of env.PROMPT_ROLLOUT)
    if (!existsSync(path.join(promptsDir, `${r.version}.md`))) issue("PROMPT_ROLLOUT", `prompt version "${r.version}" has no template ${path.join(promptsDir, `${r.version}.md`)}`);
  if (env.PROMPT_ROLLOUT.some((r) => r.version === env.PROMPT_VERSION)) issue("PROMPT_ROLLOUT", `rolls out the default prompt (PROMPT_VERSION=${env.PROMPT_VERSION}) to itself`);
  if (env.OTEL_EXPORTER_OTLP_PROTOCOL === "grpc" && (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT))
    issue("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc is not supported here; use http/protobuf (the default) or http/json");
  const otlpUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (otlpUrl && !URL.canParse(otlpUrl)) issue(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT", `not a URL: ${otlpUrl}`);
  if (env.INDEX_STORE === "postgres" && !env.DATABASE_URL)
    issue("DATABASE_URL", "required when INDEX_STORE=postgres (e.g. postgres://user:password@localhost:5432/llmops)");
  if (env.DATABASE_URL && !/^postgres(ql)?:\/\//.test(env.DATABASE_URL)) issue("DATABASE_URL", "must be a postgres:// or postgresql:// URL");
  if (ctx.issues.length) return z.NEVER;

  const defaultModel = provider === "openai" ? "gpt-4o-mini" : provider === "extractive" ? "extractive" : "llama3.2";
  return {
    port: env.PORT,
    host: env.HOST,
    indexDir: path.resolve(env.INDEX_DIR),
    /** Where index generations and jobs live: files in INDEX_DIR, or Postgres + pgvector at DATABASE_URL. */
    store: {
      kind: env.INDEX_STORE,
      databaseUrl: env.DATABASE_URL,
      /** Connections per process; a query waits at most poolWaitMs for one, then fails with STORE_UNAVAILABLE. */
      poolMax: env.PG_POOL_MAX,
      poolWaitMs: env.PG_POOL_WAIT_MS,
      statementTimeoutMs: env.PG_STATEMENT_TIMEOUT_MS,
      /** How often a replica checks the active generation (the fallback to LISTEN/NOTIFY) and the database's health. */
      pollMs: env.PG_POLL_MS,
    },
    /** Durable jobs: a running job's heartbeat; a job silent for 5 heartbeats is marked failed. */
    jobs: { heartbeatMs: env.JOB_HEARTBEAT_MS },
    corpusDir: path.resolve(env.CORPUS_DIR),
    corpusMirror: env.CORPUS_MIRROR ? path.resolve(env.CORPUS_MIRROR) : undefined,
    /** The list of documents (ids, titles, URLs, checksums); uploads are recorded beside the corpus. */
    corpusManifest: path.resolve(env.CORPUS_MANIFEST ?? path.join(PROJECT_ROOT, "corpus/manifest.json")),
    promptsDir,
    /** Durable service data: feedback (feedback.jsonl; the Postgres feedback table instead with INDEX_STORE=postgres). */
    dataDir: path.resolve(env.DATA_DIR),
    logLevel: env.LOG_LEVEL,
    embedder: {
      kind: env.EMBEDDER,
      model: env.EMBEDDING_MODEL,
      baseUrl: env.EMBEDDING_BASE_URL,
      apiKey: env.OPENAI_API_KEY,
      workers: env.EMBED_WORKERS,
      /** LSA: dimensions kept. */
      dimensions: env.LSA_DIMENSIONS,
    },
    chunking: { size: env.CHUNK_SIZE, overlap: env.CHUNK_OVERLAP, prefix: env.CHUNK_PREFIX },
    retrieval: {
      lexicalWeight: env.RETRIEVAL_LEXICAL_WEIGHT,
      denseWeight: env.RETRIEVAL_DENSE_WEIGHT,
      rrfK: env.RETRIEVAL_RRF_K,
      candidates: env.RETRIEVAL_CANDIDATES,
      rerankWeight: env.RETRIEVAL_RERANK_WEIGHT,
      rerankDepth: env.RETRIEVAL_RERANK_DEPTH,
      namedDocBoost: env.RETRIEVAL_NAMED_DOC_BOOST,
      ef: env.HNSW_EF,
      abstainThreshold: env.ABSTAIN_THRESHOLD,
      abstainMinCandidate: env.ABSTAIN_MIN_CANDIDATE,
      abstainMaxNovelty: env.ABSTAIN_MAX_NOVELTY,
      abstainMaxNamedNovelty: env.ABSTAIN_MAX_NAMED_NOVELTY,
    },
    /** How answer windows are scored (reranker and extractive reader), see retrieval/sentence-score.ts. */
    reader: { contextWeight: env.READER_CONTEXT_WEIGHT, candidateWeight: env.READER_CANDIDATE_WEIGHT, lengthCost: env.READER_LENGTH_COST, prior: env.READER_PRIOR },
    llm: {
      provider,
      model: env.LLM_MODEL ?? defaultModel,
      baseUrl: env.LLM_BASE_URL,
      apiKey: env.LLM_API_KEY ?? env.OPENAI_API_KEY,
      temperature: env.LLM_TEMPERATURE,
      maxTokens: env.LLM_MAX_TOKENS,
      timeoutMs: env.LLM_TIMEOUT_MS,
      maxRetries: env.LLM_MAX_RETRIES,
    },
    prompt: {
      version: env.PROMPT_VERSION,
      tokenBudget: env.PROMPT_TOKEN_BUDGET,
      /** Shares of clients answered with another prompt version (sticky per client id or conversation). */
      rollout: env.PROMPT_ROLLOUT,
    },
    /** USD per 1M tokens by model: the price file's hosted models, plus PRICE_TABLE. */
    prices,
    /** The whole price file (hosted with tokenizers, self-hosted options, date and sources): npm run cost. */
    pricing: pricing!,
    /** Answer cache: entries (0 = off) and time to live. */
    cache: { size: env.ANSWER_CACHE_SIZE, ttlMs: env.ANSWER_CACHE_TTL_SECONDS * 1000 },
    /** What happens to an LLM answer with sentences its cited passages do not support. */
    verify: { action: env.VERIFY_ACTION },
    /** OpenTelemetry traces: exported only when an OTLP endpoint is set (and the SDK not disabled). */
    telemetry: {
      tracesUrl: env.OTEL_SDK_DISABLED ? undefined : otlpUrl,
      protocol: env.OTEL_EXPORTER_OTLP_PROTOCOL as "http/protobuf" | "http/json",
      serviceName: env.OTEL_SERVICE_NAME,
    },
    admin: { token: env.ADMIN_TOKEN },
    /** Where clients reach this server (citation links); unset: the address each request came to. */
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ""),
    /** Downloads of documents added by URL (service/fetch-guard.ts). */
    fetch: {
      /** Host names (or IP addresses) exempt from the private-address refusal, lower case, IPv6 without brackets. */
      allowedHosts: env.ALLOWED_FETCH_HOSTS.split(",").map((s) => s.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1")).filter(Boolean),
      timeoutMs: env.FETCH_TIMEOUT_MS,
      maxRedirects: env.FETCH_MAX_REDIRECTS,
      maxBytes: env.UPLOAD_LIMIT_MB * 1024 * 1024,
    },
    http: {
      /** Per client, on the requests that cost money: /v1/ask with an LLM configured, and the admin routes (0 = off). */
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      /** Per client, on every /v1 route (0 = off). */
      apiRateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
      /** Work requests (search, ask, uploads) in flight past which new ones are shed with 503 OVERLOADED (0 = off). */
      maxInFlight: env.MAX_IN_FLIGHT,
      /** Event loop busy time (ms) past which a work request about to start is shed with 503 OVERLOADED (0 = off). */
      maxEventLoopDelayMs: env.MAX_EVENT_LOOP_DELAY_MS,
      corsOrigins: env.CORS_ORIGINS.split(",").map((s) => s.trim()).filter(Boolean),
      bodyLimit: env.BODY_LIMIT,
      uploadLimitBytes: env.UPLOAD_LIMIT_MB * 1024 * 1024,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
      watchIndex: env.WATCH_INDEX,
    },
  };
});

/** The configuration the code reads: inferred from the schema, never written out by hand. */
export type Config = z.output<typeof configSchema>;

/** Reads and validates the configuration; throws CONFIG_INVALID naming each bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(source);
  if (parsed.success) return parsed.data;
  // A field's own check shows the value it got; a cross-field check says what else it needs.
  const issues = parsed.error.issues.map((i) => (i.code === "custom" ? i : { ...i, message: `${i.message} (got ${JSON.stringify(source[String(i.path[0])])})` }));
  throw invalidInput("CONFIG_INVALID", "Invalid configuration", issues);
}

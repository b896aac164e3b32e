/**
 * Answering a question: rewrite a follow-up, look the answer up in the cache, retrieve, decide whether
 * the evidence is strong enough, then answer through the LLM (streaming tokens) or extractively; fall
 * back to extractive when the LLM fails; check an LLM answer's sentences against the passages they cite.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Config } from "../config/index.js";
import { annotate, inSpan } from "../telemetry/index.js";
import type { QueryAnalysis } from "../retrieval/query.js";
import { viewHit, type HitView, type Retriever } from "../retrieval/retriever.js";
import { numberPassages, packPassages, renderPassages, type Passage } from "./context.js";
import { costOf, NO_USAGE, type Usage } from "./cost.js";
import { DEFAULT_EVIDENCE_LIMITS, judgeEvidence, type EvidenceLimits } from "./evidence.js";
import { DEFAULT_READER, extractAnswer, type ExtractiveAnswer } from "./extractive.js";
import { AnswerCache, cacheKey } from "./cache.js";
import { callModel, type ChatModel } from "./llm.js";
import { fill, type PromptLibrary, type PromptTemplate } from "./prompts.js";
import { rewriteByRule, rewriteWithModel, type Turn } from "./rewrite.js";
import { sectionAnchor } from "../text/anchors.js";
import { citedSentences, verifyAnswer, type Verification } from "./verify.js";

export const NOT_COVERED = "The documents do not cover this.";
const NOT_COVERED_PATTERN = /documents do not cover this|not (contained|covered|mentioned) in the (passages|documents)/i;

export interface AskRequest {
  question: string;
  k?: number;
  docs?: string[];
  promptVersion?: string;
  history?: Turn[];
  /** Per-request generation settings (LLM mode; the extractive reader has none). Unset: the configured ones. */
  generation?: GenerationOptions;
  /** false: neither read nor fill the answer cache for this request. */
  cache?: boolean;
}

/** What to do with an LLM answer some of whose sentences its citations do not support (VERIFY_ACTION). */
export type VerifyAction = "flag" | "drop" | "abstain";

/** The check of an LLM answer's sentences against the passages they cite (answer/verify.ts), and what was done. */
export interface AnswerVerification extends Verification {
  action: VerifyAction;
}

export interface GenerationOptions {
  temperature?: number;
  maxTokens?: number;
}

/** A passage given to the answerer: the search result's view of it (viewHit), numbered, with links. */
export interface Citation extends HitView {
  n: number;
  /**
   * The indexed copy this server serves, at the passage: `/v1/documents/<id>/file#page=N` for a PDF,
   * `…/file#<section anchor>` for markdown and HTML. A path: the HTTP layer makes it absolute.
   */
  url: string;
  /** The document's original URL (`#page=N` for a PDF), or `upload:<file>` for an upload without one. */
  sourceUrl: string;
  /** Whether the answer cites this passage. */
  cited: boolean;
}

export interface AskResult {
  /** Names this answer for feedback (POST /v1/feedback); a cached answer served again gets a new one. */
  answerId: string;
  answer: string;
  grounded: boolean;
  mode: "llm" | "extractive";
  model: string;
  promptVersion: string;
  /** The question used for retrieval (differs from the question for rewritten follow-ups). */
  standaloneQuestion: string;
  citations: Citation[];
  usage: Usage;
  timings: { retrievalMs: number; generationMs: number; totalMs: number };
  /** Served from the answer cache: no retrieval, no model call (usage is only what a follow-up rewrite spent). */
  cached: boolean;
  /** On a cache hit: what the answer cost when it was made. */
  savedUsage?: Usage;
  /** LLM answers: each sentence checked against the passages it cites. */
  verification?: AnswerVerification;
  warning?: string;
}

/** What the cache keeps of an answer: everything but what belongs to one request. */
export type CachedAnswer = Omit<AskResult, "answerId" | "timings" | "cached" | "savedUsage" | "standaloneQuestion">;

export interface AskHooks {
  onCitations?: (citations: Citation[]) => void;
  onToken?: (delta: string) => void;
  signal?: AbortSignal;
}

export interface AnswerContext {
  retriever: Retriever;
  prompts: PromptLibrary;
  /** Absent in extractive mode. */
  llm?: ChatModel;
  /** Absent: no caching. */
  cache?: AnswerCache<CachedAnswer>;
  settings: {
    defaultK: number;
    promptVersion: string;
    tokenBudget: number;
    /** When to decline (answer/evidence.ts). */
    evidence: EvidenceLimits;
    /** Extractive reader: weight of the passage's retrieval score against the window's. */
    readerPrior?: number;
    prices: Config["prices"];
    /** What to do with unsupported sentences of an LLM answer (default flag: report them only). */
    verifyAction?: VerifyAction;
  };
}

/**
 * rewrite -> cache lookup -> retrieve -> judge evidence -> generate (LLM) or extract -> fall back to
 * extracting when the LLM fails -> verify an LLM answer's citations -> cache. Weak evidence declines
 * without a model call. Each step is a function below, and a span when tracing is on.
 */
export async function ask(ctx: AnswerContext, req: AskRequest, hooks: AskHooks = {}): Promise<AskResult> {
  const t0 = performance.now();
  const template = await ctx.prompts.get(req.promptVersion ?? ctx.settings.promptVersion);
  const question = await inSpan("qa.rewrite", (span) => rewrite(ctx, req).then((q) => (span?.setAttributes({ "qa.rewritten": q.standalone !== req.question }), q)), {
    attributes: { "qa.history.turns": req.history?.length ?? 0, "qa.rewrite.by": req.history?.length ? (ctx.llm ? "llm" : "rule") : "none" },
  });
  const key = ctx.cache?.enabled && req.cache !== false ? cacheKey(keyParts(ctx, template, question.standalone, req)) : undefined;
  const hit = key ? ctx.cache!.get(key) : undefined;
  annotate({ "qa.cache": hit ? "hit" : key ? "miss" : "off" });
  if (hit) return served(ctx, hit, question, hooks, t0);

  const found = await inSpan("qa.retrieve", (span) => retrieve(ctx, question.standalone, req).then((f) => (span?.setAttribute("qa.passages", f.passages.length), f)));
  const evidence = inSpan("qa.read", (span) => {
    const j = judge(ctx, found);
    span?.setAttributes({ "qa.grounded": j.grounded, "qa.reader.coverage": j.extractive.coverage });
    return j;
  });
  const genStart = performance.now();
  const answer = evidence.grounded ? await generateOrExtract(ctx, req, template, question, found, evidence, hooks) : decline(ctx, question, found, hooks);
  const checked = answer.mode === "llm" && evidence.grounded && !answer.warning ? verify(ctx, answer, found) : answer;
  const result: AskResult = {
    answerId: randomUUID(),
    ...checked,
    promptVersion: template.version,
    standaloneQuestion: question.standalone,
    ...(question.warning && !checked.warning ? { warning: question.warning } : {}),
    timings: { retrievalMs: round(found.searchedAt - t0), generationMs: round(performance.now() - genStart), totalMs: round(performance.now() - t0) },
    cached: false,
  };
  if (key && !result.warning) ctx.cache!.set(key, remembered(result));
  return result;
}

/** The parts of the cache key (cache.ts): what decides the answer. */
function keyParts(ctx: AnswerContext, template: PromptTemplate, standaloneQuestion: string, req: AskRequest) {
  return {
    standaloneQuestion,
    docs: req.docs,
    promptVersion: template.version,
    promptHash: createHash("sha256").update(`${template.system}\u0000${template.user}`).digest("hex"),
    model: ctx.llm?.model ?? "extractive",
    generation: ctx.retriever.index.manifest.generation,
    k: req.k ?? ctx.settings.defaultK,
    // A request's own temperature or max tokens (the OpenAI-compatible API) is another answer (LLM mode only).
    ...(ctx.llm && req.generation && (req.generation.temperature !== undefined || req.generation.maxTokens !== undefined)
      ? { sampling: `t=${req.generation.temperature ?? ""};max=${req.generation.maxTokens ?? ""}` }
      : {}),
  };
}

function remembered(r: AskResult): CachedAnswer {
  const { answerId: _id, timings: _t, cached: _c, savedUsage: _s, standaloneQuestion: _q, ...rest } = r;
  return rest;
}

/** A cache hit: the stored answer, streamed as one token; this request spent only its rewrite's tokens. */
function served(ctx: AnswerContext, hit: CachedAnswer, question: Rewritten, hooks: AskHooks, t0: number): AskResult {
  hooks.onCitations?.(hit.citations);
  hooks.onToken?.(hit.answer);
  return {
    ...hit,
    answerId: randomUUID(),
    standaloneQuestion: question.standalone,
    usage: cost(ctx, ctx.llm?.model, question.usage),
    savedUsage: hit.usage,
    cached: true,
    ...(question.warning ? { warning: question.warning } : {}),
    timings: { retrievalMs: 0, generationMs: 0, totalMs: round(performance.now() - t0) },
  };
}

/**
 * For cost estimates (npm run cost): the prompt an LLM would get for a question (packed to the token
 * budget, with the template's system and user text), or none when the evidence is too weak to ask a
 * model at all. No model is called.
 */
export async function promptFor(ctx: AnswerContext, req: AskRequest): Promise<{ grounded: boolean; system: string; user: string; passages: number; promptVersion: string }> {
  const template = await ctx.prompts.get(req.promptVersion ?? ctx.settings.promptVersion);
  const question = req.history?.length ? rewriteByRule(req.question, req.history) : req.question;
  const found = await retrieve({ ...ctx, llm: ctx.llm ?? PACKING_ONLY }, question, req);
  const { grounded } = judge(ctx, found);
  const user = fill(template.user, { passages: renderPassages(found.passages), question });
  return { grounded, system: template.system, user, passages: found.passages.length, promptVersion: template.version };
}

/** Stands for "an LLM is configured" where only the packing of passages matters (promptFor). */
const PACKING_ONLY: ChatModel = {
  model: "packing-only",
  complete: () => Promise.reject(new Error("promptFor never calls a model")),
};

/** What the steps produce: the result without the parts ask() adds (id, prompt version, question, timings, cache). */
type Answer = Omit<AskResult, "answerId" | "timings" | "promptVersion" | "standaloneQuestion" | "cached" | "savedUsage">;
interface Tokens {
  prompt: number;
  completion: number;
}

/** Step 1. The question retrieval uses: a follow-up rewritten as a standalone one (by the LLM, else by rule). */
interface Rewritten {
  standalone: string;
  /** Tokens the rewrite spent. */
  usage: Tokens;
  warning?: string;
}

async function rewrite(ctx: AnswerContext, req: AskRequest): Promise<Rewritten> {
  const usage = { prompt: 0, completion: 0 };
  if (!req.history?.length) return { standalone: req.question, usage };
  if (!ctx.llm) return { standalone: rewriteByRule(req.question, req.history), usage };
  try {
    const r = await rewriteWithModel(req.question, req.history, ctx.llm, ctx.prompts, ctx.retriever.index.manifest.generation);
    return { standalone: r.text, usage: { prompt: r.promptTokens, completion: r.completionTokens } };
  } catch (err) {
    return {
      standalone: rewriteByRule(req.question, req.history),
      usage,
      warning: `follow-up rewrite by the LLM failed (${describe(err)}); used the rule-based rewrite`,
    };
  }
}

/** Step 2. The passages for the question, numbered for citing; `cite` turns cited numbers into citations. */
interface Found {
  query: QueryAnalysis;
  passages: Passage[];
  cite: (cited: number[]) => Citation[];
  /** When the search returned (performance.now()): retrieval time is measured up to here. */
  searchedAt: number;
}

async function retrieve(ctx: AnswerContext, standalone: string, req: AskRequest): Promise<Found> {
  const { retriever, llm, settings } = ctx;
  const query = retriever.analyze(standalone);
  const { hits } = await retriever.search(query, { k: req.k ?? settings.defaultK, docs: req.docs });
  const searchedAt = performance.now();
  // The token budget is the LLM's; the extractive reader reads the k passages whole (and needs no tokenizer).
  const passages = llm ? packPassages(hits, settings.tokenBudget) : numberPassages(hits);
  const docs = retriever.index.manifest.documents;
  return { query, passages, cite: (cited) => passages.map((p) => citation(p, docs, cited.includes(p.n))), searchedAt };
}

/** Step 3. The extractive reader's answer, and whether the evidence is strong enough to answer at all. */
interface Judged {
  extractive: ExtractiveAnswer;
  grounded: boolean;
}

function judge(ctx: AnswerContext, found: Found): Judged {
  const { retriever, settings } = ctx;
  const extractive = extractAnswer(found.query, found.passages, (ord) => retriever.passage(ord), {
    sentence: retriever.sentenceWeights,
    prior: settings.readerPrior ?? DEFAULT_READER.prior,
    maxChars: DEFAULT_READER.maxChars,
  });
  const evidence = judgeEvidence(found.query, extractive, retriever.documents, { ...DEFAULT_EVIDENCE_LIMITS, ...settings.evidence });
  return { extractive, grounded: found.passages.length > 0 && evidence.grounded };
}

/** Weak evidence: say so, without spending tokens on a model call. */
function decline(ctx: AnswerContext, question: Rewritten, found: Found, hooks: AskHooks): Answer {
  const { llm } = ctx;
  hooks.onCitations?.(found.cite([]));
  hooks.onToken?.(NOT_COVERED);
  return { answer: NOT_COVERED, grounded: false, mode: llm ? "llm" : "extractive", model: llm?.model ?? "extractive", citations: found.cite([]), usage: cost(ctx, llm?.model, question.usage) };
}

/** Step 4. The LLM's answer when there is an LLM and it answers; otherwise (step 5, fall back) the extractive one. */
async function generateOrExtract(
  ctx: AnswerContext,
  req: AskRequest,
  template: PromptTemplate,
  question: Rewritten,
  found: Found,
  judged: Judged,
  hooks: AskHooks,
): Promise<Answer> {
  const { extractive } = judged;
  hooks.onCitations?.(found.cite(extractive.cited.length ? extractive.cited : found.passages.map((p) => p.n)));
  const generated = ctx.llm ? await generate(ctx, ctx.llm, template, question, found, hooks, req) : undefined;
  if (generated && "answer" in generated) return generated;
  const warning = generated?.warning ?? question.warning;
  hooks.onToken?.(extractive.text);
  return {
    answer: extractive.text,
    grounded: true,
    mode: "extractive",
    model: "extractive",
    citations: found.cite(extractive.cited),
    usage: cost(ctx, ctx.llm?.model, question.usage),
    ...(warning ? { warning } : {}),
  };
}

/** The LLM's answer over the passages (streamed through hooks.onToken), or why it failed. */
async function generate(
  ctx: AnswerContext,
  llm: ChatModel,
  template: PromptTemplate,
  question: Rewritten,
  found: Found,
  hooks: AskHooks,
  req: AskRequest,
): Promise<Answer | { warning: string }> {
  try {
    const reply = await callModel(
      llm,
      template.system,
      fill(template.user, { passages: renderPassages(found.passages), question: question.standalone }),
      { onToken: hooks.onToken, signal: hooks.signal, ...req.generation },
      { purpose: "answer", promptVersion: template.version, generation: ctx.retriever.index.manifest.generation },
    );
    const usage = { prompt: question.usage.prompt + reply.promptTokens, completion: question.usage.completion + reply.completionTokens };
    return {
      answer: reply.text,
      grounded: !NOT_COVERED_PATTERN.test(reply.text),
      mode: "llm",
      model: llm.model,
      citations: found.cite(citedNumbers(reply.text, found.passages.length)),
      usage: cost(ctx, llm.model, usage),
    };
  } catch (err) {
    return { warning: `the LLM (${llm.model}) failed: ${describe(err)}; answered extractively instead` };
  }
}

/** The local copy's path (`/v1/documents/<id>/file`), the route that serves what was indexed. */
export const documentFilePath = (docId: string) => `/v1/documents/${encodeURIComponent(docId)}/file`;

/**
 * Step 6. An LLM answer's sentences checked against the passages they cite (verify.ts); then, by
 * VERIFY_ACTION: flag (report only), drop (remove the unsupported sentences; none left: decline) or
 * abstain (any unsupported sentence: decline).
 */
function verify(ctx: AnswerContext, answer: Answer, found: Found): Answer {
  const action = ctx.settings.verifyAction ?? "flag";
  return inSpan("qa.verify", (span) => {
    const passages = found.passages.map((p) => ({ n: p.n, text: p.text, heading: [p.hit.chunk.title, p.hit.chunk.section].filter(Boolean).join(", ") }));
    const v = verifyAnswer(answer.answer, passages, (s) => NOT_COVERED_PATTERN.test(s));
    span?.setAttributes({ "qa.verify.action": action, "qa.verify.checked": v.checked, "qa.verify.supported": v.supported, "qa.verify.unsupported": v.unsupported.length });
    const verification = { ...v, action };
    if (!v.unsupported.length || action === "flag") return { ...answer, verification };
    const bad = new Set(v.unsupported.map((u) => u.sentence));
    const kept = action === "drop" ? citedSentences(answer.answer, new Set(passages.map((p) => p.n))).filter((s) => !bad.has(s.sentence)) : [];
    const text = kept.map((s) => s.sentence).join(" ");
    if (!kept.length || NOT_COVERED_PATTERN.test(text))
      return { ...answer, answer: NOT_COVERED, grounded: false, citations: found.cite([]), verification };
    return { ...answer, answer: text, citations: found.cite(citedNumbers(text, found.passages.length)), verification };
  });
}

function citation(p: Passage, docs: Array<{ id: string; url: string; file: string }>, cited: boolean): Citation {
  const c = p.hit.chunk;
  const doc = docs.find((d) => d.id === c.docId);
  const isPdf = doc?.file.toLowerCase().endsWith(".pdf") ?? false;
  const at = isPdf ? (c.page ? `#page=${c.page}` : "") : c.section ? `#${sectionAnchor(c.section)}` : "";
  const sourceUrl = doc ? (isPdf && c.page ? `${doc.url}#page=${c.page}` : doc.url) : "";
  return { n: p.n, ...viewHit(p.hit), url: `${documentFilePath(c.docId)}${at}`, sourceUrl, cited };
}

export function citedNumbers(text: string, max: number): number[] {
  const out = new Set<number>();
  for (const m of text.matchAll(/\[(\d+(?:\s*[,;]\s*\d+)*)\]/g))
    for (const n of m[1]!.split(/[,;]/)) {
      const v = Number(n.trim());
      if (v >= 1 && v <= max) out.add(v);
    }
  return [...out];
}

function cost(ctx: AnswerContext, model: string | undefined, u: Tokens): Usage {
  return model ? costOf(ctx.settings.prices, model, u.prompt, u.completion) : NO_USAGE;
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; status?: number };
  if (e?.name === "TimeoutError" || /timed? ?out|abort/i.test(e?.message ?? "")) return "timed out";
  return e?.status ? `HTTP ${e.status}` : (e?.message ?? String(err)).split("\n")[0]!.slice(0, 200);
}

const round = (ms: number) => Math.round(ms * 10) / 10;

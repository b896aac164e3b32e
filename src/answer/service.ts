/**
 * Answering a question: rewrite a follow-up, retrieve, decide whether the evidence is strong enough,
 * then answer through the LLM (streaming tokens) or extractively; fall back to extractive when the LLM fails.
 */
import type { Config } from "../config/index.js";
import type { QueryAnalysis } from "../retrieval/query.js";
import { viewHit, type HitView, type Retriever } from "../retrieval/retriever.js";
import { numberPassages, packPassages, renderPassages, type Passage } from "./context.js";
import { costOf, NO_USAGE, type Usage } from "./cost.js";
import { DEFAULT_EVIDENCE_LIMITS, judgeEvidence, type EvidenceLimits } from "./evidence.js";
import { DEFAULT_READER, extractAnswer, type ExtractiveAnswer } from "./extractive.js";
import type { ChatModel } from "./llm.js";
import { fill, type PromptLibrary, type PromptTemplate } from "./prompts.js";
import { rewriteByRule, rewriteWithModel, type Turn } from "./rewrite.js";
import { sectionAnchor } from "../text/anchors.js";

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
  warning?: string;
}

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
  settings: {
    defaultK: number;
    promptVersion: string;
    tokenBudget: number;
    /** When to decline (answer/evidence.ts). */
    evidence: EvidenceLimits;
    /** Extractive reader: weight of the passage's retrieval score against the window's. */
    readerPrior?: number;
    prices: Config["prices"];
  };
}

/**
 * rewrite -> retrieve -> judge evidence -> generate (LLM) or extract -> fall back to extracting when the
 * LLM fails. Weak evidence declines without a model call. Each step is a function below.
 */
export async function ask(ctx: AnswerContext, req: AskRequest, hooks: AskHooks = {}): Promise<AskResult> {
  const t0 = performance.now();
  const template = await ctx.prompts.get(req.promptVersion ?? ctx.settings.promptVersion);
  const question = await rewrite(ctx, req);
  const found = await retrieve(ctx, question.standalone, req);
  const evidence = judge(ctx, found);
  const genStart = performance.now();
  const answer = evidence.grounded ? await generateOrExtract(ctx, req, template, question, found, evidence, hooks) : decline(ctx, question, found, hooks);
  return {
    ...answer,
    promptVersion: template.version,
    standaloneQuestion: question.standalone,
    ...(question.warning && !answer.warning ? { warning: question.warning } : {}),
    timings: { retrievalMs: round(found.searchedAt - t0), generationMs: round(performance.now() - genStart), totalMs: round(performance.now() - t0) },
  };
}

/** What the steps produce: the result without the parts ask() adds (prompt version, question, timings). */
type Answer = Omit<AskResult, "timings" | "promptVersion" | "standaloneQuestion">;
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
    const r = await rewriteWithModel(req.question, req.history, ctx.llm, ctx.prompts);
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
    const reply = await llm.complete(template.system, fill(template.user, { passages: renderPassages(found.passages), question: question.standalone }), {
      onToken: hooks.onToken,
      signal: hooks.signal,
      ...req.generation,
    });
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

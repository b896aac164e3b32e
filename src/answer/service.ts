/**
 * Answering a question: rewrite a follow-up, retrieve, decide whether the evidence is strong enough,
 * then answer through the LLM (streaming tokens) or extractively; fall back to extractive when the LLM fails.
 */
import type { Config } from "../config/index.js";
import { viewHit, type HitView, type Retriever } from "../retrieval/retriever.js";
import { numberPassages, packPassages, renderPassages, type Passage } from "./context.js";
import { costOf, NO_USAGE, type Usage } from "./cost.js";
import { DEFAULT_EVIDENCE_LIMITS, judgeEvidence, type EvidenceLimits } from "./evidence.js";
import { DEFAULT_READER, extractAnswer } from "./extractive.js";
import type { ChatModel } from "./llm.js";
import { fill, type PromptLibrary } from "./prompts.js";
import { rewriteByRule, rewriteWithModel, type Turn } from "./rewrite.js";

export const NOT_COVERED = "The documents do not cover this.";
const NOT_COVERED_PATTERN = /documents do not cover this|not (contained|covered|mentioned) in the (passages|documents)/i;

export interface AskRequest {
  question: string;
  k?: number;
  docs?: string[];
  promptVersion?: string;
  history?: Turn[];
}

/** A passage given to the answerer: the search result's view of it (viewHit), numbered, with a link. */
export interface Citation extends HitView {
  n: number;
  url: string;
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

export async function ask(ctx: AnswerContext, req: AskRequest, hooks: AskHooks = {}): Promise<AskResult> {
  const t0 = performance.now();
  const { settings, llm } = ctx;
  const template = await ctx.prompts.get(req.promptVersion ?? settings.promptVersion);
  const usage = { prompt: 0, completion: 0 };

  let standalone = req.question;
  let warning: string | undefined;
  if (req.history?.length) {
    if (llm) {
      try {
        const r = await rewriteWithModel(req.question, req.history, llm, ctx.prompts);
        standalone = r.text;
        usage.prompt += r.promptTokens;
        usage.completion += r.completionTokens;
      } catch (err) {
        standalone = rewriteByRule(req.question, req.history);
        warning = `follow-up rewrite by the LLM failed (${describe(err)}); used the rule-based rewrite`;
      }
    } else standalone = rewriteByRule(req.question, req.history);
  }

  const k = req.k ?? settings.defaultK;
  const { retriever } = ctx;
  const query = retriever.analyze(standalone);
  const found = await retriever.search(query, { k, docs: req.docs });
  const retrievalMs = performance.now() - t0;
  // The token budget is the LLM's; the extractive reader reads the k passages whole (and needs no tokenizer).
  const passages = llm ? packPassages(found.hits, settings.tokenBudget) : numberPassages(found.hits);
  const docs = retriever.index.manifest.documents;
  const toCitations = (cited: number[]) => passages.map((p) => citation(p, docs, cited.includes(p.n)));

  const extractive = extractAnswer(query, passages, (ord) => retriever.passage(ord), {
    sentence: retriever.sentenceWeights,
    prior: settings.readerPrior ?? DEFAULT_READER.prior,
    maxChars: DEFAULT_READER.maxChars,
  });
  const evidence = judgeEvidence(query, extractive, retriever.documents, { ...DEFAULT_EVIDENCE_LIMITS, ...settings.evidence });
  const grounded = passages.length > 0 && evidence.grounded;
  const base = { promptVersion: template.version, standaloneQuestion: standalone };
  const finish = (r: Omit<AskResult, "timings" | "promptVersion" | "standaloneQuestion">, genStart: number): AskResult => ({
    ...r,
    ...base,
    ...(warning && !r.warning ? { warning } : {}),
    timings: { retrievalMs: round(retrievalMs), generationMs: round(performance.now() - genStart), totalMs: round(performance.now() - t0) },
  });

  const genStart = performance.now();
  if (!grounded) {
    // Weak evidence: say so, without spending tokens on a model call.
    hooks.onCitations?.(toCitations([]));
    hooks.onToken?.(NOT_COVERED);
    return finish(
      { answer: NOT_COVERED, grounded: false, mode: llm ? "llm" : "extractive", model: llm?.model ?? "extractive", citations: toCitations([]), usage: cost(ctx, llm?.model, usage) },
      genStart,
    );
  }

  hooks.onCitations?.(toCitations(extractive.cited.length ? extractive.cited : passages.map((p) => p.n)));
  if (llm) {
    try {
      const reply = await llm.complete(template.system, fill(template.user, { passages: renderPassages(passages), question: standalone }), {
        onToken: hooks.onToken,
        signal: hooks.signal,
      });
      usage.prompt += reply.promptTokens;
      usage.completion += reply.completionTokens;
      const abstained = NOT_COVERED_PATTERN.test(reply.text);
      return finish(
        {
          answer: reply.text,
          grounded: !abstained,
          mode: "llm",
          model: llm.model,
          citations: toCitations(citedNumbers(reply.text, passages.length)),
          usage: cost(ctx, llm.model, usage),
        },
        genStart,
      );
    } catch (err) {
      warning = `the LLM (${llm.model}) failed: ${describe(err)}; answered extractively instead`;
    }
  }
  hooks.onToken?.(extractive.text);
  return finish(
    {
      answer: extractive.text,
      grounded: true,
      mode: "extractive",
      model: "extractive",
      citations: toCitations(extractive.cited),
      usage: cost(ctx, llm?.model, usage),
      ...(warning ? { warning } : {}),
    },
    genStart,
  );
}

function citation(p: Passage, docs: Array<{ id: string; url: string; file: string }>, cited: boolean): Citation {
  const c = p.hit.chunk;
  const doc = docs.find((d) => d.id === c.docId);
  const isPdf = doc?.file.toLowerCase().endsWith(".pdf") ?? false;
  const url = doc ? (isPdf && c.page ? `${doc.url}#page=${c.page}` : doc.url) : "";
  return { n: p.n, ...viewHit(p.hit), url, cited };
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

function cost(ctx: AnswerContext, model: string | undefined, u: { prompt: number; completion: number }): Usage {
  return model ? costOf(ctx.settings.prices, model, u.prompt, u.completion) : NO_USAGE;
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; status?: number };
  if (e?.name === "TimeoutError" || /timed? ?out|abort/i.test(e?.message ?? "")) return "timed out";
  return e?.status ? `HTTP ${e.status}` : (e?.message ?? String(err)).split("\n")[0]!.slice(0, 200);
}

const round = (ms: number) => Math.round(ms * 10) / 10;

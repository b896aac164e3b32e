/** The pure parts of LLMOps: citation checks, cache keys, rollout buckets, feedback as an evaluation set, the price file. */
import { describe, expect, it, vi } from "vitest";
import { AnswerCache, cacheKey, normaliseQuestion } from "../../src/answer/cache.js";
import { citedSentences, names, quantities, unsupportedBy, verifyAnswer } from "../../src/answer/verify.js";
import { DEFAULT_PRICES_FILE, loadPricing } from "../../src/config/index.js";
import { CHAT_OVERHEAD_TOKENS, costTable, countWith, DEFAULT_OUTPUT_TOKENS, formatCostTable, renderCostHtml } from "../../src/eval/cost.js";
import { feedbackSet } from "../../src/eval/feedback.js";
import type { FeedbackRecord } from "../../src/service/feedback.js";
import { createFeedbackStore, JsonlFeedbackStore, PostgresFeedbackStore } from "../../src/service/index.js";
import { assignPrompt, bucketOf } from "../../src/service/rollout.js";
import { tempDir } from "../helpers/fixtures.js";

const P1 = { n: 1, text: "We used the Adam optimizer with beta1 = 0.9. The learning rate was warmed up over the first 4000 steps of training.", heading: "A Note on Transformers, Training" };
const P2 = { n: 2, text: "Humans compare pairs of short video clips of the agent, about 5,500 comparisons in total.", heading: "Learning from Human Preferences" };
const abstains = (s: string) => /documents do not cover this/i.test(s);

describe("citation checks", () => {
  it("reads numbers by value, with magnitude and unit", () => {
    const q = (t: string) => quantities(t).map((x) => [x.value, x.unit]);
    expect(q("4,000 steps")).toEqual([[4000, "step"]]);
    expect(quantities("175B parameters")[0]!.value).toBe(175e9);
    expect(quantities("175B parameters")[0]!.unit).toBeDefined();
    expect(q("a 4k context")[0]![0]).toBe(4000);
    expect(q("2.5 million tokens")[0]![0]).toBe(2.5e6);
    expect(q("two GPUs")[0]![0]).toBe(2);
    expect(q("12%")).toEqual([[12, "percent"]]);
    // A citation marker is not a number.
    expect(q("as shown [3].")).toEqual([]);
  });

  it("finds names: capitalised words after the first, acronyms, alphanumeric names", () => {
    expect(names("The model GPT-3 beats BERT on SuperGLUE, says Brown.")).toEqual(["GPT-3", "BERT", "SuperGLUE", "Brown"]);
    expect(names("However the results hold.")).toEqual([]);
  });

  it("groups markers with their sentence (a trailing run belongs to the one before)", () => {
    const s = citedSentences("Adam was used [1]. Warmup took 4000 steps. [1][2]", new Set([1, 2]));
    expect(s.map((x) => x.cited)).toEqual([[1], [1, 2]]);
  });

  it("supports paraphrase and exact numbers; flags a changed number, a wrong unit, a missing name, an unrelated sentence", () => {
    expect(unsupportedBy("Training used Adam, warming the learning rate up for 4,000 steps.", [P1])).toBeNull();
    expect(unsupportedBy("The learning rate was warmed up over 8000 steps.", [P1])).toMatch(/number 8000/);
    expect(unsupportedBy("The learning rate was warmed up over 4000 epochs.", [P1])).toMatch(/unit|4000/);
    expect(unsupportedBy("We used the RMSProp optimizer with the learning rate warmed up.", [P1])).toMatch(/RMSProp/);
    expect(unsupportedBy("Positional encodings use sine and cosine functions of frequencies.", [P1])).toMatch(/content words/);
  });

  it("verifies an answer sentence by sentence: no citation, a citation of a passage not given, the abstention sentence", () => {
    const v = verifyAnswer("Adam was the optimizer [1]. Humans compared video clips [2]. It is the best [7]. Everyone agrees. The documents do not cover this.", [P1, P2], abstains);
    expect(v.checked).toBe(4);
    expect(v.supported).toBe(2);
    expect(v.unsupported.map((u) => [u.sentence, u.cited, u.reason])).toEqual([
      ["It is the best [7].", [], "cites no passage that was given"],
      ["Everyone agrees.", [], "no citation"],
    ]);
    // Right fact, wrong passage cited.
    expect(verifyAnswer("Adam was the optimizer [2].", [P1, P2], abstains).unsupported).toHaveLength(1);
  });
});

describe("answer cache", () => {
  const parts = { standaloneQuestion: "Which optimizer?", promptVersion: "qa-v1", promptHash: "h", model: "m", generation: "g1", k: 5 };
  it("keys by the normalised question, document scope (as a set), prompt (version and text), model, generation and k", () => {
    expect(normaliseQuestion("  Which  OPTIMIZER? ")).toBe("which optimizer");
    expect(cacheKey(parts)).toBe(cacheKey({ ...parts, standaloneQuestion: "which optimizer" }));
    expect(cacheKey({ ...parts, docs: ["a", "b"] })).toBe(cacheKey({ ...parts, docs: ["b", "a", "a"] }));
    for (const change of [{ docs: ["a"] }, { promptVersion: "qa-v2" }, { promptHash: "h2" }, { model: "m2" }, { generation: "g2" }, { k: 3 }])
      expect(cacheKey({ ...parts, ...change }), JSON.stringify(change)).not.toBe(cacheKey(parts));
  });

  it("drops the least recently used past its size and expires entries after the TTL", async () => {
    const c = new AnswerCache<{ v: number }>({ size: 2, ttlMs: 60 });
    c.set("a", { v: 1 });
    c.set("b", { v: 2 });
    c.get("a");
    c.set("c", { v: 3 });
    expect(c.get("b")).toBeUndefined();
    expect(c.get("a")).toEqual({ v: 1 });
    await new Promise((r) => setTimeout(r, 120));
    expect(c.get("a")).toBeUndefined();
    const off = new AnswerCache<{ v: number }>({ size: 0, ttlMs: 60 });
    off.set("a", { v: 1 });
    expect(off.enabled).toBe(false);
    expect(off.get("a")).toBeUndefined();
  });
});

describe("prompt rollouts", () => {
  it("PROMPT_ROLLOUT is validated at start: the syntax, the shares, a template for each version, not the default itself", async () => {
    const { loadConfig } = await import("../../src/config/index.js");
    const issues = (v: string) => {
      try {
        loadConfig({ PROMPT_ROLLOUT: v });
      } catch (err) {
        return (err as { details: { issues: Array<{ path: string; message: string }> } }).details.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
      }
      return "";
    };
    expect(loadConfig({ PROMPT_ROLLOUT: "qa-v2:10" }).prompt.rollout).toEqual([{ version: "qa-v2", percent: 10 }]);
    expect(issues("qa-v2")).toMatch(/PROMPT_ROLLOUT: expected VERSION:PERCENT/);
    expect(issues("qa-v2:0")).toMatch(/PROMPT_ROLLOUT/);
    expect(issues("qa-v2:60,qa-v3:50")).toMatch(/PROMPT_ROLLOUT: the rollout shares add up to more than 100%/);
    expect(issues("qa-v9:10")).toMatch(/PROMPT_ROLLOUT: prompt version "qa-v9" has no template/);
    expect(issues("qa-v1:10")).toMatch(/PROMPT_ROLLOUT: rolls out the default prompt/);
  });

  it("assigns a stable share of clients to the rollout version, the rest to the default; a named version wins", () => {
    const rollout = [{ version: "qa-v2", percent: 10 }];
    const ids = Array.from({ length: 5000 }, (_, i) => `client-${i}`);
    const share = ids.filter((id) => assignPrompt(rollout, "qa-v1", { clientId: id }).version === "qa-v2").length / ids.length;
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
    for (const id of ids.slice(0, 50)) expect(assignPrompt(rollout, "qa-v1", { clientId: id })).toEqual(assignPrompt(rollout, "qa-v1", { clientId: id }));
    expect(assignPrompt(rollout, "qa-v1", { clientId: "x", promptVersion: "qa-v3" })).toEqual({ version: "qa-v3", assignment: "requested" });
    expect(assignPrompt([], "qa-v1", { clientId: "x" })).toEqual({ version: "qa-v1", assignment: "default" });
    expect(bucketOf("a")).toBeGreaterThanOrEqual(0);
    expect(bucketOf("a")).toBeLessThan(100);
  });
});

describe("feedback as an evaluation set", () => {
  const rec = (o: Partial<FeedbackRecord>): FeedbackRecord => ({
    answerId: "00000000-aaaa",
    rating: "up",
    at: "2026-01-01T00:00:00Z",
    question: "q?",
    standaloneQuestion: "q?",
    answer: "a [1].",
    grounded: true,
    mode: "llm",
    model: "m",
    promptVersion: "qa-v1",
    generation: "g",
    cached: false,
    cited: [{ docId: "doc", page: 1 }],
    ...o,
  });
  it("down-rated with an expected answer becomes a question; the latest rating counts; no expected answer is for review", () => {
    const set = feedbackSet([
      rec({ answerId: "11111111-a", rating: "up" }),
      rec({ answerId: "11111111-a", rating: "down", expected: "Adam" }),
      rec({ answerId: "22222222-b", rating: "down" }),
      rec({ answerId: "33333333-c", rating: "down", expected: "The documents do not cover this.", promptVersion: "qa-v2" }),
      rec({ answerId: "44444444-d", rating: "up" }),
    ]);
    expect(set.items).toEqual([
      { id: "fb-11111111", question: "q?", support: null, page: null, doc: null, answers: ["Adam"], kind: "feedback" },
      { id: "fb-33333333", question: "q?", support: null, page: null, doc: null, answers: [], kind: "unanswerable" },
      { id: "fb-44444444", question: "q?", support: null, page: null, doc: "doc", answers: [], kind: "feedback" },
    ]);
    expect(set.toReview.map((r) => r.answerId)).toEqual(["22222222-b"]);
    expect(set.live).toEqual([
      { promptVersion: "qa-v1", up: 1, down: 2, upShare: 1 / 3 },
      { promptVersion: "qa-v2", up: 0, down: 1, upShare: 0 },
    ]);
  });
});

describe("the price file", () => {
  it("is valid, dated, sourced, and has hosted and self-hosted options", () => {
    const p = loadPricing(DEFAULT_PRICES_FILE);
    expect(p.asOf).toMatch(/^\d{4}-\d{2}/);
    expect(Object.keys(p.sources).length).toBeGreaterThan(0);
    for (const m of Object.values(p.hosted)) expect(p.sources[m.vendor], m.vendor).toMatch(/^https:\/\//);
    expect(p.hosted["gpt-4o-mini"]).toMatchObject({ input: 0.15, output: 0.6, tokenizer: "o200k_base" });
    expect(Object.keys(p.selfHosted).length).toBeGreaterThan(0);
  });
});

describe("the buy-vs-build bill", () => {
  const pricing = {
    currency: "USD" as const,
    asOf: "2025-08",
    sources: { openai: "https://openai.com/api/pricing/" },
    hosted: {
      "m-cheap": { vendor: "openai", input: 1, output: 2, tokenizer: "o200k_base" as const, kind: "chat" as const },
      "m-old": { vendor: "openai", input: 10, output: 20, tokenizer: "cl100k_base" as const, kind: "chat" as const },
      embed: { vendor: "openai", input: 0.02, output: 0, tokenizer: "cl100k_base" as const, kind: "embedding" as const },
    },
    selfHosted: { gpu: { model: "M 8B", gpus: 2, gpuHourUsd: 3.6, prefillTokensPerSecond: 1000, decodeTokensPerSecond: 100, utilization: 0.5, tokenizer: "approx" as const } },
  };
  const samples = [
    { id: "a", grounded: true, system: "You answer from passages.", user: "Question: which optimizer? Passages: Adam was used." },
    { id: "b", grounded: false, system: "x", user: "declined: never sent" },
  ];

  it("costs each option per 1,000 questions from its own token counts; declined questions cost nothing", () => {
    const r = costTable(samples, pricing, { outputTokens: 100, promptVersion: "qa-v1", sets: ["s.jsonl"], file: "p.json" });
    const o200 = countWith("o200k_base", samples[0]!.system) + countWith("o200k_base", samples[0]!.user) + CHAT_OVERHEAD_TOKENS;
    const cl100 = countWith("cl100k_base", samples[0]!.system) + countWith("cl100k_base", samples[0]!.user) + CHAT_OVERHEAD_TOKENS;
    const row = (n: string) => r.rows.find((x) => x.name === n)!;
    expect(r.questions).toBe(2);
    expect(r.modelCalls).toBe(1);
    expect(row("m-cheap").inputTokensPerQuestion).toBeCloseTo(o200 / 2, 1);
    expect(row("m-cheap").outputTokensPerQuestion).toBe(50);
    expect(row("m-cheap").usdPer1kQuestions).toBeCloseTo(((o200 / 2) * 1 + 50 * 2) / 1000, 4);
    expect(row("m-old").usdPer1kQuestions).toBeCloseTo(((cl100 / 2) * 10 + 50 * 20) / 1000, 4);
    // GPU seconds: (in / 1000 + 50 / 100) per question, 2 GPUs at $3.6/h, half the hours idle.
    const seconds = cl100 / 2 / 1000 + 50 / 100;
    expect(row("gpu").usdPer1kQuestions).toBeCloseTo(((seconds * 2 * 3.6) / 3600 / 0.5) * 1000, 4);
    expect(row("extractive").usdPer1kQuestions).toBe(0);
    expect(r.rows.map((x) => x.name)).not.toContain("embed");
    expect(r.rows.map((x) => x.usdPer1kQuestions)).toEqual([...r.rows.map((x) => x.usdPer1kQuestions)].sort((a, b) => a - b));
    const text = formatCostTable(r);
    for (const name of ["m-cheap", "m-old", "gpu", "extractive"]) expect(text).toContain(name);
    const page = renderCostHtml(r);
    expect(page.match(/<rect/g)).toHaveLength(4);
    expect(page).toContain("https://openai.com/api/pricing/");
  });

  it("--models keeps only the options asked for", () => {
    const r = costTable(samples, pricing, { models: ["m-old", "extractive"], promptVersion: "qa-v1", sets: [], file: "p.json" });
    expect(r.rows.map((x) => x.name).sort()).toEqual(["extractive", "m-old"]);
    expect(r.outputTokens).toBe(DEFAULT_OUTPUT_TOKENS);
  });
});

describe("the feedback store the configuration selects", () => {
  const settings = { poolMax: 2, poolWaitMs: 100, statementTimeoutMs: 1000, pollMs: 1000 };

  it("INDEX_STORE=file: DATA_DIR/feedback.jsonl, written and read back", async () => {
    const dir = await tempDir("data");
    const store = createFeedbackStore({ indexDir: dir, dataDir: dir, store: { kind: "file", ...settings } });
    expect(store).toBeInstanceOf(JsonlFeedbackStore);
    expect(store.location).toBe(`${dir}/feedback.jsonl`);
    const record: FeedbackRecord = {
      answerId: "eeeeeeee-1", rating: "up", at: "2026-01-01T00:00:00Z", question: "Q?", standaloneQuestion: "Q?", answer: "A [1].", grounded: true,
      mode: "llm", model: "m", promptVersion: "qa-v1", generation: "g", cached: false, cited: [{ docId: "transformer", page: 2 }],
    };
    await store.add(record);
    expect(await JsonlFeedbackStore.inDataDir(dir).all()).toEqual([record]);
  });

  it("INDEX_STORE=postgres: the feedback table on the store's pool (no connection until used)", async () => {
    const dir = await tempDir("data");
    const store = createFeedbackStore({ indexDir: dir, dataDir: dir, store: { kind: "postgres", databaseUrl: "postgres://u:secret@127.0.0.1:1/qa", ...settings } });
    try {
      expect(store).toBeInstanceOf(PostgresFeedbackStore);
      expect(store.location).toBe("the feedback table of postgres at postgres://u:***@127.0.0.1:1/qa");
    } finally {
      await store.close?.();
    }
    expect(() => createFeedbackStore({ indexDir: dir, dataDir: dir, store: { kind: "postgres", ...settings } })).toThrow(/needs DATABASE_URL/);
  });
});

describe("npm run eval -- --set feedback", () => {
  it("takes the word feedback as the live set, and exits 2 when no rated answer can be checked", async () => {
    const { main, parseEvalArgs, FEEDBACK_SET } = await import("../../src/cli/eval.js");
    expect(parseEvalArgs(["--set", "feedback"]).sets).toEqual([FEEDBACK_SET]);
    const dir = await tempDir("data");
    const store = JsonlFeedbackStore.inDataDir(dir);
    await store.add({
      answerId: "dddddddd-4", rating: "down", at: "2026-01-01T00:00:00Z", question: "Who?", standaloneQuestion: "Who?", answer: "?", grounded: true,
      mode: "llm", model: "m", promptVersion: "qa-v1", generation: "g", cached: false, cited: [],
    });
    const errors: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((m: unknown) => void errors.push(String(m)));
    try {
      expect(await main(["--set", "feedback", "--no-baseline"], { ...process.env, DATA_DIR: dir, LLM_PROVIDER: "extractive" })).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join("\n")).toMatch(/feedback to review .*dddddddd-4/);
    expect(errors.join("\n")).toMatch(/no rated answer in .*feedback\.jsonl can be checked \(1 records, 1 down-rated/);
  });
});

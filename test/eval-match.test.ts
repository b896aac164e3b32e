import { describe, expect, it } from "vitest";
import { isAppError } from "../src/errors.js";
import { parseEvalSet, type EvalItem } from "../src/eval/dataset.js";
import { answerCorrect, firstHitRank, fold, isHit, matchSupport } from "../src/eval/match.js";
import { formatSummary, renderHtml, type EvalReport } from "../src/eval/report/index.js";
import { choose, crossValidate, makeFolds, objective, parseGrid, settingsOf, type SettingRun } from "../src/eval/cv.js";
import { groupMetrics, percentile, summarize, type ItemRecord } from "../src/eval/metrics.js";
import { runEval } from "../src/eval/run.js";
import { GATE, GATES, checkGate, gateValues } from "../src/eval/thresholds.js";

const item = (over: Partial<EvalItem> = {}): EvalItem => ({
  id: "q1",
  question: "Which optimizer was used to train the Transformer?",
  doc: "attention",
  answers: ["Adam"],
  support: "We used the Adam optimizer [20] with β1 = 0.9, β2 = 0.98",
  page: 7,
  kind: "fact",
  ...over,
});

const unanswerable = (id = "u1"): EvalItem => ({ id, question: "What is the capital of Australia?", doc: null, answers: [], support: null, page: null, kind: "unanswerable" });

describe("fold", () => {
  it("applies NFKC, lower-cases, strips punctuation and hyphens, collapses whitespace", () => {
    expect(fold("  The ﬁne-tuned  MODEL,\n(GPT–2)!  ")).toBe("the fine tuned model gpt 2");
    expect(fold("β1 = 0.9; “quoted” — it’s")).toBe("β1 0 9 quoted it s");
    expect(fold("soft\u00adhyphen")).toBe("softhyphen");
    expect(fold("")).toBe("");
  });

  it("folds full-width characters (NFKC)", () => {
    expect(fold("ＧＰＴ３")).toBe("gpt3");
  });
});

describe("isHit", () => {
  const chunk = "5.3 Optimizer\nWe used the Adam optimizer [20] with β1 = 0.9, β2 = 0.98 and ε = 10−9. We varied the learning rate";

  it("finds the support in a chunk of the right document", () => {
    expect(isHit(chunk, "attention", item())).toBe(true);
    expect(matchSupport(chunk, item().support!)).toBe("exact");
  });

  it("requires the right document", () => {
    expect(isHit(chunk, "gpt1", item())).toBe(false);
  });

  it("is never a hit for unanswerable items", () => {
    expect(isHit(chunk, "attention", unanswerable())).toBe(false);
  });

  it("tolerates end-of-line hyphenation, spacing and punctuation differences", () => {
    const support = "we concatenate the premise p and hypothesis h token sequences, with a delimiter token ($) in between.";
    const extracted = "For entailment tasks, we con-\ncatenate the premise p and hypothesis h token se- quences, with a delimiter token ( $ ) in between";
    expect(isHit(extracted, "gpt1", item({ doc: "gpt1", support }))).toBe(true);
  });

  it("accepts a support cut at a chunk edge when >= 60% of its words run contiguously", () => {
    const support = "we scraped all outbound links from Reddit, a social media platform, which received at least 3 karma.";
    // 17 words; the chunk ends after "platform" (11 words = 65%).
    const head = "Instead, we scraped all outbound links from Reddit, a social media platform";
    expect(matchSupport(head, support)).toBe("run");
    expect(isHit(head, "gpt2", item({ doc: "gpt2", support }))).toBe(true);
    // The tail alone (6 words = 35%) is not enough.
    expect(isHit("platform, which received at least 3 karma. This can be thought of", "gpt2", item({ doc: "gpt2", support }))).toBe(false);
  });

  it("accepts table rows whose cells come in another order (>= 85% of distinct words)", () => {
    const support = "Generation 45.6% Open QA 12.4% Brainstorming 11.2%";
    // Extracted column by column: labels first, then the numbers.
    const table = "Use-case Generation Open QA Brainstorming Chat (%) 45.6% 12.4% 11.2% 8.4%";
    expect(matchSupport(table, support)).toBe("bag");
    expect(isHit(table, "instructgpt", item({ doc: "instructgpt", support }))).toBe(true);
  });

  it("does not count a passage that only mentions the topic", () => {
    const other = "The Transformer uses multi-head attention. We trained on 8 P100 GPUs with a learning rate schedule.";
    expect(isHit(other, "attention", item())).toBe(false);
  });

  it("firstHitRank gives the 1-based rank of the first hit", () => {
    const retrieved = [
      { docId: "attention", text: "unrelated text about BLEU scores" },
      { docId: "gpt1", text: chunk },
      { docId: "attention", text: chunk },
    ];
    expect(firstHitRank(retrieved, item())).toBe(3);
    expect(firstHitRank(retrieved.slice(0, 2), item())).toBeNull();
  });
});

describe("answerCorrect", () => {
  it("matches any expected answer case-insensitively", () => {
    expect(answerCorrect("They used adam with warmup.", item())).toBe(true);
    expect(answerCorrect("SGD with momentum", item())).toBe(false);
  });

  it("folds NFKC and whitespace", () => {
    expect(answerCorrect("GPT-3 has １７５  billion\nparameters", item({ answers: ["175 billion"] }))).toBe(true);
    expect(answerCorrect("costs $0.624 / prediction", item({ answers: ["$0.624", "0.624"] }))).toBe(true);
  });

  it("is false for items without expected answers", () => {
    expect(answerCorrect("Canberra", unanswerable())).toBe(false);
  });
});

const record = (over: Partial<ItemRecord>): ItemRecord => ({
  id: "x",
  question: "?",
  kind: "fact",
  doc: "attention",
  page: 1,
  answerable: true,
  hitRank: null,
  retrieved: [],
  searchMs: 5,
  answer: "a",
  grounded: true,
  abstained: false,
  correct: false,
  citesRightDoc: null,
  latencyMs: 10,
  promptTokens: 0,
  completionTokens: 0,
  costUsd: 0,
  ...over,
});

describe("metrics", () => {
  const records: ItemRecord[] = [
    record({ id: "a", hitRank: 1, correct: true, citesRightDoc: true, latencyMs: 10, promptTokens: 100, completionTokens: 10, costUsd: 0.001 }),
    record({ id: "b", hitRank: 3, correct: true, citesRightDoc: false, latencyMs: 20, kind: "number", doc: "gpt1" }),
    record({ id: "c", hitRank: 7, correct: false, citesRightDoc: true, latencyMs: 30, kind: "number", doc: "gpt1" }),
    record({ id: "d", hitRank: null, correct: false, grounded: false, abstained: true, answer: "The documents do not cover this.", latencyMs: 40 }),
    record({ id: "u", kind: "unanswerable", doc: null, page: null, answerable: false, hitRank: null, grounded: false, abstained: true, correct: true, latencyMs: 50 }),
    record({ id: "v", kind: "unanswerable", doc: null, page: null, answerable: false, hitRank: null, grounded: true, abstained: false, correct: false, latencyMs: 60 }),
  ];
  const s = summarize(records);

  it("computes recall@k and MRR over answerable items", () => {
    expect(s.answerable).toBe(4);
    expect(s.unanswerable).toBe(2);
    expect(s.recallAt1).toBe(0.25);
    expect(s.recallAt5).toBe(0.5);
    expect(s.recallAt10).toBe(0.75);
    expect(s.mrr).toBeCloseTo((1 + 1 / 3 + 1 / 7 + 0) / 4, 10);
  });

  it("computes accuracy, abstention and false abstention", () => {
    expect(s.accuracy).toBe(0.5);
    expect(s.abstention).toBe(0.5);
    expect(s.falseAbstention).toBe(0.25);
    // Of the three answered answerable items, two cite the expected document; the declined one is not counted.
    expect(s.citationAccuracy).toBeCloseTo(2 / 3, 10);
  });

  it("splits by kind and by document (unanswerable items have no document)", () => {
    expect(Object.keys(s.byKind)).toEqual(["fact", "number", "unanswerable"]);
    expect(s.byKind.number?.recallAt5).toBe(0.5);
    expect(s.byKind.unanswerable?.recallAt5).toBeNull();
    expect(s.byKind.unanswerable?.abstention).toBe(0.5);
    expect(Object.keys(s.byDoc)).toEqual(["attention", "gpt1"]);
    expect(s.byDoc.gpt1?.n).toBe(2);
  });

  it("computes latency percentiles and totals", () => {
    expect(s.latency.askP50).toBe(30);
    expect(s.latency.askP95).toBe(60);
    expect(s.tokens).toEqual({ prompt: 100, completion: 10, total: 110 });
    expect(s.costUsd).toBe(0.001);
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  });

  it("runEval scores search and ask functions", async () => {
    const set = [item(), unanswerable()];
    const chunk = "We used the Adam optimizer [20] with β1 = 0.9, β2 = 0.98 and ε = 10−9.";
    const run = await runEval({
      set,
      label: "fake",
      search: async () => [
        { docId: "attention", text: "nothing here" },
        { docId: "attention", text: chunk },
      ],
      ask: async (q) => (q.includes("Australia") ? { answer: "The documents do not cover this.", grounded: false } : { answer: "Adam [1]", grounded: true }),
    });
    expect(run.records[0]?.hitRank).toBe(2);
    expect(run.records[0]?.correct).toBe(true);
    expect(run.records[1]?.correct).toBe(true);
    expect(run.summary.recallAt1).toBe(0);
    expect(run.summary.recallAt5).toBe(1);
    expect(run.summary.mrr).toBe(0.5);
    expect(run.summary.accuracy).toBe(1);
    expect(run.summary.abstention).toBe(1);
    expect(run.summary.falseAbstention).toBe(0);
  });

  it("records errors as misses instead of aborting the run", async () => {
    const run = await runEval({
      set: [item()],
      search: async () => {
        throw new Error("boom");
      },
      ask: async () => ({ answer: "Adam", grounded: true }),
    });
    expect(run.records[0]?.error).toContain("boom");
    expect(run.summary.recallAt5).toBe(0);
    expect(run.summary.errors).toBe(1);
  });
});

describe("gate", () => {
  const ok = { recallAt1: 0.65, recallAt5: 0.85, mrr: 0.72, accuracy: 0.62, abstention: 0.75, falseAbstention: 0.06 };

  it("passes when every threshold is met, exactly at the thresholds too", () => {
    expect(checkGate(ok)).toEqual([]);
  });

  it("names each failing metric, a missing one included", () => {
    const failures = checkGate({ ...ok, recallAt5: 0.8, abstention: null, falseAbstention: 0.2 });
    expect(failures.map((f) => f.metric)).toEqual(["recallAt5", "abstention", "falseAbstention"]);
    expect(failures[0]?.message).toMatch(/recall@5 is 0\.800, must be >= 0\.85/);
  });

  it("gates the held-out set with its own thresholds", () => {
    expect(checkGate({ ...ok, accuracy: 0.55 }, GATES.heldout)).toEqual([]);
    expect(checkGate({ ...ok, accuracy: 0.55 }).map((f) => f.metric)).toEqual(["accuracy"]);
    expect(GATE).toEqual(gateValues("dev"));
  });
});

describe("sweeps and cross-validation", () => {
  const items = [
    ...Array.from({ length: 12 }, (_, i) => ({ id: `f${i}`, kind: "fact" as const })),
    ...Array.from({ length: 5 }, (_, i) => ({ id: `u${i}`, kind: "unanswerable" as const })),
  ];
  /** A setting whose answerable items hit at rank `rank` and are right when `right(id)`; unanswerable ones declined when `declines`. */
  const setting = (name: string, rank: (id: string) => number | null, right: (id: string) => boolean, declines: boolean): SettingRun => ({
    overrides: { KNOB: name },
    records: items.map((it) =>
      it.kind === "unanswerable"
        ? record({ id: it.id, kind: "unanswerable", doc: null, page: null, answerable: false, hitRank: null, grounded: !declines, abstained: declines, correct: declines })
        : record({ id: it.id, hitRank: rank(it.id), correct: right(it.id) }),
    ),
  });

  it("expands a grid into every combination, the first values first", () => {
    const grid = parseGrid(["A=1,2", "B=x,y,z"]);
    const all = settingsOf(grid);
    expect(all).toHaveLength(6);
    expect(all[0]).toEqual({ A: "1", B: "x" });
    expect(new Set(all.map((s) => `${s.A}${s.B}`)).size).toBe(6);
    expect(() => parseGrid(["A="])).toThrow(/KEY=v1,v2/);
  });

  it("makes stratified, disjoint folds that cover every item", () => {
    const folds = makeFolds(items, 5);
    expect(folds.flat().sort()).toEqual(items.map((i) => i.id).sort());
    for (const f of folds) expect(f.filter((id) => id.startsWith("u"))).toHaveLength(1);
    expect(makeFolds(items, 5)).toEqual(folds); // deterministic
  });

  it("scores a setting by ranking, accuracy and abstention", () => {
    const good = groupMetrics(setting("good", () => 1, () => true, true).records);
    const bad = groupMetrics(setting("bad", () => 5, () => false, false).records);
    expect(objective(good)).toBeCloseTo(1 + 1 + 0.5, 6);
    expect(objective(bad)).toBeCloseTo((0 + 0.2) / 2, 6);
  });

  it("chooses on the training folds and scores on the held-out one", () => {
    // "fits" is right on exactly the even items; "steady" is right on two thirds of all items.
    const fits = setting("fits", () => 1, (id) => Number(id.slice(1)) % 2 === 0, true);
    const steady = setting("steady", () => 1, (id) => Number(id.slice(1)) % 3 !== 0, true);
    const cv = crossValidate([fits, steady], items, 3);
    expect(cv.folds).toHaveLength(3);
    for (const f of cv.folds) {
      const train = new Set(items.map((i) => i.id).filter((id) => !f.test.includes(id)));
      expect(f.chosen).toEqual(choose([fits, steady], train).run.overrides);
    }
    expect(cv.spread.accuracy.mean).not.toBeNull();
    expect(cv.pooled.n).toBe(items.length);
    expect(cv.defaults.accuracy).toBeCloseTo(6 / 12, 6);
    expect(cv.chosenOnAll.overrides).toEqual({ KNOB: "steady" });
  });
});

describe("question sets", () => {
  const line = (o: object) => JSON.stringify(o);

  it("parses valid JSONL", () => {
    const set = parseEvalSet([line(item()), "", line(unanswerable())].join("\n"));
    expect(set.map((i) => i.id)).toEqual(["q1", "u1"]);
  });

  it("reports every bad line with its field", () => {
    const bad = [line({ ...item(), kind: "trivia" }), "{not json", line({ ...item(), id: "q2", doc: null }), line(item())].join("\n");
    try {
      parseEvalSet(bad, "bad.jsonl");
      expect.fail("should have thrown");
    } catch (err) {
      if (!isAppError(err, "EVAL_SET_INVALID")) throw err;
      expect(err.details?.file).toBe("bad.jsonl");
      const issues = (err.details?.issues ?? []).map((i) => `line ${i.line}: ${i.path || "(item)"}: ${i.message}`).join("\n");
      expect(issues).toMatch(/line 1: kind/);
      expect(issues).toMatch(/line 2: \(item\): not valid JSON/);
      expect(issues).toMatch(/line 3: doc: required/);
      expect(issues).not.toMatch(/line 4/);
      expect(err.message).toMatch(/line 3:\n\s+✖ required unless kind is unanswerable\n\s+→ at doc/);
    }
  });

  it("rejects duplicate ids and unanswerable items with a document", () => {
    expect(() => parseEvalSet([line(item()), line(item())].join("\n"))).toThrow(/duplicate id "q1"/);
    expect(() => parseEvalSet(line({ ...unanswerable(), doc: "gpt1" }))).toThrow(/must be null for an unanswerable item\n\s+→ at doc/);
  });
});

describe("report", () => {
  it("renders the text table and a self-contained HTML page", async () => {
    const run = await runEval({
      set: [item(), unanswerable()],
      label: "ours",
      search: async () => [{ docId: "attention", text: item().support! }],
      ask: async () => ({ answer: "Adam <b>", grounded: true }),
    });
    const report: EvalReport = {
      createdAt: new Date().toISOString(),
      set: { file: "dev.jsonl", items: 2, answerable: 1, unanswerable: 1 },
      runs: [run],
      baseline: null,
      gate: { run: "ours", passed: false, failures: checkGate(run.summary) },
      notes: [],
    };
    expect(formatSummary(report)).toMatch(/recall@5\s+100\.0%\s+>= 85\.0%/);
    const html = renderHtml(report);
    expect(html).toContain("<svg");
    expect(html).toContain("Adam &lt;b&gt;");
    expect(html).not.toMatch(/<script|<link /);
  });
});

describe("html report template", () => {
  it("escapes every interpolated value and keeps nested markup", async () => {
    const { html } = await import("../src/eval/report/index.js");
    const evil = `<script>alert("x")</script>`;
    const out = html`<p title="${evil}">${evil}${html`<b>${"a & b"}</b>`}${[html`<i>1</i>`, "<2>"]}</p>`.markup;
    expect(out).toBe(`<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<b>a &amp; b</b><i>1</i>&lt;2&gt;</p>`);
  });
});

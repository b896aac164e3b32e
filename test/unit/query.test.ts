import { describe, expect, it } from "vitest";
import { analyzeQuery, questionForm, share, type CorpusVocabulary } from "../../src/retrieval/query.js";

/** A corpus that knows a few terms (IDF 2) and names one document "GPT-3". */
const corpus = (known: string[] = ["gpt", "3", "gpt3", "model", "train", "token", "reward", "predictor"]): CorpusVocabulary => ({
  idf: (t) => (known.includes(t) ? 2 : 5),
  has: (t) => known.includes(t),
  named: (text) => (/gpt-3/i.test(text) ? [{ docId: "gpt3", nameTerms: ["gpt", "3"] }] : []),
});

describe("questionForm: the kind of answer a question asks for", () => {
  it.each([
    ["Why did the authors sample some datasets more often?", "reason"],
    ["How many tokens does a book contain?", "quantity"],
    ["How long were the video clips?", "quantity"],
    ["What share of the dataset is Generation?", "quantity"],
    ["What is GPT-2's vocabulary size?", "quantity"],
    ["What does one prediction cost with GPT-4?", "quantity"],
    ["Which optimizer was used to train the Transformer?", "entity"],
    ["What kind of classifier was used to filter Common Crawl?", "entity"],
    ["What do the authors call the drop in performance?", "entity"],
    ["How does GPT-1 pack the premise and hypothesis?", "method"],
    ["What is distillation?", "definition"],
    ["Did the team try anything simpler than RL?", "yesno"],
  ])("%s -> %s", (question, kind) => {
    expect(questionForm(question).kind).toBe(kind);
  });

  it("takes the focus noun after which/what and after how many", () => {
    expect(questionForm("Which RL algorithm was used for the Atari games?").focus).toEqual(["RL", "algorithm"]);
    expect(questionForm("What kind of classifier was used?").focus).toEqual(["classifier"]);
    expect(questionForm("How many customer prompts are in the split?").focus).toEqual(["customer", "prompts"]);
    expect(questionForm("What does the Transformer add so it can use token order?").focus).toEqual([]);
  });

  it("reads the main clause, not a subordinate one", () => {
    expect(questionForm("If learned and fixed encodings scored the same, why keep the fixed ones?").kind).toBe("reason");
    expect(questionForm("When GPT-3 packs documents into one sequence, what marks the boundaries?").kind).toBe("entity");
    expect(questionForm("What data structure did they use to measure how much text overlaps?").kind).toBe("entity");
  });
});

describe("analyzeQuery", () => {
  it("weights terms by IDF, keeps question numbers and named documents", () => {
    const q = analyzeQuery("How many tokens was each GPT-3 model trained on in 2020?", corpus());
    expect(q.kind).toBe("quantity");
    expect(q.weights.get("token")).toBe(2);
    expect(q.numbers.has("2020")).toBe(true);
    expect(q.named.map((n) => n.docId)).toEqual(["gpt3"]);
    expect(q.totalWeight).toBeCloseTo([...q.weights.values()].reduce((a, b) => a + b, 0), 9);
  });

  it("keeps a compound's joined form only when the corpus uses it", () => {
    const q = analyzeQuery("Why does the reward-predictor of GPT-3 fail?", corpus());
    const byTerm = new Map(q.terms.map((t) => [t.term, t]));
    expect(byTerm.get("gpt3")?.joined).toBe(true);
    expect(byTerm.has("rewardpredictor")).toBe(false);
    expect(byTerm.get("reward")?.joined).toBe(false);
  });

  it("share() is the IDF-weighted fraction of the question's terms present", () => {
    const q = analyzeQuery("reward predictor", corpus());
    expect(share(q, (t) => t === "reward")).toBeCloseTo(0.5, 9);
    expect(share(q, () => false)).toBe(0);
  });
});

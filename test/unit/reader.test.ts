import { describe, expect, it } from "vitest";
import { numberPassages } from "../../src/answer/context.js";
import { judgeEvidence } from "../../src/answer/evidence.js";
import { DEFAULT_READER, extractAnswer } from "../../src/answer/extractive.js";
import type { Chunk } from "../../src/store/index.js";
import { analyzePassage } from "../../src/retrieval/passages.js";
import { analyzeQuery, type CorpusVocabulary } from "../../src/retrieval/query.js";
import type { SearchHit } from "../../src/retrieval/retriever.js";
import { DEFAULT_SENTENCE_WEIGHTS } from "../../src/retrieval/sentence-score.js";
import { terms } from "../../src/text/analyze.js";

const chunk = (id: number, text: string, docId = "doc"): Chunk => ({ id: `${docId}:${id}`, docId, title: "A paper", page: 1, pageEnd: 1, section: null, position: id, text, hash: `h${id}` });
const hit = (c: Chunk, score: number): SearchHit => ({ chunk: c, score, lexicalScore: score, denseScore: 0 });

function read(question: string, texts: string[], known?: Set<string>) {
  const chunks = texts.map((t, i) => chunk(i, t));
  const vocab = known ?? new Set(chunks.flatMap((c) => terms(c.text)));
  const corpus: CorpusVocabulary = { idf: (t) => (vocab.has(t) ? 1 : 3), has: (t) => vocab.has(t), named: () => [] };
  const q = analyzeQuery(question, corpus);
  const passages = numberPassages(chunks.map((c, i) => hit(c, 1 - i * 0.01)));
  const cache = new Map(chunks.map((c) => [c.id, { analysis: analyzePassage(c.text), heading: new Set<string>(), headingIds: new Int32Array(0), words: new Set<string>() }]));
  const answer = extractAnswer(q, passages, (id) => cache.get(id)!, { sentence: DEFAULT_SENTENCE_WEIGHTS, ...DEFAULT_READER });
  return { q, answer };
}

describe("extractive reader", () => {
  it("reads every passage, not only the first, and cites the one it answers from", () => {
    const { answer } = read("How many parameters does GPT-3 have?", [
      "GPT-3 is evaluated on many tasks in the few-shot setting.",
      "We train GPT-3, an autoregressive language model with 175 billion parameters.",
    ]);
    expect(answer.text).toContain("175 billion parameters");
    expect(answer.cited).toEqual([2]);
    expect(answer.text.endsWith("[2]")).toBe(true);
  });

  it("answers with a sentence, not the heading before it", () => {
    const { answer } = read("Which optimizer was used?", ["5.3 Optimizer\nWe used the Adam optimizer with a warmup schedule."]);
    expect(answer.text).toMatch(/^We used the Adam optimizer/);
  });

  it("keeps answers short", () => {
    const long = Array.from({ length: 12 }, (_, i) => `Sentence ${i} talks about reward models and labelers at some length here.`).join(" ");
    const { answer } = read("What do labelers do with reward models?", [long]);
    expect(answer.text.length).toBeLessThanOrEqual(DEFAULT_READER.maxChars + 10);
  });

  it("returns no answer when no passage shares a word with the question", () => {
    const { answer } = read("capital of Australia", ["Transformers use attention."]);
    expect(answer).toMatchObject({ text: "", cited: [], coverage: 0 });
  });
});

describe("judgeEvidence", () => {
  const documents = { uses: (doc: string, t: string) => doc === "gpt3" && t !== "dollar" };
  const limits = { threshold: 0.3, maxNovelty: 0.25, maxNamedNovelty: 0.35, minCandidate: 1 };
  const corpus = (known: string[]): CorpusVocabulary => ({ idf: () => 1, has: (t) => known.includes(t), named: () => [] });

  it("declines questions about words the corpus never uses", () => {
    const q = analyzeQuery("What is the capital of Australia?", corpus(["capit"]));
    expect(judgeEvidence(q, { coverage: 0.9, candidate: 1.5 }, documents, limits)).toMatchObject({ grounded: false });
    expect(judgeEvidence(q, { coverage: 0.9, candidate: 1.5 }, documents, limits).novelty).toBeGreaterThan(0.25);
  });

  it("declines when the best window covers too little of the question", () => {
    const q = analyzeQuery("Which optimizer trained the model?", corpus(["optim", "train", "model"]));
    expect(judgeEvidence(q, { coverage: 0.2, candidate: 1.5 }, documents, limits).grounded).toBe(false);
    expect(judgeEvidence(q, { coverage: 0.8, candidate: 1.5 }, documents, limits).grounded).toBe(true);
  });

  it("declines a quantity question whose window holds no number tied to it", () => {
    const q = analyzeQuery("How many GPUs trained the model?", corpus(["gpu", "train", "model"]));
    expect(judgeEvidence(q, { coverage: 1, candidate: 0.5 }, documents, limits).grounded).toBe(false);
    expect(judgeEvidence(q, { coverage: 1, candidate: 1.5 }, documents, limits).grounded).toBe(true);
  });

  it("does not count a compound's unknown joined form as novelty", () => {
    const q = analyzeQuery("Why does the reward-predictor fail?", corpus(["reward", "predictor", "fail"]));
    expect(judgeEvidence(q, { coverage: 1, candidate: 0 }, documents, limits).novelty).toBe(0);
  });
});
